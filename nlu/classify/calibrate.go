package classify

import (
	"math"
	"slices"
	"sort"
)

// Held is a held-out example scored by a model: its decision values and the
// index of its gold class (-1 when the model does not know the class, as
// for an out-of-scope example when no OOS class was trained).
type Held struct {
	Dec  []float64
	Gold int
	OOS  bool // the gold label is OOS
}

// Score scores held-out examples with m.
func (m *Model) Score(examples []Example) []Held {
	out := make([]Held, len(examples))
	for i, ex := range examples {
		out[i] = Held{Dec: m.Decision(ex.Text), Gold: slices.Index(m.Classes, ex.Intent), OOS: ex.Intent == OOS}
	}
	return out
}

// FitTemperature returns the temperature that minimises the log-loss of the
// softmax over held-out examples of known classes.
func FitTemperature(held []Held) float64 {
	nll := func(t float64) float64 {
		s, n := 0.0, 0
		for _, h := range held {
			if h.Gold < 0 {
				continue
			}
			p := softmax(h.Dec, t)
			s -= math.Log(max(p[h.Gold], 1e-12))
			n++
		}
		if n == 0 {
			return 0
		}
		return s / float64(n)
	}
	// a coarse scan in log space, then golden-section refinement
	best, bestV := 1.0, math.Inf(1)
	for e := -1.0; e <= 2.5; e += 0.125 {
		t := math.Pow(10, e)
		if v := nll(t); v < bestV {
			best, bestV = t, v
		}
	}
	lo, hi := math.Log10(best)-0.125, math.Log10(best)+0.125
	g := (math.Sqrt(5) - 1) / 2
	for range 30 {
		a, b := hi-g*(hi-lo), lo+g*(hi-lo)
		if nll(math.Pow(10, a)) < nll(math.Pow(10, b)) {
			hi = b
		} else {
			lo = a
		}
	}
	return math.Pow(10, (lo+hi)/2)
}

// Decide returns the predicted class index for probabilities p, or -1 for
// out of scope: when the OOS class wins or the top probability is below
// threshold.
func Decide(p []float64, oos int, threshold float64) (int, float64) {
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	if best == oos || p[best] < threshold {
		return -1, p[best]
	}
	return best, p[best]
}

// ChooseThreshold picks the out-of-scope threshold on held-out examples
// that include out-of-scope ones: the cut-off on the top probability that
// maximises the accuracy over all of them (an in-scope example counts when
// its intent is right and not rejected, an out-of-scope one when it is
// rejected). Every message counts the same, so the cut-off does not reject
// many in-scope messages to catch a few more out-of-scope ones. It returns
// 0 when the held-out set has no out-of-scope or no in-scope example.
func ChooseThreshold(held []Held, temperature float64, oos int) float64 {
	type row struct {
		conf    float64
		correct bool // in scope and right before the threshold
		isOOS   bool
		caught  bool // out of scope and already rejected by the OOS class
	}
	var rows []row
	nIn, nOut := 0, 0
	for _, h := range held {
		p := softmax(h.Dec, temperature)
		k, c := Decide(p, oos, 0)
		r := row{conf: c, isOOS: h.OOS}
		if h.OOS {
			nOut++
			r.caught = k < 0
		} else {
			nIn++
			r.correct = k >= 0 && k == h.Gold
		}
		rows = append(rows, r)
	}
	if nIn == 0 || nOut == 0 {
		return 0
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].conf < rows[j].conf })
	// a threshold just above rows[i].conf rejects rows[0..i]
	right := 0
	for _, r := range rows {
		if r.correct || r.caught {
			right++
		}
	}
	bestT, best := 0.0, right
	for i, r := range rows {
		if r.correct {
			right--
		}
		if r.isOOS && !r.caught {
			right++
		}
		if i+1 < len(rows) && rows[i+1].conf == r.conf {
			continue
		}
		if right > best {
			t := r.conf + 1e-6
			if i+1 < len(rows) {
				t = (r.conf + rows[i+1].conf) / 2
			}
			bestT, best = t, right
		}
	}
	return bestT
}

// Train fits a calibrated model: it holds out every fifth example of each
// class (classes with fewer than five examples stay whole), fits on the
// rest, chooses the temperature and the out-of-scope threshold on the
// held-out part, then fits again on everything and keeps those choices.
// When the background set stands in for the out-of-scope class, a fifth of
// it is held out like the rest, so that the threshold is chosen on
// out-of-scope messages the model has not seen.
func Train(examples []Example, cfg Config) (*Model, error) {
	cfg = cfg.withDefaults()
	all, weights := withBackground(examples, cfg)
	if weights == nil {
		weights = make([]float64, len(all))
		for i := range weights {
			weights[i] = 1
		}
	}
	fitEx, fitW, held := splitHoldout(all, weights, 5)
	if len(held) == 0 || len(labels(fitEx)) < 2 {
		return fit(all, weights, cfg)
	}
	m0, err := fit(fitEx, fitW, cfg)
	if err != nil {
		return nil, err
	}
	scored := m0.Score(held)
	t := FitTemperature(scored)
	th := ChooseThreshold(scored, t, m0.oos)
	m, err := fit(all, weights, cfg)
	if err != nil {
		return nil, err
	}
	m.Temperature, m.Threshold = t, th
	return m, nil
}

// Calibrate sets m's temperature, and its threshold when val has
// out-of-scope examples, from a validation set.
func (m *Model) Calibrate(val []Example) {
	scored := m.Score(val)
	m.Temperature = FitTemperature(scored)
	m.Threshold = ChooseThreshold(scored, m.Temperature, m.oos)
}

// splitHoldout holds out every every-th example of each class that has at
// least every examples.
func splitHoldout(examples []Example, weights []float64, every int) (fit []Example, fitW []float64, held []Example) {
	count := map[string]int{}
	for _, ex := range examples {
		count[ex.Intent]++
	}
	seen := map[string]int{}
	for i, ex := range examples {
		seen[ex.Intent]++
		if count[ex.Intent] >= every && seen[ex.Intent]%every == 0 {
			held = append(held, ex)
		} else {
			fit = append(fit, ex)
			fitW = append(fitW, weights[i])
		}
	}
	return fit, fitW, held
}

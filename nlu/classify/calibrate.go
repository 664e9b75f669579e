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
	Dec   []float64
	Gold  int
	OOS   bool    // the gold label is OOS
	Cover float64 // the share of the message's words the model knows (see Model.Shrink)
}

// Score scores held-out examples with m.
func (m *Model) Score(examples []Example) []Held {
	out := make([]Held, len(examples))
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	for i, ex := range examples {
		acc := m.decision(s, ex.Text)
		dec := make([]float64, len(acc))
		for k, a := range acc {
			dec[k] = float64(a)
		}
		out[i] = Held{Dec: dec, Gold: slices.Index(m.Classes, ex.Intent), OOS: ex.Intent == OOS, Cover: s.cover}
	}
	return out
}

// FitTemperature returns the temperature that minimises the log-loss of the
// softmax over held-out examples of known classes.
func FitTemperature(held []Held) float64 {
	t, _ := fitTemperature(held, calibration{})
	return t
}

// fitCalibration returns the calibration that minimises the log-loss over
// held-out examples of known classes: first the temperature, over all of
// them (messages the model knows every word of are the bulk, and shrink
// and thin do not touch them), then the shrink and thin shares on a grid,
// over the messages with words the model does not know. With no such
// message the shrink is 0 and the thin share MinThin.
func fitCalibration(held []Held) calibration {
	cal := calibration{1, 0, MinThin}
	cal.t, _ = fitTemperature(held, cal)
	var few []Held
	for _, h := range held {
		if h.Gold >= 0 && h.Cover < 1 {
			few = append(few, h)
		}
	}
	if len(few) == 0 {
		return cal
	}
	best, bestV := cal, math.Inf(1)
	for s := range 10 {
		for th := range 10 {
			c := calibration{cal.t, float64(s) / 10, max(float64(th)/10, MinThin)}
			if v := logLoss(few, c, nil); v < bestV-1e-12 {
				best, bestV = c, v
			}
		}
	}
	return best
}

// logLoss is the mean negative log-likelihood of the gold classes of held
// under c (buf: scratch space).
func logLoss(held []Held, c calibration, buf []float64) float64 {
	s, n := 0.0, 0
	for _, h := range held {
		if h.Gold < 0 {
			continue
		}
		buf = append(buf[:0], h.Dec...)
		p := c.apply(buf, h.Cover)
		s -= math.Log(max(p[h.Gold], 1e-12))
		n++
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// fitTemperature returns the temperature that minimises the log-loss with
// c's shrink and thin shares, and that log-loss.
func fitTemperature(held []Held, c calibration) (float64, float64) {
	buf := make([]float64, 0, 64)
	nll := func(t float64) float64 {
		c.t = t
		return logLoss(held, c, buf)
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
	t := math.Pow(10, (lo+hi)/2)
	return t, nll(t)
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
	return chooseThreshold(held, calibration{t: temperature}, oos)
}

func chooseThreshold(held []Held, cal calibration, oos int) float64 {
	type row struct {
		conf    float64
		correct bool // in scope and right before the threshold
		isOOS   bool
		caught  bool // out of scope and already rejected by the OOS class
	}
	var rows []row
	nIn, nOut := 0, 0
	for _, h := range held {
		p := cal.apply(slices.Clone(h.Dec), h.Cover)
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
	cfg = cfg.withDefaults().forData(examples)
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
	cal := fitCalibration(scored)
	th := chooseThreshold(scored, cal, m0.oos)
	m, err := fit(all, weights, cfg)
	if err != nil {
		return nil, err
	}
	m.Temperature, m.Shrink, m.Thin, m.Threshold = cal.t, cal.shrink, cal.thin, th
	return m, nil
}

// Calibrate sets m's temperature and shrink, and its threshold when val has
// out-of-scope examples, from a validation set.
func (m *Model) Calibrate(val []Example) {
	scored := m.Score(val)
	cal := fitCalibration(scored)
	m.Temperature, m.Shrink, m.Thin = cal.t, cal.shrink, cal.thin
	m.Threshold = chooseThreshold(scored, cal, m.oos)
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

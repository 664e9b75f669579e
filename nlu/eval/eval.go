// Package eval measures an intent classifier on a labelled test set:
// accuracy, macro F1, calibration error, out-of-scope recall, per-intent
// precision and recall, the commonest confusions and the time a
// classification takes.
package eval

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charlabot/charla/nlu/classify"
)

// OOS is the label of out-of-scope examples.
const OOS = classify.OOS

// ReadJSONL reads {"text","intent"} lines. Blank lines are skipped; a line
// that is not such an object is an error naming its line number.
func ReadJSONL(r io.Reader) ([]classify.Example, error) {
	var out []classify.Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var ex classify.Example
		if err := json.Unmarshal([]byte(line), &ex); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if ex.Intent == "" {
			return nil, fmt.Errorf("line %d: no intent", n)
		}
		out = append(out, ex)
	}
	return out, sc.Err()
}

// ReadFile reads a JSONL file of examples.
func ReadFile(path string) ([]classify.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ex, err := ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return ex, nil
}

// PR is an intent's precision, recall and support.
type PR struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Confusion is a gold intent often predicted as another.
type Confusion struct {
	Gold      string `json:"gold"`
	Predicted string `json:"predicted"`
	Count     int    `json:"count"`
}

// Report is the outcome of an evaluation. Figures are fractions in [0, 1].
type Report struct {
	Examples        int      `json:"examples"`
	Intents         int      `json:"intents"`
	Accuracy        float64  `json:"accuracy"`
	MacroF1         float64  `json:"macro_f1"`
	ECE             float64  `json:"ece"`
	InScopeAccuracy *float64 `json:"in_scope_accuracy,omitempty"`
	OOSRecall       *float64 `json:"oos_recall,omitempty"`
	// The same two figures with no threshold (only the OOS class, when
	// trained, rejects), when a threshold was applied.
	InScopeNoThreshold   *float64           `json:"in_scope_accuracy_no_threshold,omitempty"`
	OOSRecallNoThreshold *float64           `json:"oos_recall_no_threshold,omitempty"`
	Threshold            float64            `json:"threshold"`
	ThresholdFrom        string             `json:"threshold_from,omitempty"`
	Temperature          float64            `json:"temperature"`
	PerIntent            map[string]PR      `json:"per_intent"`
	Confusions           []Confusion        `json:"top_confusions"`
	TrainSeconds         float64            `json:"train_seconds"`
	ClassifyP50          float64            `json:"classify_us_p50"`
	ClassifyP99          float64            `json:"classify_us_p99"`
	ModelBytes           int                `json:"model_bytes"`
	Extra                map[string]float64 `json:"extra,omitempty"`
}

// Predictor classifies a text into calibrated probabilities over its intents.
type Predictor interface {
	Intents() []string
	Confidences(text string) []float64
}

// Evaluate classifies every test example with p and measures the result.
// An example is predicted out of scope when the OOS class wins or the top
// probability is below threshold. Gold labels the model does not know count
// as errors.
func Evaluate(p Predictor, test []classify.Example, threshold float64) *Report {
	classes := p.Intents()
	oos := slices.Index(classes, OOS)
	r := &Report{Examples: len(test), Threshold: threshold, PerIntent: map[string]PR{}}
	type pair struct{ gold, pred string }
	confusions := map[pair]int{}
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	var durations []time.Duration
	const bins = 15
	var binConf, binAcc [bins]float64
	var binN [bins]int
	correct, inN, inOK, outN, outOK := 0, 0, 0, 0, 0
	for _, ex := range test {
		start := time.Now()
		probs := p.Confidences(ex.Text)
		durations = append(durations, time.Since(start))
		k, conf := classify.Decide(probs, oos, threshold)
		pred := OOS
		if k >= 0 {
			pred = classes[k]
		}
		// calibration of the top class before any threshold
		top := 0
		for j := range probs {
			if probs[j] > probs[top] {
				top = j
			}
		}
		b := min(int(probs[top]*bins), bins-1)
		binN[b]++
		binConf[b] += probs[top]
		if classes[top] == ex.Intent {
			binAcc[b]++
		}
		_ = conf
		ok := pred == ex.Intent
		if ok {
			correct++
			tp[pred]++
		} else {
			fp[pred]++
			fn[ex.Intent]++
			confusions[pair{ex.Intent, pred}]++
		}
		if ex.Intent == OOS {
			outN++
			if ok {
				outOK++
			}
		} else {
			inN++
			if ok {
				inOK++
			}
		}
	}
	if len(test) > 0 {
		r.Accuracy = float64(correct) / float64(len(test))
		for b := range bins {
			if binN[b] > 0 {
				r.ECE += math.Abs(binAcc[b]-binConf[b]) / float64(len(test))
			}
		}
	}
	if outN > 0 {
		in, out := ratio(inOK, inN), ratio(outOK, outN)
		r.InScopeAccuracy, r.OOSRecall = &in, &out
	}
	intents := map[string]bool{}
	for _, ex := range test {
		intents[ex.Intent] = true
	}
	f1s := 0.0
	for in := range intents {
		pr := PR{Precision: ratio(tp[in], tp[in]+fp[in]), Recall: ratio(tp[in], tp[in]+fn[in]), Support: tp[in] + fn[in]}
		if pr.Precision+pr.Recall > 0 {
			pr.F1 = 2 * pr.Precision * pr.Recall / (pr.Precision + pr.Recall)
		}
		r.PerIntent[in] = pr
		f1s += pr.F1
	}
	r.Intents = len(intents)
	if len(intents) > 0 {
		r.MacroF1 = f1s / float64(len(intents))
	}
	for pc, n := range confusions {
		r.Confusions = append(r.Confusions, Confusion{pc.gold, pc.pred, n})
	}
	slices.SortFunc(r.Confusions, func(a, b Confusion) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Gold, b.Gold), cmp.Compare(a.Predicted, b.Predicted))
	})
	if len(r.Confusions) > 10 {
		r.Confusions = r.Confusions[:10]
	}
	r.ClassifyP50, r.ClassifyP99 = percentileUS(durations, 0.50), percentileUS(durations, 0.99)
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func percentileUS(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return float64(s[max(i, 0)].Nanoseconds()) / 1e3
}

// Command dev compares classifier configurations on validation data while
// developing: each dataset's val.jsonl, or a held-out fifth of train.jsonl
// when it has none. It never reads test.jsonl.
//
//	go run ./nlu/internal/dev -kw 1.5 shop_es shop_en clinc150
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/charlabot/charla/flows"
	"github.com/charlabot/charla/nlu/classify"
	"github.com/charlabot/charla/nlu/eval"
)

func main() {
	dir := flag.String("dir", "../shared/datasets", "datasets")
	errs := flag.Bool("errors", false, "print the validation errors")
	cv := flag.Int("cv", 0, "cross-validate inside train.jsonl in K folds instead")
	trainOnly := flag.Bool("train", false, "print what classify.Train chooses on train.jsonl alone")
	xbot := flag.String("xbot", "", "instead, train on train.jsonl and measure on this bot directory's own examples (intents mapped to the dataset's labels)")
	var cfg classify.Config
	flag.Float64Var(&cfg.C, "C", 0, "")
	flag.Float64Var(&cfg.CharWeight, "cw", 0, "")
	flag.Float64Var(&cfg.ConceptWeight, "kw", 0, "")
	flag.IntVar(&cfg.CharMax, "cmax", 0, "")
	flag.IntVar(&cfg.CrossMax, "cross", 0, "")
	flag.IntVar(&cfg.Augment, "aug", 0, "")
	flag.Float64Var(&cfg.AugmentWeight, "augw", 0, "")
	flag.BoolVar(&cfg.NoLexicon, "nolex", false, "")
	flag.BoolVar(&cfg.NoBackground, "nobg", false, "")
	flag.Float64Var(&cfg.BackgroundShare, "bgs", 0, "")
	flag.Float64Var(&cfg.CentroidWeight, "cen", 0, "")
	flag.BoolVar(&cfg.NoSpell, "nospell", false, "")
	flag.BoolVar(&cfg.ConceptGrams, "cg", false, "concept bigrams")
	flag.BoolVar(&cfg.SkipGrams, "sg", false, "skip-grams")
	flag.Parse()
	for _, name := range flag.Args() {
		if *trainOnly {
			cfg.Lang = "en"
			if strings.HasSuffix(name, "_es") {
				cfg.Lang = "es"
			}
			train, _ := eval.ReadFile(filepath.Join(*dir, name, "train.jsonl"))
			t0 := time.Now()
			m, err := classify.Train(train, cfg)
			if err != nil {
				fmt.Println(err)
				continue
			}
			fmt.Printf("%-24s Train: temperature %.2f threshold %.3f (%.1fs)\n", name, m.Temperature, m.Threshold, time.Since(t0).Seconds())
			continue
		}
		if *xbot != "" {
			crossBot(filepath.Join(*dir, name), name, *xbot, cfg, *errs)
			continue
		}
		if *cv > 0 {
			cvErrors = *errs
			crossValidate(filepath.Join(*dir, name), name, cfg, *cv)
			continue
		}
		run(filepath.Join(*dir, name), name, cfg, *errs)
	}
}

func run(ds, name string, cfg classify.Config, errs bool) {
	cfg.Lang = "en"
	if strings.HasSuffix(name, "_es") {
		cfg.Lang = "es"
	}
	train, err := eval.ReadFile(filepath.Join(ds, "train.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	val, err := eval.ReadFile(filepath.Join(ds, "val.jsonl"))
	if err != nil {
		train, val = split(train)
	}
	t0 := time.Now()
	m, err := classify.Fit(train, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	secs := time.Since(t0).Seconds()
	m.Calibrate(val)
	type row struct {
		conf       float64
		gold, pred string
		text       string
	}
	var rows []row
	nIn, nOut := 0, 0
	for _, ex := range val {
		p := m.Predict(ex.Text)
		rows = append(rows, row{p[0].Confidence, ex.Intent, p[0].Intent, ex.Text})
		if ex.Intent == classify.OOS {
			nOut++
		} else {
			nIn++
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].conf < rows[j].conf })
	score := func(th float64) (float64, float64) {
		in, out := 0, 0
		for _, r := range rows {
			rej := r.conf < th || r.pred == classify.OOS
			if r.gold == classify.OOS && rej {
				out++
			}
			if r.gold != classify.OOS && !rej && r.pred == r.gold {
				in++
			}
		}
		return float64(in) / float64(max(nIn, 1)), float64(out) / float64(max(nOut, 1))
	}
	closedIn, closedOut := score(0)
	best := -1.0
	for i := -1; i < len(rows) && nOut > 0; i++ {
		th := 0.0
		if i >= 0 {
			th = rows[i].conf + 1e-9
		}
		if in, out := score(th); out >= 0.6 {
			best = max(best, in)
		}
	}
	thIn, thOut := score(m.Threshold)
	// the threshold that maximises accuracy over all validation lines
	bestAcc, accTh := -1.0, 0.0
	for i := -1; i < len(rows) && nOut > 0; i++ {
		th := 0.0
		if i >= 0 {
			th = rows[i].conf + 1e-9
		}
		in, out := score(th)
		if acc := in*float64(nIn) + out*float64(nOut); acc > bestAcc+1e-9 {
			bestAcc, accTh = acc, th
		}
	}
	accIn, accOut := score(accTh)
	fmt.Printf("%-24s closed in %.3f oos %.3f | in@oos60 %.3f | bal th %.2f: in %.3f oos %.3f | acc th %.2f: in %.3f oos %.3f | T %.1f S %.1f H %.1f train %.1fs feats %d\n",
		name, closedIn, closedOut, best, m.Threshold, thIn, thOut, accTh, accIn, accOut, m.Temperature, m.Shrink, m.Thin, secs, m.Features())
	if errs {
		for _, r := range rows {
			if r.gold != r.pred {
				fmt.Printf("  %.2f %-20s %-20s %s\n", r.conf, r.gold, r.pred, r.text)
			}
		}
	}
}

// split holds out every fifth example (of the file order) for validation.
func split(ex []classify.Example) (a, b []classify.Example) {
	for i, e := range ex {
		if i%5 == 2 {
			b = append(b, e)
		} else {
			a = append(a, e)
		}
	}
	return a, b
}

var cvErrors bool

// crossValidate reports the closed-set accuracy of k folds inside train
// (examples dealt to folds in turn within each intent).
func crossValidate(ds, name string, cfg classify.Config, k int) {
	cfg.Lang = "en"
	if strings.HasSuffix(name, "_es") {
		cfg.Lang = "es"
	}
	train, err := eval.ReadFile(filepath.Join(ds, "train.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	seen := map[string]int{}
	fold := make([]int, len(train))
	for i, ex := range train {
		fold[i] = seen[ex.Intent] % k
		seen[ex.Intent]++
	}
	right, n := 0, 0
	var confs []float64
	var oks []bool
	for f := range k {
		var tr, te []classify.Example
		for i, ex := range train {
			if fold[i] == f {
				te = append(te, ex)
			} else {
				tr = append(tr, ex)
			}
		}
		m, err := classify.Train(tr, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		for _, ex := range te {
			p := m.Predict(ex.Text)
			confs = append(confs, p[0].Confidence)
			oks = append(oks, p[0].Intent == ex.Intent)
			top := p[0].Intent
			if top == classify.OOS && len(p) > 1 {
				top = p[1].Intent // closed set: the best real intent
			}
			if top == ex.Intent {
				right++
			} else if cvErrors {
				fmt.Printf("  %.2f %-20s %-20s %s\n", p[0].Confidence, ex.Intent, top, ex.Text)
			}
			n++
		}
	}
	fmt.Printf("%-24s cv%d closed acc %.3f (%d) ece %.3f\n", name, k, float64(right)/float64(n), n, ece(confs, oks))
}

// botLabel maps the reference shop bot's intents onto the shop datasets'
// labels (as examples/ecommerce/nlu_test.go does); bot intents the
// datasets have no label for are left out.
var botLabel = map[string]string{
	"kb:shipping_cost": "shipping_info", "kb:shipping_time": "shipping_info", "kb:payment_methods": "payment_methods",
	"kb:store_hours": "store_info", "kb:store_locations": "store_info", "kb:contact": "store_info",
	"kb:return_policy": "return_refund", "kb:coupons": "discount_coupon", "kb:invoice": "invoice", "kb:stock": "product_availability",
	"bot_identity": "oos",
}

// crossBot trains on a dataset's train.jsonl (temperature and threshold
// from a held-out fifth, as the runtime's Train does) and measures on the
// examples another writer wrote for the reference bot: wording the
// dataset never saw, and not its test split.
func crossBot(ds, name, botDir string, cfg classify.Config, errs bool) {
	cfg.Lang = "en"
	if strings.HasSuffix(name, "_es") {
		cfg.Lang = "es"
	}
	train, err := eval.ReadFile(filepath.Join(ds, "train.jsonl"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	bot, err := flows.LoadDir(botDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	labels := map[string]bool{}
	for _, ex := range train {
		labels[ex.Intent] = true
	}
	var test []classify.Example
	add := func(intent, text string) {
		if l, ok := botLabel[intent]; ok {
			intent = l
		}
		if labels[intent] || intent == classify.OOS {
			test = append(test, classify.Example{Text: text, Intent: intent})
		}
	}
	for _, d := range bot.Program.NLU {
		if d.Lang != cfg.Lang {
			continue
		}
		for _, in := range d.Intents {
			for _, ex := range in.Examples {
				add(in.Name, ex)
			}
		}
	}
	for _, a := range bot.Program.KB {
		for _, q := range a.Questions[cfg.Lang] {
			add("kb:"+a.ID, q)
		}
	}
	m, err := classify.Train(train, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	r := eval.Evaluate(m, test, m.Threshold)
	in, out := 0.0, 0.0
	if r.InScopeNoThreshold != nil {
		in, out = *r.InScopeNoThreshold, *r.OOSRecallNoThreshold
	} else if r.InScopeAccuracy != nil {
		in, out = *r.InScopeAccuracy, *r.OOSRecall
	}
	fmt.Printf("%-24s xbot %d lines: closed in %.3f oos %.3f | at th %.2f: acc %.3f ece %.3f | T %.1f S %.1f H %.1f\n", name, len(test), in, out, m.Threshold, r.Accuracy, r.ECE, m.Temperature, m.Shrink, m.Thin)
	if errs {
		for _, ex := range test {
			p := m.Predict(ex.Text)
			if p[0].Intent != ex.Intent {
				fmt.Printf("  %.2f %-20s %-20s %s\n", p[0].Confidence, ex.Intent, p[0].Intent, ex.Text)
			}
		}
	}
}

// ece is the expected calibration error of top confidences (15 bins).
func ece(conf []float64, ok []bool) float64 {
	const bins = 15
	var n, c [bins]float64
	var a [bins]float64
	for i, p := range conf {
		b := min(int(p*bins), bins-1)
		n[b]++
		c[b] += p
		if ok[i] {
			a[b]++
		}
	}
	e := 0.0
	for b := range bins {
		if n[b] > 0 {
			e += n[b] / float64(len(conf)) * abs(c[b]/n[b]-a[b]/n[b])
		}
	}
	return e
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/charlabot/charla/nlu/classify"
	"github.com/charlabot/charla/nlu/eval"
)

func main() {
	ds := flag.String("d", "", "dataset dir")
	lang := flag.String("lang", "en", "")
	c := flag.Float64("C", 0, "")
	cw := flag.Float64("cw", 0, "")
	cmax := flag.Int("cmax", 0, "")
	test := flag.Bool("test", false, "evaluate on test (else val or holdout)")
	nobg := flag.Bool("nobg", false, "")
	flag.Parse()
	train, _ := eval.ReadFile(filepath.Join(*ds, "train.jsonl"))
	val, err := eval.ReadFile(filepath.Join(*ds, "val.jsonl"))
	cfg := classify.Config{Lang: *lang, C: *c, CharWeight: *cw, CharMax: *cmax, NoBackground: *nobg}
	t0 := time.Now()
	var m *classify.Model
	var target []classify.Example
	if *test {
		target, _ = eval.ReadFile(filepath.Join(*ds, "test.jsonl"))
	}
	if err == nil {
		m, _ = classify.Fit(train, cfg)
		m.Calibrate(val)
		if !*test {
			target = val
		}
	} else {
		if !*test {
			fit, held := split(train)
			train, target = fit, held
		}
		m, _ = classify.Train(train, cfg)
	}
	secs := time.Since(t0).Seconds()
	r := eval.Evaluate(m, target, m.Threshold)
	r.TrainSeconds = secs
	r.Temperature = m.Temperature
	r.PerIntent = nil
	b, _ := json.Marshal(r)
	fmt.Println(string(b)[:200], "features", m.Features())
	r0 := eval.Evaluate(m, target, 0)
	fmt.Printf("closed: acc %.4f in %.4f oos %.4f\n", r0.Accuracy, f(r0.InScopeAccuracy), f(r0.OOSRecall))
	for _, th := range []float64{0.3, 0.4, 0.5, 0.6, 0.7, 0.8} {
		r := eval.Evaluate(m, target, th)
		fmt.Printf("th %.1f: in %.4f oos %.4f\n", th, f(r.InScopeAccuracy), f(r.OOSRecall))
	}
	_ = os.Stdout
}

func f(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

func split(ex []classify.Example) (a, b []classify.Example) {
	for i, e := range ex {
		if i%5 == 2 {
			b = append(b, e)
		} else {
			a = append(a, e)
		}
	}
	return
}

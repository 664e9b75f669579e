package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/flows"
	"github.com/charlabot/charla/nlu"
	"github.com/charlabot/charla/nlu/classify"
	"github.com/charlabot/charla/nlu/eval"
)

func init() {
	register(&command{
		name:    "nlu",
		usage:   "nlu eval --train F --test F | nlu parse DIR TEXT",
		summary: "evaluate the intent classifier, or show what it reads in a text",
		run:     runNLU,
	})
}

func runNLU(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 {
		fmt.Fprintln(io.err, "usage: charla nlu eval --train FILE|DIR --test FILE [--val FILE] [--lang es|en] [--threshold T]\n       charla nlu eval --folds K DIR\n       charla nlu parse DIR TEXT")
		return 2
	}
	switch args[0] {
	case "eval":
		return nluEval(ctx, args[1:], io)
	case "parse":
		return nluParse(ctx, args[1:], io)
	case "multi":
		return nluMulti(ctx, args[1:], io)
	}
	fmt.Fprintf(io.err, "charla nlu: unknown subcommand %q (eval, parse)\n", args[0])
	return 2
}

// evalOutput is what `charla nlu eval` prints: the metrics and how the
// model was chosen.
type evalOutput struct {
	*eval.Report
	Lang     string `json:"lang"`
	Train    int    `json:"train_examples"`
	Features int    `json:"features"`
	Folds    int    `json:"folds,omitempty"`
}

func nluEval(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("nlu eval", flag.ContinueOnError)
	fs.SetOutput(io.err)
	trainPath := fs.String("train", "", "training examples: a JSONL file or a bot directory")
	testPath := fs.String("test", "", "test examples (JSONL; intent \"oos\" is out of scope)")
	valPath := fs.String("val", "", "validation examples to calibrate on and choose the out-of-scope threshold (default: a held-out fifth of train)")
	lang := fs.String("lang", "", "language of the examples: es or en (default: detected from the training data)")
	threshold := fs.Float64("threshold", -1, "out-of-scope threshold on the top confidence (default: chosen on validation data when it has out-of-scope examples, else none)")
	folds := fs.Int("folds", 0, "cross-validate a bot directory's own examples in K folds")
	perIntent := fs.Bool("per-intent", true, "include per-intent precision and recall")
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if *folds > 0 {
		if fs.NArg() != 1 {
			fmt.Fprintln(io.err, "usage: charla nlu eval --folds K DIR")
			return 2
		}
		return nluFolds(fs.Arg(0), *folds, *lang, *threshold, *perIntent, io)
	}
	if *trainPath == "" || *testPath == "" {
		fmt.Fprintln(io.err, "charla nlu eval: --train and --test are required")
		return 2
	}
	train, l, err := loadExamples(*trainPath, *lang)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu eval:", err)
		return 1
	}
	test, err := eval.ReadFile(*testPath)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu eval:", err)
		return 1
	}
	var val []classify.Example
	if *valPath != "" {
		if val, err = eval.ReadFile(*valPath); err != nil {
			fmt.Fprintln(io.err, "charla nlu eval:", err)
			return 1
		}
	}
	if err := ctx.Err(); err != nil {
		return 1
	}
	start := time.Now()
	cfg := classify.Config{Lang: l}
	var m *classify.Model
	from := "held-out fifth of train"
	if val != nil {
		m, err = classify.Fit(train, cfg)
		if err == nil {
			m.Calibrate(val)
		}
		from = "validation file"
	} else {
		m, err = classify.Train(train, cfg)
	}
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu eval:", err)
		return 1
	}
	secs := time.Since(start).Seconds()
	th := m.Threshold
	switch {
	case *threshold >= 0:
		th, from = *threshold, "command line"
	case th == 0 && hasOOS(val, train, l):
		from += " (0 was best)"
	case th == 0:
		from = "none (no out-of-scope examples to choose it on)"
	case val == nil && !slices.ContainsFunc(train, func(e classify.Example) bool { return e.Intent == classify.OOS }):
		from += ", with a fifth of the built-in background set as out-of-scope lines"
	}
	r := eval.Evaluate(m, test, th)
	if th > 0 && r.InScopeAccuracy != nil {
		r0 := eval.Evaluate(m, test, 0)
		r.InScopeNoThreshold, r.OOSRecallNoThreshold = r0.InScopeAccuracy, r0.OOSRecall
	}
	r.ThresholdFrom = from
	r.Temperature = m.Temperature
	r.TrainSeconds = secs
	if b, err := m.MarshalBinary(); err == nil {
		r.ModelBytes = len(b)
	}
	if !*perIntent {
		r.PerIntent = nil
	}
	return printJSON(io.out, evalOutput{Report: r, Lang: l, Train: len(train), Features: m.Features()})
}

// hasOOS reports whether the threshold was chosen on data with
// out-of-scope lines: the validation file's, or else the training data's or
// the built-in background set's held-out fifth.
func hasOOS(val, train []classify.Example, lang string) bool {
	isOOS := func(e classify.Example) bool { return e.Intent == classify.OOS }
	if val != nil {
		return slices.ContainsFunc(val, isOOS)
	}
	return slices.ContainsFunc(train, isOOS) || len(classify.Background(lang)) > 0
}

// reorder moves flags after positional arguments to the front, so that
// "nlu parse DIR TEXT --lang en" works like "nlu parse --lang en DIR TEXT".
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !isBoolFlag(a) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func isBoolFlag(a string) bool {
	a = strings.TrimLeft(a, "-")
	return a == "per-intent" || a == "h" || a == "help"
}

// loadExamples reads training examples from a JSONL file or a bot
// directory (its intents and knowledge-base questions in lang).
func loadExamples(path, lang string) ([]classify.Example, string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if !st.IsDir() {
		ex, err := eval.ReadFile(path)
		if err != nil {
			return nil, "", err
		}
		if lang == "" {
			lang = guessLang(ex)
		}
		return ex, lang, nil
	}
	prog, err := loadBot(path)
	if err != nil {
		return nil, "", err
	}
	if lang == "" {
		lang = prog.DefaultLang()
	}
	return botExamples(prog, lang), lang, nil
}

func loadBot(dir string) (*engine.Program, error) {
	bot, err := flows.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	if bot.Program == nil {
		return nil, errors.New(dir + ": the bot does not compile (run charla validate)")
	}
	return bot.Program, nil
}

func botExamples(prog *engine.Program, lang string) []classify.Example {
	var out []classify.Example
	if d := prog.NLUFor(lang); d != nil {
		for _, in := range d.Intents {
			for _, ex := range in.Examples {
				out = append(out, classify.Example{Text: ex, Intent: in.Name})
			}
		}
	}
	for _, a := range prog.KB {
		for _, q := range a.Questions[lang] {
			out = append(out, classify.Example{Text: q, Intent: nlu.KBPrefix + a.ID})
		}
	}
	return out
}

// guessLang tells Spanish from English training data by its function words.
func guessLang(ex []classify.Example) string {
	es, en := 0, 0
	for i, e := range ex {
		if i > 2000 {
			break
		}
		for _, w := range strings.Fields(strings.ToLower(e.Text)) {
			switch w {
			case "el", "la", "de", "que", "mi", "los", "por", "para", "quiero", "es", "en", "y":
				es++
			case "the", "a", "of", "my", "to", "is", "i", "you", "and", "what", "for":
				en++
			}
		}
	}
	if es > en {
		return "es"
	}
	return "en"
}

// nluFolds cross-validates a bot's own examples: each example is predicted
// by a model trained on the other folds (examples dealt to folds in turn
// within each intent).
func nluFolds(dir string, k int, lang string, threshold float64, perIntent bool, io stdio) int {
	if k < 2 {
		fmt.Fprintln(io.err, "charla nlu eval: --folds needs at least 2")
		return 2
	}
	prog, err := loadBot(dir)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu eval:", err)
		return 1
	}
	if lang == "" {
		lang = prog.DefaultLang()
	}
	all := botExamples(prog, lang)
	if len(all) == 0 {
		fmt.Fprintf(io.err, "charla nlu eval: %s has no examples in %q\n", dir, lang)
		return 1
	}
	fold := make([]int, len(all))
	seen := map[string]int{}
	for i, ex := range all {
		fold[i] = seen[ex.Intent] % k
		seen[ex.Intent]++
	}
	classes := map[string]bool{classify.OOS: true} // the background class
	for _, ex := range all {
		classes[ex.Intent] = true
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	probs := make([][]float64, len(all))
	start := time.Now()
	features := 0
	for f := range k {
		var train []classify.Example
		var idx []int
		for i, ex := range all {
			if fold[i] == f {
				idx = append(idx, i)
			} else {
				train = append(train, ex)
			}
		}
		if len(idx) == 0 {
			continue
		}
		m, err := classify.Train(train, classify.Config{Lang: lang})
		if err != nil {
			fmt.Fprintln(io.err, "charla nlu eval:", err)
			return 1
		}
		features = max(features, m.Features())
		for _, i := range idx {
			p := m.Confidences(all[i].Text)
			full := make([]float64, len(names))
			for c, name := range m.Classes {
				if j, ok := slices.BinarySearch(names, name); ok {
					full[j] = p[c]
				}
			}
			probs[i] = full
		}
	}
	secs := time.Since(start).Seconds()
	th := max(threshold, 0)
	r := eval.Evaluate(&fixed{names: names, texts: all, probs: probs}, all, th)
	r.TrainSeconds = secs / float64(k)
	r.ClassifyP50, r.ClassifyP99 = 0, 0
	if !perIntent {
		r.PerIntent = nil
	}
	return printJSON(io.out, evalOutput{Report: r, Lang: lang, Train: len(all), Features: features, Folds: k})
}

// fixed is a predictor whose answers were computed beforehand, in the
// order of the examples.
type fixed struct {
	names []string
	texts []classify.Example
	probs [][]float64
	next  int
}

func (f *fixed) Intents() []string { return f.names }
func (f *fixed) Confidences(string) []float64 {
	p := f.probs[f.next]
	f.next++
	return p
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return 1
	}
	return 0
}

func nluParse(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("nlu parse", flag.ContinueOnError)
	fs.SetOutput(io.err)
	lang := fs.String("lang", "", "the conversation's language (default: detected among the bot's)")
	expect := fs.String("expect", "", "entities the pending question takes, comma-separated (e.g. size)")
	cache := fs.String("cache", "", "directory for trained models (default: the user's cache directory)")
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(io.err, "usage: charla nlu parse DIR TEXT")
		return 2
	}
	prog, err := loadBot(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu parse:", err)
		return 1
	}
	dir := *cache
	if dir == "" {
		if d, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(d, "charla", "nlu")
		}
	}
	u, err := nlu.New(prog, nlu.WithCacheDir(dir))
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu parse:", err)
		return 1
	}
	q := engine.Query{Text: strings.Join(fs.Args()[1:], " "), Lang: *lang, Now: time.Now()}
	if *expect != "" {
		q.Expect = strings.Split(*expect, ",")
	}
	res, err := u.Understand(ctx, q)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu parse:", err)
		return 1
	}
	out := struct {
		*engine.Understanding
		Threshold float64 `json:"threshold"`
		Matched   string  `json:"matched"`
	}{Understanding: res, Threshold: prog.Settings.WithDefaults().Threshold}
	if top, c := res.Top(); c >= out.Threshold {
		out.Matched = top
	}
	return printJSON(io.out, out)
}

// nluMulti measures the ranking of messages that hold two intents
// ({"text", "intents": [a, b]} lines): how often both are the top two.
func nluMulti(ctx context.Context, args []string, io stdio) int {
	fs := flag.NewFlagSet("nlu multi", flag.ContinueOnError)
	fs.SetOutput(io.err)
	trainPath := fs.String("train", "", "training examples (JSONL)")
	multiPath := fs.String("multi", "", "messages with two intents (JSONL with \"intents\")")
	lang := fs.String("lang", "", "language (default: detected)")
	if err := fs.Parse(reorder(args)); err != nil {
		return 2
	}
	train, l, err := loadExamples(*trainPath, *lang)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu multi:", err)
		return 1
	}
	b, err := os.ReadFile(*multiPath)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu multi:", err)
		return 1
	}
	u, err := nlu.NewFromExamples(l, train, nil)
	if err != nil {
		fmt.Fprintln(io.err, "charla nlu multi:", err)
		return 1
	}
	var lines, both, one int
	for _, line := range strings.Split(string(b), "\n") {
		var m struct {
			Text    string   `json:"text"`
			Intents []string `json:"intents"`
		}
		if strings.TrimSpace(line) == "" || json.Unmarshal([]byte(line), &m) != nil || len(m.Intents) < 2 {
			continue
		}
		res, err := u.Understand(ctx, engine.Query{Text: m.Text, Lang: l})
		if err != nil {
			return 1
		}
		lines++
		var top []string
		for i := 0; i < len(res.Intents) && i < 2; i++ {
			top = append(top, res.Intents[i].Intent)
		}
		if len(top) == 2 && ((top[0] == m.Intents[0] && top[1] == m.Intents[1]) || (top[0] == m.Intents[1] && top[1] == m.Intents[0])) {
			both++
		}
		if len(top) > 0 && (top[0] == m.Intents[0] || top[0] == m.Intents[1]) {
			one++
		}
	}
	return printJSON(io.out, map[string]any{"lines": lines, "both_top_two": float64(both) / float64(max(lines, 1)), "one_of_them_top": float64(one) / float64(max(lines, 1))})
}

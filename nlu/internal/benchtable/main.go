// Command benchtable prints the Markdown table of the NLU benchmark from the
// JSON files that scripts/nlu-bench.sh writes.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

type charla struct {
	Examples        int      `json:"examples"`
	Accuracy        float64  `json:"accuracy"`
	MacroF1         float64  `json:"macro_f1"`
	ECE             float64  `json:"ece"`
	InScope         *float64 `json:"in_scope_accuracy"`
	OOSRecall       *float64 `json:"oos_recall"`
	Threshold       float64  `json:"threshold"`
	ThresholdFrom   string   `json:"threshold_from"`
	TrainSeconds    float64  `json:"train_seconds"`
	P50             float64  `json:"classify_us_p50"`
	P99             float64  `json:"classify_us_p99"`
	ModelBytes      int      `json:"model_bytes"`
	Train           int      `json:"train_examples"`
	BothTopTwo      *float64 `json:"both_top_two"`
	InScopeNoThresh *float64 `json:"in_scope_accuracy_no_threshold"`
	OOSNoThresh     *float64 `json:"oos_recall_no_threshold"`
}

type node struct {
	Accuracy  float64  `json:"accuracy"`
	InScope   *float64 `json:"in_scope_accuracy"`
	OOSRecall *float64 `json:"oos_recall"`
	Train     float64  `json:"train_seconds"`
	P50       float64  `json:"classify_latency_median_us"`
	P99       float64  `json:"classify_latency_p99_us"`
}

func read(path string, v any) bool {
	b, err := os.ReadFile(path)
	return err == nil && json.Unmarshal(b, v) == nil
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *p*100)
}

func main() {
	dir := os.Args[1]
	names := os.Args[2:]
	fmt.Println("| dataset | test n | charla accuracy | charla in-scope / OOS recall | charla macro F1 | charla ECE | threshold (from) | node-nlp accuracy | node-nlp in-scope / OOS recall | charla train s | charla p50 / p99 µs | node-nlp p50 / p99 µs | model MB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, n := range names {
		var c charla
		if !read(filepath.Join(dir, "charla_"+n+".json"), &c) {
			continue
		}
		var nd node
		base, variant, _ := strings.Cut(n, "@")
		hasNode := variant == "" && read(filepath.Join(dir, "node_"+base+".json"), &nd)
		if variant != "" {
			n = base + " (threshold " + variant + ")"
		}
		acc := c.Accuracy
		nodeAcc, nodeIO, nodeLat := "–", "–", "–"
		if hasNode {
			nodeAcc = pct(&nd.Accuracy)
			if nd.InScope != nil {
				nodeIO = pct(nd.InScope) + " / " + pct(nd.OOSRecall)
			}
			nodeLat = fmt.Sprintf("%.0f / %.0f", nd.P50, nd.P99)
		}
		io := "–"
		if c.InScope != nil {
			io = pct(c.InScope) + " / " + pct(c.OOSRecall)
			if c.InScopeNoThresh != nil {
				io += " (no threshold: " + pct(c.InScopeNoThresh) + " / " + pct(c.OOSNoThresh) + ")"
			}
		}
		from := c.ThresholdFrom
		bg := strings.Contains(from, "background")
		from = strings.TrimSuffix(strings.Split(strings.Split(from, " (")[0], ",")[0], " of train")
		if bg {
			from += " + background"
		}
		fmt.Printf("| %s | %d | %s | %s | %.3f | %.3f | %.2f (%s) | %s | %s | %.1f | %.0f / %.0f | %s | %.1f |\n",
			n, c.Examples, pct(&acc), io, c.MacroF1, c.ECE, c.Threshold, from, nodeAcc, nodeIO, c.TrainSeconds, c.P50, c.P99, nodeLat, float64(c.ModelBytes)/1e6)
	}
	for _, n := range names {
		if strings.Contains(n, "@") {
			continue
		}
		var m struct {
			Lines      int     `json:"lines"`
			BothTopTwo float64 `json:"both_top_two"`
			FirstTop   float64 `json:"one_of_them_top"`
		}
		if read(filepath.Join(dir, "charla_"+n+"_multi.json"), &m) {
			fmt.Printf("\n%s multi.jsonl (%d messages with two intents): both intents are the top two in %.1f%%; the top intent is one of them in %.1f%%.\n", n, m.Lines, m.BothTopTwo*100, m.FirstTop*100)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestNLUEval(t *testing.T) {
	dir := t.TempDir()
	test := filepath.Join(dir, "test.jsonl")
	lines := `{"text":"holaaa","intent":"saludo"}
{"text":"dónde anda mi pedido?","intent":"estado_pedido"}
{"text":"kiero cambiar la tala","intent":"cambio_talla"}
{"text":"cuál es la capital de Francia","intent":"oos"}
`
	if err := os.WriteFile(test, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "nlu", "eval", "--train", "../../nlu/testdata/es_train.jsonl", "--test", test, "--lang", "es")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"accuracy", "macro_f1", "ece", "in_scope_accuracy", "oos_recall", "per_intent", "top_confusions", "train_seconds", "classify_us_p50", "classify_us_p99", "model_bytes"} {
		if _, ok := r[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
	if acc := r["accuracy"].(float64); acc < 0.75 {
		t.Errorf("accuracy %v", acc)
	}
}

func TestNLUEvalErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"text\":\"hola\"}\nnot json\n"), 0o644)
	tests := [][]string{
		{"nlu"},
		{"nlu", "frobnicate"},
		{"nlu", "eval"},
		{"nlu", "eval", "--train", bad, "--test", bad},
		{"nlu", "eval", "--train", filepath.Join(dir, "missing.jsonl"), "--test", bad},
		{"nlu", "parse"},
	}
	for _, args := range tests {
		if code, _, errs := runCmd(t, args...); code == 0 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want a failure with a message", args, code, errs)
		}
	}
}

func TestNLUFoldsAndParse(t *testing.T) {
	bot := "../../examples/hello"
	if _, err := os.Stat(bot + "/nlu"); err != nil {
		t.Skip("no example bot with nlu data")
	}
	code, out, errs := runCmd(t, "nlu", "eval", "--folds", "3", bot, "--per-intent=false")
	if code != 0 {
		t.Fatalf("folds: exit %d: %s", code, errs)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil || r["folds"] != 3.0 {
		t.Errorf("folds output: %v %s", err, out)
	}
	code, out, errs = runCmd(t, "nlu", "parse", bot, "mi pedido #A1002, talla 43", "--cache", t.TempDir())
	if code != 0 {
		t.Fatalf("parse: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"order_id"`) || !strings.Contains(out, `"A1002"`) {
		t.Errorf("parse output lacks the order id: %s", out)
	}
}

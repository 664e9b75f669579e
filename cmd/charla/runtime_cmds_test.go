package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// charla runs the CLI in process.
func charla(t *testing.T, stdin string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(stdin), out: &o, err: &e})
	return code, o.String(), e.String()
}

const benchBot = "../../examples/bench"

func TestChatPiped(t *testing.T) {
	code, out, errOut := charla(t, "hola\nquiero cambiar la talla\nA1234\n43\nsi\n", "chat", benchBot, "--memory")
	want := `Hi! I'm the store assistant. What would you like to do?
1. Change the size of an order (say "cambiar la talla")
2. Track an order
3. Talk to a person
What is your order number? (one capital letter and 4 digits, e.g. A1234)
Which new size would you like? (35-46)
Confirm the exchange of order A1234 to size 43?
Done! Order A1234 will be exchanged to size 43. You will receive an email with the return label.
`
	if code != 0 || out != want {
		t.Fatalf("exit %d, stderr %q\n got:\n%s\nwant:\n%s", code, errOut, out, want)
	}
}

func TestChatCommandsAndButtons(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, benchBot, dir)
	// A flow with buttons, to answer by number.
	writeFile(t, filepath.Join(dir, "flows", "color.yaml"), `flow: color
triggers: {keywords: [color]}
slots:
  c: {type: choice, choices: [{value: red, label: Rojo}, {value: blue, label: Azul}]}
steps:
  - ask: c
    say: "¿Qué color?"
  - say: "Elegiste {{ c }}."
`)
	code, out, errOut := charla(t, "color\n2\n/state\n/lang xx\n/reset\n/quit\nhola\n", "chat", dir, "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, s := range []string{"¿Qué color?\n  1. Rojo\n  2. Azul\n", "Elegiste blue.\n", "status: bot, the bot answers\n", "(conversation reset)"} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
	if !strings.Contains(errOut, `does not speak "xx"`) {
		t.Errorf("stderr: %q", errOut)
	}
	if strings.Contains(out, "store assistant") {
		t.Errorf("read past /quit:\n%s", out)
	}
}

func TestTestCommand(t *testing.T) {
	code, out, _ := charla(t, "", "test", benchBot)
	if code != 0 || !strings.HasSuffix(out, "3 passed, 0 failed\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, out, _ = charla(t, "", "test", benchBot, "--run", "^bench_", "--understander", "keyword")
	if code != 0 || out != "1 passed, 0 failed\n" {
		t.Fatalf("--run: exit %d:\n%s", code, out)
	}
	// A failing test: a readable diff, exit 1, JUnit.
	dir := t.TempDir()
	copyDir(t, benchBot, dir)
	writeFile(t, filepath.Join(dir, "tests", "wrong.yaml"), `tests:
  - name: wrong
    turns:
      - user: quiero cambiar la talla
        bot: "¿Número de pedido?"
        flow: size_exchange
      - user: A1234
        slots: {order: A1235, size: null}
        status: queued
`)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	code, out, _ = charla(t, "", "test", dir, "--junit", junit)
	if code != 1 || !strings.HasSuffix(out, "3 passed, 1 failed\n") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, s := range []string{
		"FAIL wrong (",
		`turn 1 (`, `user: "quiero cambiar la talla"`,
		`reply 1: differs`,
		`want "¿Número de pedido?"`,
		`got  "What is your order number? (one capital letter and 4 digits, e.g. A1234)"`,
		`slot order: want "A1235", got "A1234"`,
		`status: want queued, got bot`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("missing %q in:\n%s", s, out)
		}
	}
	if strings.Contains(out, "flow: want") {
		t.Errorf("the flow matched, but is reported:\n%s", out)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(b, &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Tests != 4 || suites.Suites[0].Failures != 1 {
		t.Fatalf("junit: %v\n%s", err, b)
	}
}

func TestBenchCommand(t *testing.T) {
	code, out, errOut := charla(t, "", "bench", benchBot, "--test", "bench_size_exchange", "--conversations", "200", "--concurrency", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"turns", "seconds", "turns_per_s", "p50_us", "p99_us", "allocs_per_turn", "bytes_per_turn", "rss_mb"} {
		if _, ok := r[k]; !ok {
			t.Errorf("no %q in %s", k, out)
		}
	}
	if r["turns"] != 1000.0 {
		t.Errorf("turns = %v", r["turns"])
	}
	code, out, errOut = charla(t, "", "bench", benchBot, "--test", "bench_size_exchange", "--conversations", "50", "--concurrency", "50", "--store", "bolt")
	if code != 0 || !strings.Contains(out, `"store":"bolt"`) {
		t.Fatalf("bolt: exit %d: %s %s", code, out, errOut)
	}
	// A test without exact texts is refused.
	code, _, errOut = charla(t, "", "bench", benchBot, "--test", "reprompts")
	if code != 1 || !strings.Contains(errOut, "has no bot: expectation") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// A bot that does not say what the test expects fails the bench.
	dir := t.TempDir()
	copyDir(t, benchBot, dir)
	writeFile(t, filepath.Join(dir, "flows", "greeting.yaml"), "flow: greeting\ntriggers: {keywords: [hola]}\nsteps:\n  - say: \"¡Hola!\"\n")
	code, _, errOut = charla(t, "", "bench", dir, "--test", "bench_size_exchange", "--conversations", "10")
	if code != 1 || !strings.Contains(errOut, "reply 1:") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestBackupCommand(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := charla(t, "hola\nquiero cambiar la talla\n", "chat", benchBot, "--data", data); code != 0 {
		t.Fatalf("chat: %s", errOut)
	}
	out := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, errOut := charla(t, "", "backup", "--data", data, out)
	if code != 0 || !strings.Contains(stdout, "verified") {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	// The copy is a data directory's file: chat goes on from it.
	restored := t.TempDir()
	b, _ := os.ReadFile(out)
	writeFile(t, filepath.Join(restored, "charla.db"), string(b))
	code, stdout, _ = charla(t, "A1234\n", "chat", benchBot, "--data", restored)
	if code != 0 || stdout != "Which new size would you like? (35-46)\n" {
		t.Fatalf("from the backup: %d %q", code, stdout)
	}
	if code, _, _ := charla(t, "", "backup", "--data", t.TempDir(), out); code != 1 {
		t.Fatalf("backup of nothing: exit %d", code)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTestCommandStack checks that a test reads the slots of a flow that
// called the waiting one, and that a start that fails (a step reading a
// variable an earlier step sets) fails the test with the error.
func TestTestCommandStack(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bot.yaml"), "name: stack\nlanguages: [es]\n")
	writeFile(t, filepath.Join(dir, "flows", "main.yaml"), `flow: main
triggers: {keywords: [cita]}
slots: {dia: {type: text}}
steps:
  - ask: dia
    say: "¿Día?"
  - set: {libres: '["9:00"]'}
  - id: elegir
    say: "Libres: {{ libres[0] }}"
  - call: datos
---
flow: datos
slots: {nombre: {type: text}}
steps:
  - ask: nombre
    say: "¿Nombre?"
`)
	writeFile(t, filepath.Join(dir, "tests", "t.yaml"), `tests:
  - name: caller_slots
    turns:
      - user: cita
      - user: lunes
        bot: ["Libres: 9:00", "¿Nombre?"]
        flow: datos
        slots: {dia: lunes, nombre: null}
  - name: bad_start
    start: {flow: main, step: elegir, slots: {dia: lunes}}
    turns:
      - user: Ana
`)
	code, out, errs := charla(t, "", "test", dir)
	if code != 1 || !strings.HasSuffix(out, "1 passed, 1 failed\n") || !strings.Contains(out, "FAIL bad_start") ||
		!strings.Contains(out, "main.yaml:9:5: main step 2: ") || strings.Contains(out, "caller_slots") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
}

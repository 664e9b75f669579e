package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCharla(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // exact, or a prefix when it ends in "…"
		inStderr string
	}{
		{
			name: "ok",
			args: []string{"validate", "../../examples/hello"},
			code: 0,
			stdout: "../../examples/hello: ok: bot hello, 2 languages (es, en), 2 flows + 8 default system flows, " +
				"2 intents, 0 actions, 0 articles, 3 tests\n",
		},
		{
			name: "warnings only",
			args: []string{"validate", "testdata/validate/warnings/"},
			code: 0,
			stdout: "testdata/validate/warnings/flows/main.yaml:5:5: warning: unreachable step\n" +
				"testdata/validate/warnings/: ok: bot warnings, 1 language (es), 1 flow + 8 default system flows, " +
				"0 intents, 0 actions, 0 articles, 0 tests, 1 warning\n",
		},
		{
			name: "errors, paths as given",
			args: []string{"validate", "./testdata/validate/broken"},
			code: 1,
			stdout: "./testdata/validate/broken/flows/main.yaml:3:10: say: missing translation for en\n" +
				"./testdata/validate/broken/flows/main.yaml:4:11: unknown step \"nowhere\" in flow main\n" +
				"./testdata/validate/broken/flows/main.yaml:5:5: warning: unreachable step\n",
		},
		{name: "missing dir", args: []string{"validate", "testdata/nope"}, code: 1, inStderr: "no such file"},
		{name: "no dir", args: []string{"validate"}, code: 2, inStderr: "usage: charla validate DIR"},
		{name: "two dirs", args: []string{"validate", "a", "b"}, code: 2, inStderr: "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCharla(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if out != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.stdout)
			}
			if !strings.Contains(errs, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", errs, tt.inStderr)
			}
		})
	}
}

func TestGraphCommand(t *testing.T) {
	code, out, errs := runCharla(t, "graph", "../../examples/hello", "--format", "dot", "--flow", "welcome")
	if code != 0 || !strings.HasPrefix(out, "digraph charla {") || !strings.Contains(out, "welcome_0") || strings.Contains(out, "goodbye_0") {
		t.Fatalf("exit %d, stderr %q, out:\n%s", code, errs, out)
	}
	code, out, _ = runCharla(t, "graph", "--format=mermaid", "../../examples/hello")
	if code != 0 || !strings.HasPrefix(out, "flowchart TD\n") {
		t.Fatalf("mermaid: exit %d, out:\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"graph", "../../examples/hello", "--format", "svg"}, 2, "unknown format"},
		{[]string{"graph", "../../examples/hello", "--flow", "nope"}, 1, `no flow named "nope"`},
		{[]string{"graph", "testdata/validate/broken"}, 1, "unknown step"},
		{[]string{"graph"}, 2, "usage"},
	} {
		code, _, errs := runCharla(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	code, out, _ := runCharla(t, "schema", "flow")
	if code != 0 || !strings.Contains(out, `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Fatalf("exit %d, out %.200s", code, out)
	}
	dir := t.TempDir()
	if code, _, errs := runCharla(t, "schema", "--out", dir); code != 0 {
		t.Fatalf("--out: exit %d: %s", code, errs)
	}
	if code, _, errs := runCharla(t, "schema", "nope"); code != 2 || !strings.Contains(errs, "no schema") {
		t.Fatalf("unknown kind: exit %d, %q", code, errs)
	}
}

// TestWarningsShown checks that test (as chat and bench, through openBot)
// prints the bot's warnings on stderr, as validate prints them.
func TestWarningsShown(t *testing.T) {
	code, _, errs := runCharla(t, "test", "testdata/validate/warnings")
	if code != 0 || !strings.Contains(errs, "testdata/validate/warnings/flows/main.yaml:5:5: warning: unreachable step\n") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	code, _, errs = runCharla(t, "test", "testdata/validate/broken")
	if code != 1 || !strings.Contains(errs, "main.yaml:5:5: warning: unreachable step\n") || !strings.Contains(errs, "unknown step \"nowhere\"") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

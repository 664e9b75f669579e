package flows_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"

	"github.com/charlabot/charla/flows"
)

var update = flag.Bool("update", false, "rewrite golden files")

// compileSchemas compiles the schema of every kind with an independent
// validator, which also proves each is a valid draft 2020-12 schema.
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for _, k := range flows.SchemaKindNames() {
		data, err := flows.Schema(k)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		url := "mem:///" + k + ".schema.json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("schema %s: %v", k, err)
		}
		out[k] = s
	}
	return out
}

// TestSchemaFilesUpToDate checks the committed schema/*.schema.json files
// (the ones the yaml-language-server lines point at); -update rewrites them.
func TestSchemaFilesUpToDate(t *testing.T) {
	for _, k := range flows.SchemaKindNames() {
		data, _ := flows.Schema(k)
		path := filepath.Join("schema", k+".schema.json")
		if *update {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(old, data) {
			t.Errorf("%s is out of date: run go test ./flows -run TestSchema -update", path)
		}
	}
}

func kindOf(rel string) string {
	switch {
	case rel == "bot.yaml":
		return "bot"
	case rel == "actions.yaml":
		return "actions"
	case strings.HasPrefix(rel, "flows/"):
		return "flow"
	case strings.HasPrefix(rel, "nlu/"):
		return "nlu"
	case strings.HasPrefix(rel, "kb/"):
		return "kb"
	case strings.HasPrefix(rel, "tests/"):
		return "tests"
	}
	return ""
}

// botFiles returns the YAML files of a bot directory by kind.
func botFiles(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if k := kindOf(filepath.ToSlash(rel)); k != "" {
			out[path] = k
		}
		return nil
	})
	return out
}

// schemaErrors validates every document of a YAML file and returns the
// lines the validator complains about.
func schemaErrors(t *testing.T, s *jsonschema.Schema, path string) (lines map[int]bool, msgs []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines = map[int]bool{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break
		}
		root := doc.Content[0]
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(toJSON(root)))
		if err != nil {
			t.Fatal(err)
		}
		err = s.Validate(inst)
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			continue
		}
		msgs = append(msgs, ve.Error())
		var walk func(e *jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			n := lookup(root, e.InstanceLocation)
			if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && n != nil {
				for _, p := range ap.Properties {
					if k := keyNode(n, p); k != nil {
						lines[k.Line] = true
					}
				}
			} else if n != nil {
				lines[n.Line] = true
			}
			for _, c := range e.Causes {
				walk(c)
			}
		}
		walk(ve)
	}
	return lines, msgs
}

// toJSON converts a YAML node to JSON; later duplicate keys win.
func toJSON(n *yaml.Node) []byte {
	var conv func(n *yaml.Node, depth int) any
	conv = func(n *yaml.Node, depth int) any {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if depth > 100 {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			m := map[string]any{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Tag == "!!merge" {
					if src, ok := conv(n.Content[i+1], depth+1).(map[string]any); ok {
						for k, v := range src {
							if _, set := m[k]; !set {
								m[k] = v
							}
						}
					}
					continue
				}
				m[n.Content[i].Value] = conv(n.Content[i+1], depth+1)
			}
			return m
		case yaml.SequenceNode:
			l := []any{}
			for _, e := range n.Content {
				l = append(l, conv(e, depth+1))
			}
			return l
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return n.Value
		}
		return v
	}
	data, _ := json.Marshal(conv(n, 0))
	return data
}

func lookup(n *yaml.Node, path []string) *yaml.Node {
	for _, p := range path {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == p {
					next = n.Content[i+1]
				}
			}
			if next == nil {
				return n
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(n.Content) {
				return n
			}
			n = n.Content[i]
		default:
			return n
		}
	}
	return n
}

func keyNode(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// TestSchemaAcceptsExamples validates every file of the repository's
// example bots and of the valid testdata against its schema.
func TestSchemaAcceptsExamples(t *testing.T) {
	schemas := compileSchemas(t)
	dirs, _ := filepath.Glob("../examples/*")
	valid, _ := filepath.Glob("testdata/valid/*")
	n := 0
	for _, dir := range append(dirs, valid...) {
		if _, err := os.Stat(filepath.Join(dir, "bot.yaml")); err != nil {
			continue
		}
		for path, k := range botFiles(t, dir) {
			n++
			if _, msgs := schemaErrors(t, schemas[k], path); len(msgs) > 0 {
				t.Errorf("%s does not pass the %s schema:\n%s", path, k, strings.Join(msgs, "\n"))
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d files checked", n)
	}
}

// wrongShapeRE selects the compiler's unknown-key and wrong-type
// diagnostics: the ones a schema can see.
var wrongShapeRE = regexp.MustCompile(`^unknown key |must be (a |an |true or false|between)`)

// TestSchemaRejectsErrorTestdata checks that, for each unknown-key and
// wrong-type error of testdata/errors, the schema reports a problem on the
// same line.
func TestSchemaRejectsErrorTestdata(t *testing.T) {
	schemas := compileSchemas(t)
	dirs, _ := filepath.Glob("testdata/errors/*")
	checked := 0
	for _, dir := range dirs {
		bot, _ := flows.LoadDir(dir)
		if bot == nil {
			continue
		}
		files := botFiles(t, dir)
		cache := map[string]map[int]bool{}
		for _, d := range bot.Diagnostics {
			k, ok := files[d.Pos.File]
			if !ok || !wrongShapeRE.MatchString(d.Msg) {
				continue
			}
			lines, ok := cache[d.Pos.File]
			if !ok {
				lines, _ = schemaErrors(t, schemas[k], d.Pos.File)
				cache[d.Pos.File] = lines
			}
			checked++
			if !lines[d.Pos.Line] {
				t.Errorf("%s: the %s schema accepts what the compiler rejects: %s", d.Pos, k, d.Msg)
			}
		}
	}
	if checked < 12 {
		t.Fatalf("only %d cases checked", checked)
	}
}

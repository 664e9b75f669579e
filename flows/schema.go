package flows

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

//go:embed schema.yaml
var schemaDefs []byte

// SchemaKinds are the file kinds that have a JSON Schema, and the root
// definition of each.
var SchemaKinds = map[string]string{
	"bot":     "botFile",     // bot.yaml
	"flow":    "flowFile",    // flows/*.yaml
	"actions": "actionsFile", // actions.yaml
	"nlu":     "nluFile",     // nlu/<lang>.yaml
	"kb":      "kbFile",      // kb/*.yaml
	"tests":   "testsFile",   // tests/*.yaml
}

// SchemaKindNames returns the kinds of SchemaKinds, sorted.
func SchemaKindNames() []string {
	out := make([]string, 0, len(SchemaKinds))
	for k := range SchemaKinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Schema returns the JSON Schema (draft 2020-12) of a kind of bot file,
// for editors: a file starting with
//
//	# yaml-language-server: $schema=path/to/flow.schema.json
//
// is completed and checked as it is typed.
func Schema(kind string) ([]byte, error) {
	root, ok := SchemaKinds[kind]
	if !ok {
		return nil, fmt.Errorf("no schema for %q (kinds: bot, flow, actions, nlu, kb, tests)", kind)
	}
	var defs map[string]any
	if err := yaml.Unmarshal(schemaDefs, &defs); err != nil {
		return nil, fmt.Errorf("flows: the embedded schema is broken: %w", err)
	}
	title := ""
	if d, ok := defs[root].(map[string]any); ok {
		title, _ = d["title"].(string)
	}
	s := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"title":   title,
		"$ref":    "#/$defs/" + root,
		"$defs":   defs,
	}
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Package flows is charla's flow language: it compiles a bot directory —
// bot.yaml, flows/*.yaml, actions.yaml, nlu/<lang>.yaml, kb/*.yaml and
// tests/*.yaml — into the [engine.Program] the runtime executes.
//
// The compiler works in stages: YAML is parsed into nodes that keep their
// positions; declarations (languages, queues, actions, intents, entities,
// flows and their slots) are collected; each flow is compiled against a
// typed environment (builtins, global slots, its own slots and variables)
// and lowered into the engine's flat state machine; the result is analysed
// (unreachable steps, loops that never wait) and checked. Every problem is
// reported at once, sorted, as path:line:col.
//
// The language itself is documented in docs/flows.md, and the files of a
// bot directory in docs/bot-directory.md.
package flows

// Package engine is the centre of charla: the domain types of a conversational
// bot and the runtime that executes them.
//
// A bot is a [Program]: an immutable, compiled state machine made of flows
// whose steps are states with transitions. The flows package compiles YAML bot
// directories into a Program; a Go developer may also build one in code. The
// runtime executes one Program for many conversations at once, through small
// interfaces that adapters implement: an [Understander] (intent matching and
// entities), a Store, a Sender (channels) and a Handoff (human agents).
//
// The engine never imports the packages that adapt it (flows, nlu, channels).
package engine

package server

import (
	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
)

// openBolt opens the durable store at path (DATADIR/charla.db).
func openBolt(path string) (engine.Store, error) {
	return bolt.Open(path, bolt.Options{})
}

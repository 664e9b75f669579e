package server

import (
	"errors"

	"github.com/charlabot/charla/engine"
)

// openBolt opens the durable store at path.
func openBolt(path string) (engine.Store, error) {
	return nil, errors.New("the bbolt store is not available yet: use --memory")
}

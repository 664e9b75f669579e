package memory_test

import (
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
	"github.com/charlabot/charla/engine/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store { return memory.New() })
}

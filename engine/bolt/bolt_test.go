package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/bolt"
	"github.com/charlabot/charla/engine/storetest"
)

func TestConformance(t *testing.T) {
	open := func(t *testing.T) engine.Store {
		s, err := bolt.Open(t.TempDir(), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	reopen := func(t *testing.T, s engine.Store) engine.Store {
		path := s.(*bolt.Store).Path()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2, err := bolt.Open(filepath.Dir(path), bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s2
	}
	storetest.Run(t, open, reopen)
}

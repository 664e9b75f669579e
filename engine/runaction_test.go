package engine

import (
	"context"
	"runtime"
	"testing"
)

// A function that answered is not reported as a timeout because its
// deadline passed too before the turn looked (both ready at once).
func TestRunActionPrefersTheAnswer(t *testing.T) {
	// One P: the function's goroutine hands its answer over before the
	// turn's goroutine runs again, as on a busy machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		v, err := runAction(ctx, func(ctx context.Context, _ ActionCall) (any, error) {
			cancel() // the deadline passes as the answer is given
			return i, nil
		}, ActionCall{})
		if err != nil || v != i {
			t.Fatalf("attempt %d: %v, %v", i, v, err)
		}
	}
}

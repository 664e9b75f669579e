package engine

import (
	"context"
	"runtime"
	"sync"
	"testing"
)

// TestConversationLockIsFIFO: callers get a conversation in the order they
// asked for it, and other conversations are not held up.
func TestConversationLockIsFIFO(t *testing.T) {
	l := newConvLocks()
	ctx := context.Background()
	if err := l.lock(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.lock(ctx, "c")
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			l.unlock("c")
		}()
		for l.waiting("c") != i+1 { // queued before the next one asks
			runtime.Gosched()
		}
	}
	// Another conversation is free meanwhile.
	done := make(chan struct{})
	go func() {
		l.lock(ctx, "other")
		l.unlock("other")
		close(done)
	}()
	<-done
	l.unlock("c")
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("order = %v", order)
		}
	}
	// Nothing is left behind.
	for i := range l.shards {
		if n := len(l.shards[i].m); n != 0 {
			t.Fatalf("shard %d keeps %d queues", i, n)
		}
	}
}

func TestConversationLockHonoursContext(t *testing.T) {
	l := newConvLocks()
	l.lock(context.Background(), "c")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- l.lock(ctx, "c") }()
	for l.waiting("c") != 1 {
		runtime.Gosched()
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("lock succeeded after cancel")
	}
	l.unlock("c")
	if err := l.lock(context.Background(), "c"); err != nil { // the cancelled waiter left the queue
		t.Fatal(err)
	}
	l.unlock("c")
}

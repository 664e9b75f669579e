package channeltest

import (
	"context"
	"slices"
	"sync"

	"github.com/charlabot/charla/engine"
)

// Recorder is an engine.Handler and engine.ReceiptRecorder for connector
// tests: it records the messages and receipts it is given and answers with
// Reply, or with the [Bot] script when Reply is nil or returns nil.
type Recorder struct {
	Bot Bot

	mu       sync.Mutex
	reply    func(in engine.Inbound) []engine.Outbound
	got      []engine.Inbound
	receipts []engine.Receipt
}

var (
	_ engine.Handler         = (*Recorder)(nil)
	_ engine.ReceiptRecorder = (*Recorder)(nil)
)

// SetReply makes f answer the messages (nil: the Bot script).
func (r *Recorder) SetReply(f func(in engine.Inbound) []engine.Outbound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reply = f
}

// Handle records in and answers it.
func (r *Recorder) Handle(ctx context.Context, in engine.Inbound) (*engine.Turn, error) {
	r.mu.Lock()
	r.got = append(r.got, in)
	reply := r.reply
	r.mu.Unlock()
	if reply != nil {
		if out := reply(in); out != nil {
			return &engine.Turn{Messages: out}, nil
		}
	}
	return r.Bot.Handle(ctx, in)
}

// RecordReceipt records a receipt.
func (r *Recorder) RecordReceipt(_ context.Context, rc engine.Receipt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.receipts = append(r.receipts, rc)
	return nil
}

// Inbound returns the messages handled so far.
func (r *Recorder) Inbound() []engine.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// Receipts returns the receipts recorded so far with the given status
// ("" : all).
func (r *Recorder) Receipts(status engine.ReceiptStatus) []engine.Receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []engine.Receipt
	for _, rc := range r.receipts {
		if status == "" || rc.Status == status {
			out = append(out, rc)
		}
	}
	return out
}

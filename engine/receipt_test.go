package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/memory"
)

func TestRecordReceipt(t *testing.T) {
	p := &engine.Program{Name: "receipts", Languages: []string{"es"}, Flows: []*engine.Flow{{
		Name: "hola", Triggers: engine.Triggers{Keywords: []string{"hola"}},
		Steps: []engine.Step{&engine.Say{Message: &engine.Message{Variants: []engine.Text{engine.Lit("¡Hola!")}}}},
	}}}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	rt, err := engine.NewRuntime(p, engine.Options{Store: memory.New()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := rt.Handle(ctx, engine.Inbound{Conversation: "wa-1", User: "wa-1", Channel: "whatsapp", ID: "wamid.1", Text: "hola"}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, r := range []engine.Receipt{
		{Conversation: "wa-1", Channel: "whatsapp", Ref: "wamid.OUT1", Status: engine.ReceiptAccepted, Form: "text", At: at},
		{Conversation: "wa-1", Channel: "whatsapp", Ref: "wamid.OUT1", Status: engine.ReceiptRead, At: at.Add(time.Minute)},
	} {
		if err := rt.RecordReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	es, err := rt.Transcript(ctx, "wa-1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 {
		t.Fatalf("transcript %+v, want the message, the reply and 2 receipts", es)
	}
	r := es[3]
	if r.From != engine.FromStatus || r.Seq != 4 || r.Receipt == nil || r.Receipt.Status != engine.ReceiptRead ||
		r.Receipt.Ref != "wamid.OUT1" || !r.At.Equal(at.Add(time.Minute)) || r.Text != "" {
		t.Errorf("receipt entry %+v", r)
	}
	// the conversation goes on, numbered after the receipts
	tr, err := rt.Handle(ctx, engine.Inbound{Conversation: "wa-1", User: "wa-1", Channel: "whatsapp", ID: "wamid.2", Text: "hola"})
	if err != nil || len(tr.Messages) != 1 {
		t.Fatalf("%+v %v", tr, err)
	}
	if es, _ := rt.Transcript(ctx, "wa-1", 4, 0); len(es) != 2 || es[0].Seq != 5 {
		t.Errorf("after the receipts: %+v", es)
	}
	if err := rt.RecordReceipt(ctx, engine.Receipt{Conversation: "nobody", Status: engine.ReceiptSent}); engine.ErrCode(err) != engine.ENotFound {
		t.Errorf("unknown conversation: %v", err)
	}
	if err := rt.RecordReceipt(ctx, engine.Receipt{Conversation: "wa-1"}); engine.ErrCode(err) != engine.EInvalid {
		t.Errorf("no status: %v", err)
	}
}

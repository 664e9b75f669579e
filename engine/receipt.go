package engine

import (
	"context"
	"time"
)

// Receipt is what a channel learnt about a message it sent: the form it
// took (a WhatsApp template outside the customer-service window, a list
// instead of buttons) when it was accepted, and later the platform's
// delivery status. Channels hand receipts to a [ReceiptRecorder].
type Receipt struct {
	Conversation string        `json:"conversation"`
	Channel      string        `json:"channel,omitempty"`
	Ref          string        `json:"ref"`                // the platform's id of the message (a WhatsApp wamid)
	Status       ReceiptStatus `json:"status"`             // accepted, sent, delivered, read or failed
	Form         string        `json:"form,omitempty"`     // accepted: text, buttons, list, image, template, ...
	Template     string        `json:"template,omitempty"` // the template's name, when Form is "template"
	Error        string        `json:"error,omitempty"`    // failed: why
	At           time.Time     `json:"at"`
}

// ReceiptStatus is the state of a sent message.
type ReceiptStatus string

const (
	ReceiptAccepted  ReceiptStatus = "accepted"  // the platform took it (the channel's own record)
	ReceiptSent      ReceiptStatus = "sent"      // the platform sent it
	ReceiptDelivered ReceiptStatus = "delivered" // it reached the shopper's device
	ReceiptRead      ReceiptStatus = "read"      // the shopper opened it
	ReceiptFailed    ReceiptStatus = "failed"    // it could not be delivered
)

// ReceiptRecorder records receipts of sent messages on their conversation's
// transcript. The runtime is one; channels find it on their Handler by
// type assertion.
type ReceiptRecorder interface {
	RecordReceipt(ctx context.Context, r Receipt) error
}

var _ ReceiptRecorder = (*Runtime)(nil)

// RecordReceipt appends a receipt to its conversation's transcript, as an
// entry from FromStatus that carries it (no text; the transcript's readers
// show it as a mark on the message it names). ENotFound: no such
// conversation.
func (rt *Runtime) RecordReceipt(ctx context.Context, r Receipt) error {
	if r.Conversation == "" || r.Status == "" {
		return Errorf(EInvalid, "a receipt needs a conversation and a status")
	}
	if r.At.IsZero() {
		r.At = rt.now()
	}
	return rt.withConversation(ctx, r.Conversation, func(prev *Session) (*turnResult, error) {
		if prev == nil {
			return nil, Errorf(ENotFound, "no conversation %q", r.Conversation)
		}
		s := prev.Clone()
		s.Seq++
		e := Entry{Seq: s.Seq, From: FromStatus, At: r.At, Channel: r.Channel, Receipt: &r}
		if err := rt.store.Commit(ctx, &Commit{Session: s, Entries: []Entry{e}}); err != nil {
			return nil, storeError(err)
		}
		return nil, nil
	})
}

// renderTemplate renders a say step's template for the conversation: its
// parameters against the turn's variables, its language defaulting to the
// conversation's.
func (t *turn) renderTemplate(m *MessageTemplate) (*OutTemplate, error) {
	ot := &OutTemplate{Name: m.Name, Lang: m.Lang}
	if ot.Lang == "" {
		ot.Lang = t.s.Lang
	}
	if len(m.Params) > 0 {
		vars := t.vars()
		ot.Params = make([]string, len(m.Params))
		for i, p := range m.Params {
			s, err := p.Render(vars)
			if err != nil {
				return nil, err
			}
			ot.Params[i] = s
		}
	}
	return ot, nil
}

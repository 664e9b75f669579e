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

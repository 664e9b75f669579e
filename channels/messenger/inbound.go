package messenger

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

// The webhook payload of the Messenger Platform (object "page"), as
// documented (only what charla reads).
type payload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string  `json:"id"`
		Time      int64   `json:"time"`
		Messaging []event `json:"messaging"`
	} `json:"entry"`
}

type event struct {
	Sender    struct{ ID string } `json:"sender"`
	Recipient struct{ ID string } `json:"recipient"`
	Timestamp int64               `json:"timestamp"` // milliseconds
	Message   *struct {
		Mid        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		Attachments []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Payload struct {
				URL         string `json:"url"`
				Title       string `json:"title"`
				Coordinates *struct {
					Lat  float64 `json:"lat"`
					Long float64 `json:"long"`
				} `json:"coordinates"`
			} `json:"payload"`
		} `json:"attachments"`
	} `json:"message"`
	Postback *struct {
		Mid     string `json:"mid"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
	} `json:"postback"`
	Delivery *struct {
		Mids      []string `json:"mids"`
		Watermark int64    `json:"watermark"`
	} `json:"delivery"`
	Read *struct {
		Watermark int64 `json:"watermark"`
	} `json:"read"`
}

func msTime(ms int64, fallback time.Time) time.Time {
	if ms <= 0 {
		return fallback
	}
	t := time.UnixMilli(ms)
	if t.After(fallback) {
		return fallback
	}
	return t
}

// deliver reads a signed webhook body and dispatches its work.
func (c *Connector) deliver(body []byte) error {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil || p.Object != "page" {
		return meta.ErrPayload
	}
	now := c.Clock.Now()
	var work []meta.Work
	for _, e := range p.Entry {
		if c.Config.PageID != "" && e.ID != "" && e.ID != c.Config.PageID {
			c.Logger.Warn("messenger: a delivery for another page; is the app subscribed twice?", "page", e.ID)
			continue
		}
		for _, ev := range e.Messaging {
			user := ev.Sender.ID
			if user == "" || user == c.Config.PageID {
				continue // the page's own echo
			}
			conv := ConversationID(user)
			at := msTime(ev.Timestamp, now)
			switch {
			case ev.Message != nil && ev.Message.IsEcho:
			case ev.Message != nil || ev.Postback != nil:
				if mid := midOf(ev); mid != "" && c.inbox.Known(mid) {
					continue // Meta redelivered it
				}
				w, ok := c.inbound(ev, conv, at)
				if ok {
					c.windows.Touch(conv, at)
					work = append(work, w)
				}
			case ev.Delivery != nil:
				d := *ev.Delivery
				work = append(work, meta.Work{Conversation: conv, Run: func(ctx context.Context) {
					for _, mid := range d.Mids {
						c.receipts.Record(ctx, engine.Receipt{Conversation: conv, Ref: mid, Status: engine.ReceiptDelivered, At: msTime(d.Watermark, now)})
					}
				}})
			case ev.Read != nil:
				wm := ev.Read.Watermark
				work = append(work, meta.Work{Conversation: conv, Run: func(ctx context.Context) {
					// everything sent before the watermark was read
					c.receipts.Record(ctx, engine.Receipt{Conversation: conv, Ref: "watermark:" + strconv.FormatInt(wm, 10), Status: engine.ReceiptRead, At: msTime(wm, now)})
				}})
			}
		}
	}
	return c.inbox.Dispatch(work)
}

func midOf(ev event) string {
	if ev.Message != nil {
		return ev.Message.Mid
	}
	return ev.Postback.Mid
}

// inbound turns a message or postback into work: a turn, or the answer
// to an unsupported attachment.
func (c *Connector) inbound(ev event, conv string, at time.Time) (meta.Work, bool) {
	in := engine.Inbound{Conversation: conv, User: UserID(ev.Sender.ID), Channel: Channel, Verified: true, At: at}
	w := meta.Work{Conversation: conv, In: &in}
	if pb := ev.Postback; pb != nil {
		in.ID = pb.Mid
		if in.ID == "" {
			in.ID = "pb-" + ev.Sender.ID + "-" + strconv.FormatInt(ev.Timestamp, 10)
		}
		in.Choice, w.ID = pb.Payload, in.ID
		if in.Choice == "" {
			in.Text = pb.Title
		}
		c.choices.Remember(conv, nil)
		return w, in.Choice != "" || in.Text != ""
	}
	m := ev.Message
	in.ID, w.ID = m.Mid, m.Mid
	if m.Mid == "" {
		return w, false
	}
	if m.QuickReply != nil && m.QuickReply.Payload != "" {
		in.Choice = m.QuickReply.Payload
		if n, err := strconv.Atoi(strings.TrimPrefix(in.Choice, "#")); err == nil && strings.HasPrefix(in.Choice, "#") {
			// a choice whose value did not fit a payload: its index
			in.Choice, in.Text = "", strconv.Itoa(n+1)
			if !c.choices.Resolve(&in) {
				in.Text = m.Text
			}
		}
		c.choices.Remember(conv, nil)
		return w, true
	}
	for _, a := range m.Attachments {
		if a.Payload.Title == "" {
			a.Payload.Title = a.Title
		}
		switch a.Type {
		case "image", "file":
			kind := "file"
			if a.Type == "image" {
				kind = "image"
			}
			in.Attachments = append(in.Attachments, engine.Attachment{ID: a.Payload.URL, Kind: kind, URL: a.Payload.URL, Name: a.Payload.Title})
		case "location":
			if co := a.Payload.Coordinates; co != nil {
				in.Location = &engine.Location{Lat: co.Lat, Lon: co.Long, Name: a.Payload.Title}
			}
		case "fallback":
			if m.Text == "" && a.Payload.URL != "" {
				in.Text = a.Payload.URL // a shared link
			}
		}
	}
	if m.Text != "" {
		in.Text = m.Text
	}
	switch {
	case len(in.Attachments) > 0 || in.Location != nil:
		return w, true
	case strings.TrimSpace(in.Text) != "":
		if !c.choices.Resolve(&in) {
			w.Text = true
		}
		return w, true
	case len(m.Attachments) > 0: // audio, video, stickers, reels, ...
		id := m.Mid
		return meta.Work{Conversation: conv, ID: id, Run: func(ctx context.Context) { c.unsupported(ctx, conv) }}, true
	}
	return w, false
}

// beforeTurn marks the messages seen and shows "typing…".
func (c *Connector) beforeTurn(ctx context.Context, in engine.Inbound) {
	if !c.Config.NoReadMarks {
		c.action(ctx, in.Conversation, "mark_seen")
		c.Typing(ctx, in.Conversation)
	}
}

func (c *Connector) unsupported(ctx context.Context, conv string) {
	if c.Config.Unsupported == "-" {
		return
	}
	if err := c.reply(ctx, engine.Outbound{Conversation: conv, Text: c.Config.Unsupported}); err != nil {
		c.Logger.Error("messenger: answering an unsupported message failed", "conversation", conv, "err", err)
	}
}

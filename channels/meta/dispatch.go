package meta

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/engine"
)

// Work is one thing a webhook delivery asks of a connector: a message for
// a turn (In), or something else to run in the conversation's order (Run:
// a receipt, an answer to an unsupported message).
type Work struct {
	Conversation string
	ID           string // the platform's message id, de-duplicated ("" : none)
	In           *engine.Inbound
	Text         bool // In is a plain text the debounce may join with others
	Run          func(ctx context.Context)
}

// Dispatcher is the inbound side that Meta's connectors share: it drops
// redelivered message ids, holds room in the Queue for a whole delivery
// (or refuses it with ErrBusy, so Meta redelivers and nothing is lost),
// joins bursts of texts when Debounce is set, and runs each conversation's
// turns in order: Before (read marks, typing), the Handler (a store that
// is down is retried twice), then Reply for each message of the turn, or a
// polite notice when the turn failed. Set the fields before the first
// Dispatch; Handler and Reply are required.
type Dispatcher struct {
	Handler engine.Handler
	Reply   func(ctx context.Context, out engine.Outbound) error
	Before  func(ctx context.Context, in engine.Inbound) // may be nil

	Queue       *Queue        // default: a Queue with its defaults
	Debounce    time.Duration // 0: every message is a turn
	Clock       Clock
	TurnTimeout time.Duration // a turn and its replies (default 60 s)
	Sleep       func(ctx context.Context, d time.Duration) error
	Logger      *slog.Logger
	Name        string // the channel, for logs

	once     sync.Once
	seen     Seen
	debounce *Debouncer[engine.Inbound]

	mu     sync.Mutex
	active map[string]*[]func(context.Context) // conversations in a turn → sends held until its replies are out
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		if d.Queue == nil {
			d.Queue = &Queue{}
		}
		d.Clock = clockOr(d.Clock)
		if d.TurnTimeout <= 0 {
			d.TurnTimeout = time.Minute
		}
		if d.Logger == nil {
			d.Logger = slog.Default()
		}
		if d.Debounce > 0 {
			d.debounce = &Debouncer[engine.Inbound]{Delay: d.Debounce, Clock: d.Clock, Flush: d.flushBurst}
		}
	})
}

// Known reports whether a message id was dispatched already, so that a
// connector can skip reading a redelivery (Dispatch checks again).
func (d *Dispatcher) Known(id string) bool { return d.seen.Has(id) }

// Dispatch queues the work of one delivery. Work whose ID was seen before
// is dropped. It returns ErrBusy, forgetting the new ids, when the queue
// has no room for all of it.
func (d *Dispatcher) Dispatch(work []Work) error {
	d.init()
	var ids []string
	kept := work[:0:0]
	for _, w := range work {
		if w.ID != "" {
			if !d.seen.Add(w.ID) {
				continue // Meta redelivered it
			}
			ids = append(ids, w.ID)
		}
		kept = append(kept, w)
	}
	if len(kept) == 0 {
		return nil
	}
	if !d.Queue.Reserve(len(kept)) {
		for _, id := range ids {
			d.seen.Forget(id)
		}
		return ErrBusy
	}
	for _, w := range kept {
		switch {
		case w.In != nil && w.Text && d.debounce != nil:
			d.debounce.Add(w.Conversation, *w.In)
		case w.In != nil:
			in := *w.In
			d.push(w.Conversation, func(ctx context.Context) { d.turn(ctx, in) })
		default:
			d.push(w.Conversation, w.Run)
		}
	}
	return nil
}

// push queues run after the conversation's burst, if one is gathering.
func (d *Dispatcher) push(conv string, run func(ctx context.Context)) {
	do := func() { d.Queue.Push(conv, d.job(run)) }
	if d.debounce != nil {
		d.debounce.FlushKey(conv, do)
		return
	}
	do()
}

func (d *Dispatcher) job(run func(ctx context.Context)) func() {
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.TurnTimeout)
		defer cancel()
		run(ctx)
	}
}

// flushBurst makes one turn of a burst of texts: joined by line breaks,
// the first id as the message's and the others as its fragments. Each
// text held a queue slot; the turn keeps one.
func (d *Dispatcher) flushBurst(conv string, burst []engine.Inbound) {
	in := burst[0]
	if len(burst) > 1 {
		texts := make([]string, len(burst))
		for i, f := range burst {
			texts[i] = f.Text
			if i > 0 {
				in.Fragments = append(in.Fragments, f.ID)
			}
		}
		in.Text = strings.Join(texts, "\n")
		in.At = burst[len(burst)-1].At
		d.Queue.Release(len(burst) - 1)
	}
	d.Queue.Push(conv, d.job(func(ctx context.Context) { d.turn(ctx, in) }))
}

// LastID is the id of the last message of in: its last fragment, or its own.
func LastID(in engine.Inbound) string {
	if n := len(in.Fragments); n > 0 {
		return in.Fragments[n-1]
	}
	return in.ID
}

// inTurn marks the context of a turn's Handle with its conversation.
type inTurn struct{}

// Defer holds send until the turn of conv has sent its replies, when ctx
// is that turn's (the runtime called the connector's Send while handling
// it), and reports whether it did; otherwise the caller sends now. A
// connector's Send uses it so that what the runtime sends from inside a
// turn — a hand-off's place in the queue, an agent's greeting — comes
// after the turn's own replies, as the shopper expects to read them.
// Sends from elsewhere (an event, an agent) are never held, so their
// errors reach their callers.
func (d *Dispatcher) Defer(ctx context.Context, conv string, send func(ctx context.Context)) bool {
	if c, _ := ctx.Value(inTurn{}).(string); c != conv {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	held, ok := d.active[conv]
	if !ok {
		return false
	}
	*held = append(*held, send)
	return true
}

// begin marks conv as in a turn; end sends what was held meanwhile and
// unmarks it.
func (d *Dispatcher) begin(conv string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.active == nil {
		d.active = map[string]*[]func(context.Context){}
	}
	d.active[conv] = new([]func(context.Context))
}

func (d *Dispatcher) end(ctx context.Context, conv string) {
	for {
		d.mu.Lock()
		held := d.active[conv]
		if held == nil || len(*held) == 0 {
			delete(d.active, conv)
			d.mu.Unlock()
			return
		}
		sends := *held
		*held = nil
		d.mu.Unlock()
		for _, send := range sends {
			send(context.WithoutCancel(ctx))
		}
	}
}

// turn runs one turn and sends its replies. Before (the read mark and
// typing indicator) runs alongside the turn, and the replies wait for it,
// so it adds no latency to a turn that takes longer.
func (d *Dispatcher) turn(ctx context.Context, in engine.Inbound) {
	if d.Before != nil {
		done := make(chan struct{})
		go func() {
			defer close(done)
			d.Before(ctx, in)
		}()
		defer func() { <-done }() // also when the turn fails
		orig := d.Reply
		reply := func(ctx context.Context, out engine.Outbound) error {
			<-done
			return orig(ctx, out)
		}
		d.turnWith(ctx, in, reply)
		return
	}
	d.turnWith(ctx, in, d.Reply)
}

func (d *Dispatcher) turnWith(ctx context.Context, in engine.Inbound, reply func(context.Context, engine.Outbound) error) {
	d.begin(in.Conversation)
	defer d.end(ctx, in.Conversation)
	var (
		t   *engine.Turn
		err error
	)
	hctx := context.WithValue(ctx, inTurn{}, in.Conversation)
	for attempt := 0; ; attempt++ {
		t, err = d.Handler.Handle(hctx, in)
		if err == nil || engine.ErrCode(err) != engine.EUnavailable || attempt == 2 || ctx.Err() != nil {
			break
		}
		if d.sleep(ctx, time.Duration(attempt+1)*time.Second) != nil {
			break
		}
	}
	if err != nil {
		code := engine.ErrCode(err)
		text := engine.ErrMessage(err)
		if code == engine.EInternal || code == engine.EUnavailable {
			d.Logger.Error(d.Name+": turn failed", "conversation", in.Conversation, "err", err)
			text = Polite(in.Lang)
		}
		if err := reply(ctx, engine.Outbound{Conversation: in.Conversation, User: in.User, Channel: in.Channel, Text: text}); err != nil {
			d.Logger.Error(d.Name+": sending the error notice failed", "conversation", in.Conversation, "err", err)
		}
		return
	}
	if t.Duplicate {
		return // answered the first time
	}
	for _, m := range t.Messages {
		m.Conversation = in.Conversation
		if err := reply(ctx, m); err != nil {
			d.Logger.Error(d.Name+": sending a reply failed", "conversation", in.Conversation, "err", err)
			return
		}
	}
}

func (d *Dispatcher) sleep(ctx context.Context, dur time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dur)
	}
	return Sleep(ctx, dur)
}

// Polite is the notice a shopper gets when a turn failed inside.
func Polite(lang string) string {
	if lang == "en" {
		return "Sorry, something went wrong. Shall we try again?"
	}
	return "Lo siento, tuve un problema. ¿Lo intentamos de nuevo?"
}

// Shutdown hands over the bursts being gathered and waits for the queued
// work to finish, or for ctx.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.init()
	if d.debounce != nil {
		d.debounce.FlushAll()
	}
	return d.Queue.Close(ctx)
}

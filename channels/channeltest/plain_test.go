package channeltest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/channeltest"
	"github.com/charlabot/charla/engine"
)

// sms is the smallest connector there is: text only, 160 characters a
// message, no buttons. It exists to run the conformance suite through the
// degradation every such channel relies on: numbered lists answered by
// number or by text, long texts split.
type sms struct {
	mu    sync.Mutex
	boxes map[string]chan string // conversation → what the phone received
}

func (s *sms) MaxText() int { return 160 }

func (s *sms) box(conv string) chan string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boxes[conv] == nil {
		s.boxes[conv] = make(chan string, 100)
	}
	return s.boxes[conv]
}

func (s *sms) Send(_ context.Context, out engine.Outbound) error {
	s.box(out.Conversation) <- out.Text
	return nil
}

type smsPlatform struct {
	phone *sms
	out   engine.Sender // the degraded sender
	mem   channels.Choices
	h     engine.Handler
}

func (p *smsPlatform) Start(t *testing.T, b *channeltest.Bot) {
	p.phone = &sms{boxes: map[string]chan string{}}
	p.out = channels.Degraded(p.phone, &p.mem)
	p.h = b
	b.Register("sms", p.out)
}
func (p *smsPlatform) MaxText() int    { return 160 }
func (p *smsPlatform) Proactive() bool { return true }
func (p *smsPlatform) NewUser(t *testing.T, id string) channeltest.User {
	return &smsUser{p: p, id: id}
}

type smsUser struct {
	p  *smsPlatform
	id string
	n  int
}

func (u *smsUser) ID() string { return u.id }

// Say is the connector's inbound side: resolve a numbered answer, run the
// turn, send the replies through the degraded sender.
func (u *smsUser) Say(ctx context.Context, text string) error {
	u.n++
	in := engine.Inbound{Conversation: "sms-" + u.id, User: u.id, Channel: "sms", ID: fmt.Sprint(u.n), Text: text}
	u.p.mem.Resolve(&in)
	turn, err := u.p.h.Handle(ctx, in)
	if err != nil {
		return u.p.out.Send(ctx, engine.Outbound{Conversation: in.Conversation, Text: "Error: " + engine.ErrMessage(err)})
	}
	for _, m := range turn.Messages {
		m.Conversation = in.Conversation
		if err := u.p.out.Send(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (u *smsUser) Press(ctx context.Context, _ channeltest.Received, i int) error {
	return u.Say(ctx, fmt.Sprint(i+1)) // a numbered list is answered by number
}

func (u *smsUser) Next(ctx context.Context) (channeltest.Received, error) {
	select {
	case t := <-u.p.phone.box("sms-" + u.id):
		return channeltest.Received{Text: t}, nil
	case <-ctx.Done():
		return channeltest.Received{}, ctx.Err()
	}
}

func TestConformanceOfDegradedChannel(t *testing.T) {
	channeltest.Run(t, &smsPlatform{})
}

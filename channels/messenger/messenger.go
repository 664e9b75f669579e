// Package messenger is charla's Facebook Messenger connector, on Meta's
// Messenger Platform. It shares its webhook, Graph API client, queue,
// debounce and window with the WhatsApp connector (channels/meta).
//
// Inbound: texts, quick replies and postbacks (button template taps),
// images and files (by URL), locations; reactions and echoes of the page's
// own messages are ignored; other attachments get a configurable answer;
// deliveries and reads become engine.Receipts.
//
// Outbound: texts split at 2,000 characters; 1 to 3 choices with short
// labels as a button template (postback buttons that stay visible), up to
// 13 as quick replies, more as a numbered text; images; a link as a URL
// button; typing_on and mark_seen. Messenger's 24-hour window: inside it a
// reply is a RESPONSE and anything else an UPDATE; outside it a message
// whose flow named a template (it is a notification the designer meant to
// send late) goes out with the message tag configured in Config.Tag, and
// anything else is refused with channels.ErrTemplateRequired.
package messenger

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/charlabot/charla/channels"
	"github.com/charlabot/charla/channels/meta"
	"github.com/charlabot/charla/engine"
)

// Channel is the channel name of Messenger conversations.
const Channel = "messenger"

// Limits of the Send API.
const (
	MaxText          = 2000 // characters of a text message
	MaxQuickReplies  = 13
	maxTemplateBtns  = 3
	maxTitle         = 20 // quick reply and button titles
	maxPayload       = 1000
	maxTemplateText  = 640
	defaultRate      = 40
	defaultUnsupport = "Por ahora solo puedo leer texto, botones, ubicaciones, imágenes y archivos. ¿Me lo escribes, por favor? / For now I can only read text, buttons, locations, images and files."
)

// Environment variables read by [ConfigFromEnv].
const (
	EnvPageID      = "MESSENGER_PAGE_ID"
	EnvPageToken   = "MESSENGER_PAGE_TOKEN"
	EnvAppSecret   = "MESSENGER_APP_SECRET"   // or META_APP_SECRET
	EnvVerifyToken = "MESSENGER_VERIFY_TOKEN" // or META_VERIFY_TOKEN
	EnvGraphURL    = "MESSENGER_GRAPH_URL"    // or META_GRAPH_URL
	EnvRate        = "MESSENGER_RATE"
	EnvDebounce    = "MESSENGER_DEBOUNCE"
	EnvTag         = "MESSENGER_TAG" // e.g. POST_PURCHASE_UPDATE
	EnvUnsupported = "MESSENGER_UNSUPPORTED"
)

// Config is a Facebook page's configuration. PageID, PageToken, AppSecret
// and VerifyToken are required.
type Config struct {
	PageID       string
	PageToken    string // a page access token with pages_messaging
	AppSecret    string
	VerifyToken  string
	GraphURL     string        // default https://graph.facebook.com
	GraphVersion string        // default v21.0
	Rate         float64       // messages per second (default 40)
	Debounce     time.Duration // join texts less than this apart (0: off)
	// Tag is the message tag of messages sent outside the 24-hour window
	// when their flow names a template (POST_PURCHASE_UPDATE,
	// CONFIRMED_EVENT_UPDATE, ACCOUNT_UPDATE); "" refuses them.
	Tag         string
	Unsupported string // the answer to attachments charla does not read; "-": none
	NoReadMarks bool   // no mark_seen and typing_on while a turn runs
}

// ConfigFromEnv reads the configuration from the environment; configured
// is false when MESSENGER_PAGE_ID is unset.
func ConfigFromEnv(getenv func(string) string) (cfg Config, configured bool, err error) {
	env := meta.Env(getenv)
	cfg = Config{
		PageID: env.First(EnvPageID), PageToken: env.First(EnvPageToken),
		AppSecret: env.First(EnvAppSecret, "META_APP_SECRET"), VerifyToken: env.First(EnvVerifyToken, "META_VERIFY_TOKEN"),
		GraphURL: env.First(EnvGraphURL, "META_GRAPH_URL"), GraphVersion: env.First("MESSENGER_GRAPH_VERSION", "META_GRAPH_VERSION"),
		Tag: env.First(EnvTag), Unsupported: getenv(EnvUnsupported),
	}
	if cfg.PageID == "" {
		return cfg, false, nil
	}
	if cfg.Rate, err = env.Rate(EnvRate); err != nil {
		return cfg, true, err
	}
	if cfg.Debounce, err = env.Duration(EnvDebounce); err != nil {
		return cfg, true, err
	}
	return cfg, true, meta.Missing(Channel, EnvPageID, cfg.PageID, EnvPageToken, cfg.PageToken,
		EnvAppSecret, cfg.AppSecret, EnvVerifyToken, cfg.VerifyToken)
}

// Connector is a Facebook page connected to a Handler. Create it with
// [New]; the exported fields may be set before it serves.
type Connector struct {
	Config      Config
	Handler     engine.Handler
	Receipts    engine.ReceiptRecorder // default: Handler, when it records receipts
	HTTP        *http.Client
	Logger      *slog.Logger
	Clock       meta.Clock
	Queue       *meta.Queue
	TurnTimeout time.Duration
	Sleep       func(ctx context.Context, d time.Duration) error

	once     sync.Once
	webhook  *meta.Webhook
	inbox    *meta.Dispatcher
	graph    *meta.Client
	actions  *meta.Client
	windows  meta.Windows
	choices  channels.Choices
	receipts *meta.Receipts
}

var (
	_ channels.Connector = (*Connector)(nil)
	_ channels.Buttoner  = (*Connector)(nil)
	_ channels.Typer     = (*Connector)(nil)
	_ channels.Imager    = (*Connector)(nil)
	_ channels.Limiter   = (*Connector)(nil)
	_ http.Handler       = (*Connector)(nil)
)

// New returns a connector for cfg that hands turns to h.
func New(cfg Config, h engine.Handler) *Connector { return &Connector{Config: cfg, Handler: h} }

func (c *Connector) init() {
	c.once.Do(func() {
		cfg := &c.Config
		if cfg.Rate <= 0 {
			cfg.Rate = defaultRate
		}
		if cfg.Unsupported == "" {
			cfg.Unsupported = defaultUnsupport
		}
		if c.Receipts == nil {
			c.Receipts, _ = c.Handler.(engine.ReceiptRecorder)
		}
		if c.HTTP == nil {
			c.HTTP = meta.NewHTTPClient()
		}
		if c.Clock == nil {
			c.Clock = meta.SystemClock
		}
		if c.Logger == nil {
			c.Logger = slog.Default()
		}
		c.receipts = &meta.Receipts{To: c.Receipts, Channel: Channel, Clock: c.Clock, Logger: c.Logger}
		c.graph = &meta.Client{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, Token: cfg.PageToken, HTTP: c.HTTP,
			Limiter: &meta.Limiter{Rate: cfg.Rate, Sleep: c.Sleep}, Sleep: c.Sleep}
		actions := *c.graph
		actions.Limiter, actions.Retries = nil, -1
		c.actions = &actions
		c.webhook = &meta.Webhook{AppSecret: []byte(cfg.AppSecret), VerifyToken: cfg.VerifyToken, Deliver: c.deliver, Logger: c.Logger}
		c.inbox = &meta.Dispatcher{Handler: c.Handler, Reply: c.reply, Before: c.beforeTurn, Queue: c.Queue,
			Debounce: cfg.Debounce, Clock: c.Clock, TurnTimeout: c.TurnTimeout, Sleep: c.Sleep, Logger: c.Logger, Name: Channel}
	})
}

// Name is "messenger".
func (c *Connector) Name() string { return Channel }

// MaxButtons is how many choices Messenger shows as quick replies.
func (c *Connector) MaxButtons() int { return MaxQuickReplies }

// MaxText is Messenger's text length limit.
func (c *Connector) MaxText() int { return MaxText }

// Images reports that Messenger shows images.
func (c *Connector) Images() bool { return true }

// ServeHTTP is the webhook: GET for the handshake, POST for deliveries.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.init()
	c.webhook.ServeHTTP(w, r)
}

// Shutdown hands over the bursts being gathered and waits for the queued
// turns, or for ctx.
func (c *Connector) Shutdown(ctx context.Context) error {
	c.init()
	return c.inbox.Shutdown(ctx)
}

// ConversationID is the conversation of a page-scoped user id (PSID).
func ConversationID(psid string) string { return "fb-" + psid }

// UserID is the charla user of a PSID: Messenger vouches for it.
func UserID(psid string) string { return "fb-" + psid }

func psid(conversation string) (string, bool) {
	id, ok := strings.CutPrefix(conversation, "fb-")
	return id, ok && id != "" && !strings.ContainsAny(id, "/?#")
}

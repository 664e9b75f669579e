// Package whatsapp is charla's WhatsApp connector, on Meta's WhatsApp
// Cloud API.
//
// Inbound, it is a webhook (an http.Handler for e.g. /webhooks/whatsapp):
// the hub.challenge handshake, an X-Hub-Signature-256 check of every POST
// (401 and nothing read otherwise), de-duplication of redelivered message
// ids, and a 200 answered as soon as the delivery is queued: each
// conversation's turns then run in order on a bounded queue, optionally
// after a debounce that joins a burst of fragments into one turn. Texts,
// reply-button and list answers, template quick replies, locations, images
// and documents become engine.Inbound messages (media by id, never
// downloaded unless asked with [Connector.Media]); reactions are ignored
// politely; other types get a configurable answer. Status callbacks (sent,
// delivered, read, failed) are recorded as engine.Receipts.
//
// Outbound, it is a channels.Connector: texts split at 4,096 characters,
// up to 3 choices as reply buttons, up to 10 as a list message, more as a
// numbered text (through channels.Degrade), images with captions, the read
// mark with the typing indicator. It keeps the 24-hour customer-service
// window: outside it a message is sent as the approved template its flow
// names (engine.Outbound.Template), or refused with
// channels.ErrTemplateRequired. Graph API errors are mapped: rate limits
// are retried with backoff, "re-engagement required" switches to the
// template, an unreachable number is recorded as a failed receipt. Sends
// are paced to the number's throughput limit.
package whatsapp

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

// Channel is the channel name of WhatsApp conversations.
const Channel = "whatsapp"

// Limits of the Cloud API.
const (
	MaxText        = 4096 // characters of a text message
	MaxButtons     = 3    // reply buttons of an interactive message
	MaxRows        = 10   // rows of a list message, all sections together
	maxButtonTitle = 20
	maxRowTitle    = 24
	maxRowDesc     = 72
	maxButtonID    = 256
	maxRowID       = 200
	maxButtonBody  = 1024 // body of a reply-button message
	maxCaption     = 1024
	maxListButton  = 20
)

// Environment variables read by [ConfigFromEnv]. The META_ ones are shared
// with the Messenger connector (one Meta app usually serves both).
const (
	EnvPhoneNumberID = "WHATSAPP_PHONE_NUMBER_ID"
	EnvAccessToken   = "WHATSAPP_ACCESS_TOKEN"
	EnvAppSecret     = "WHATSAPP_APP_SECRET"   // or META_APP_SECRET
	EnvVerifyToken   = "WHATSAPP_VERIFY_TOKEN" // or META_VERIFY_TOKEN
	EnvGraphURL      = "WHATSAPP_GRAPH_URL"    // or META_GRAPH_URL
	EnvGraphVersion  = "WHATSAPP_GRAPH_VERSION"
	EnvRate          = "WHATSAPP_RATE"          // messages per second (80)
	EnvDebounce      = "WHATSAPP_DEBOUNCE"      // e.g. 1.5s (off)
	EnvTemplateLang  = "WHATSAPP_TEMPLATE_LANG" // es
	EnvUnsupported   = "WHATSAPP_UNSUPPORTED"   // the answer to unsupported message types
)

// Config is a WhatsApp business number's configuration. PhoneNumberID,
// AccessToken, AppSecret and VerifyToken are required.
type Config struct {
	PhoneNumberID string // the business phone number's id (not the number)
	AccessToken   string // a system user's access token
	AppSecret     string // the Meta app's secret: the key of X-Hub-Signature-256
	VerifyToken   string // chosen by you, typed into the app's webhook settings
	GraphURL      string // default https://graph.facebook.com; tests use a fake on loopback
	GraphVersion  string // default v21.0

	// Rate is how many messages per second the number may send (default
	// 80, the Cloud API's default throughput).
	Rate float64
	// Debounce, when positive, joins a shopper's texts that arrive less
	// than Debounce apart into one turn (e.g. 1.5 s); at most 4×Debounce
	// after the first.
	Debounce time.Duration
	// TemplateLang is the language code of templates that name none
	// (default "es"); WhatsApp codes look like es, es_MX, pt_BR, en_US.
	TemplateLang string
	// Unsupported answers message types charla does not read (audio,
	// video, stickers, contacts, ...); "-" sends nothing.
	Unsupported string
	// ListButton labels the button that opens a list message ("Ver opciones").
	ListButton string
	// ChoosePrompt is the body of a choice message whose text is empty
	// ("Elige una opción:").
	ChoosePrompt string
	// NoReadMarks stops marking messages read and showing "typing…" while
	// a turn runs.
	NoReadMarks bool
}

// DefaultUnsupported is the default answer to unsupported message types.
const DefaultUnsupported = "Por ahora solo puedo leer texto, botones, ubicaciones, imágenes y documentos. ¿Me lo escribes, por favor? / For now I can only read text, buttons, locations, images and documents."

// ConfigFromEnv reads the configuration from the environment. configured
// is false when WHATSAPP_PHONE_NUMBER_ID is unset; err says what is
// missing or malformed otherwise.
func ConfigFromEnv(getenv func(string) string) (cfg Config, configured bool, err error) {
	env := meta.Env(getenv)
	cfg = Config{
		PhoneNumberID: env.First(EnvPhoneNumberID),
		AccessToken:   env.First(EnvAccessToken),
		AppSecret:     env.First(EnvAppSecret, "META_APP_SECRET"),
		VerifyToken:   env.First(EnvVerifyToken, "META_VERIFY_TOKEN"),
		GraphURL:      env.First(EnvGraphURL, "META_GRAPH_URL"),
		GraphVersion:  env.First(EnvGraphVersion, "META_GRAPH_VERSION"),
		TemplateLang:  env.First(EnvTemplateLang),
		Unsupported:   getenv(EnvUnsupported),
	}
	if cfg.PhoneNumberID == "" {
		return cfg, false, nil
	}
	if cfg.Rate, err = env.Rate(EnvRate); err != nil {
		return cfg, true, err
	}
	if cfg.Debounce, err = env.Duration(EnvDebounce); err != nil {
		return cfg, true, err
	}
	return cfg, true, cfg.Validate()
}

// Validate reports what a configuration lacks.
func (c Config) Validate() error {
	return meta.Missing(Channel, EnvPhoneNumberID, c.PhoneNumberID, EnvAccessToken, c.AccessToken,
		EnvAppSecret, c.AppSecret, EnvVerifyToken, c.VerifyToken)
}

// Connector is a WhatsApp business number connected to a Handler. Create
// it with [New]; the exported fields may be set before it serves.
type Connector struct {
	Config  Config
	Handler engine.Handler
	// Receipts records the form of sent messages and their status
	// callbacks (default: Handler, when it is an engine.ReceiptRecorder).
	Receipts engine.ReceiptRecorder
	HTTP     *http.Client
	Logger   *slog.Logger
	Clock    meta.Clock
	// Queue bounds the turns waiting (10,000) and the conversations run
	// at once (128).
	Queue *meta.Queue
	// TurnTimeout bounds a turn and the sending of its replies (60 s).
	TurnTimeout time.Duration
	// Sleep waits between retries (tests observe it instead of sleeping).
	Sleep func(ctx context.Context, d time.Duration) error

	once     sync.Once
	webhook  *meta.Webhook
	inbox    *meta.Dispatcher
	graph    *meta.Client // message sends, paced by limiter
	marks    *meta.Client // read marks and typing, not paced
	limiter  *meta.Limiter
	windows  meta.Windows
	choices  channels.Choices
	receipts *meta.Receipts

	mu        sync.Mutex
	lastIn    map[string]string             // conversation → the last inbound wamid (read marks)
	keys      map[string][]engine.OutChoice // conversation → choices sent by index ("#2")
	fallbacks map[string]fallback           // wamid → the template to send if it fails for the window
	fbOrder   []string
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
func New(cfg Config, h engine.Handler) *Connector {
	return &Connector{Config: cfg, Handler: h}
}

func (c *Connector) init() {
	c.once.Do(func() {
		cfg := &c.Config
		if cfg.Rate <= 0 {
			cfg.Rate = 80
		}
		if cfg.TemplateLang == "" {
			cfg.TemplateLang = "es"
		}
		if cfg.Unsupported == "" {
			cfg.Unsupported = DefaultUnsupported
		}
		if cfg.ListButton == "" {
			cfg.ListButton = "Ver opciones"
		}
		if cfg.ChoosePrompt == "" {
			cfg.ChoosePrompt = "Elige una opción:"
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
		if c.Queue == nil {
			c.Queue = &meta.Queue{}
		}
		c.receipts = &meta.Receipts{To: c.Receipts, Channel: Channel, Clock: c.Clock, Logger: c.logger()}
		if c.TurnTimeout <= 0 {
			c.TurnTimeout = time.Minute
		}
		c.limiter = &meta.Limiter{Rate: cfg.Rate, Sleep: c.Sleep}
		c.graph = &meta.Client{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, Token: cfg.AccessToken,
			HTTP: c.HTTP, Limiter: c.limiter, Sleep: c.Sleep}
		marks := *c.graph
		marks.Limiter, marks.Retries = nil, -1
		c.marks = &marks
		c.webhook = &meta.Webhook{AppSecret: []byte(cfg.AppSecret), VerifyToken: cfg.VerifyToken,
			Deliver: c.deliver, Logger: c.logger()}
		c.inbox = &meta.Dispatcher{Handler: c.Handler, Reply: c.reply, Before: c.beforeTurn, Queue: c.Queue,
			Debounce: cfg.Debounce, Clock: c.Clock, TurnTimeout: c.TurnTimeout, Sleep: c.Sleep, Logger: c.logger(), Name: Channel}
		c.lastIn = map[string]string{}
		c.keys = map[string][]engine.OutChoice{}
		c.fallbacks = map[string]fallback{}
	})
}

// Name is "whatsapp".
func (c *Connector) Name() string { return Channel }

// MaxButtons is how many choices WhatsApp shows as something to tap: up
// to 3 as reply buttons, up to 10 as a list message. More become a
// numbered list.
func (c *Connector) MaxButtons() int { return MaxRows }

// MaxText is WhatsApp's text length limit.
func (c *Connector) MaxText() int { return MaxText }

// Images reports that WhatsApp shows images.
func (c *Connector) Images() bool { return true }

// ServeHTTP is the webhook: GET for the verification handshake, POST for
// deliveries.
func (c *Connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.init()
	c.webhook.ServeHTTP(w, r)
}

// Shutdown hands over the bursts still being gathered and waits for the
// queued turns to finish, or for ctx.
func (c *Connector) Shutdown(ctx context.Context) error {
	c.init()
	return c.inbox.Shutdown(ctx)
}

func (c *Connector) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// ConversationID is the conversation of a WhatsApp user (by wa_id, the
// phone number in international format without "+").
func ConversationID(waID string) string { return "wa-" + waID }

// UserID is the charla user of a WhatsApp user: WhatsApp vouches for it.
func UserID(waID string) string { return "wa-" + waID }

func waID(conversation string) (string, bool) {
	id, ok := strings.CutPrefix(conversation, "wa-")
	if !ok || id == "" {
		return "", false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return "", false
		}
	}
	return id, true
}

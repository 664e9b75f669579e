package agents

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/engine/handoff"
)

// CookieName is the console's session cookie.
const CookieName = "charla_agent"

// CSRFHeader carries the session's CSRF token on every request that
// changes something.
const CSRFHeader = "X-CSRF-Token"

// Failed sign-ins: after this many in the window, from one address or for
// one agent, sign-ins are refused for a while that doubles with each further
// failure (up to lockMax).
const (
	loginFailures = 5
	loginWindow   = 15 * time.Minute
	lockMin       = time.Minute
	lockMax       = 30 * time.Minute
)

// dummyHash is compared against when the agent is unknown, so that the
// answer takes as long either way.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("charla-dummy-password"), bcrypt.DefaultCost)

// HashPassword returns the bcrypt hash of a password, for bot.yaml.
func HashPassword(password string) (string, error) {
	if len(password) < 8 {
		return "", engine.Errorf(engine.EInvalid, "a password needs at least 8 characters")
	}
	if len(password) > 72 {
		return "", engine.Errorf(engine.EInvalid, "a password may have at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// principal is who makes a request: an agent, through a session cookie
// (which needs the CSRF token to change anything) or a bearer token.
type principal struct {
	agent   *engine.AgentSpec
	session *handoff.Session // nil for a bearer token
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionKey is what the store keeps of a cookie: its hash.
func sessionKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// limiter counts failed sign-ins by key (an address, an agent).
type limiter struct {
	mu    sync.Mutex
	fails map[string]*failures
}

type failures struct {
	times []time.Time // within the window
	until time.Time   // refused until
	locks int         // lock-outs so far (the next lasts twice as long)
}

// blocked reports whether key may not try now, and for how long.
func (l *limiter) blocked(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fails[key]
	if f == nil || !now.Before(f.until) {
		return 0, false
	}
	return f.until.Sub(now), true
}

// fail records a failed attempt.
func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails == nil {
		l.fails = map[string]*failures{}
	}
	f := l.fails[key]
	if f == nil {
		f = &failures{}
		l.fails[key] = f
	}
	keep := f.times[:0]
	for _, t := range f.times {
		if now.Sub(t) < loginWindow {
			keep = append(keep, t)
		}
	}
	f.times = append(keep, now)
	if len(f.times) >= loginFailures {
		d := lockMin << min(f.locks, 5)
		f.until = now.Add(min(d, lockMax))
		f.locks++
		f.times = f.times[:0]
	}
	if len(l.fails) > 100_000 { // forget the stale ones rather than grow without bound
		for k, v := range l.fails {
			if now.After(v.until) && (len(v.times) == 0 || now.Sub(v.times[len(v.times)-1]) > loginWindow) {
				delete(l.fails, k)
			}
		}
	}
}

// succeed forgets an agent's failures.
func (l *limiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// clientIP is the address a request came from (the proxy's when behind one:
// X-Forwarded-For is not trusted, it is easy to forge).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// login checks an agent's password and opens a session.
func (c *Console) login(ctx context.Context, r *http.Request, id, password string) (*handoff.Session, string, error) {
	now := c.now()
	ip := "ip:" + clientIP(r)
	who := "agent:" + id
	for _, k := range []string{ip, who} {
		if wait, ok := c.limit.blocked(k, now); ok {
			return nil, "", &tooMany{wait}
		}
	}
	a := c.program().Agent(id)
	hash := dummyHash
	if a != nil && a.Password != "" {
		hash = []byte(a.Password)
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if a == nil || a.Password == "" || err != nil {
		c.limit.fail(ip, now)
		c.limit.fail(who, now)
		c.log().Warn("agent console: failed sign-in", "agent", id, "ip", clientIP(r))
		return nil, "", engine.Errorf(engine.EUnauthorized, "wrong agent or password")
	}
	c.limit.succeed(who)
	secret := randomToken()
	s := &handoff.Session{Key: sessionKey(secret), Agent: a.ID, CSRF: randomToken(), Created: now, Expires: now.Add(c.sessionTTL())}
	if err := c.Desk.Store.PutSession(ctx, s); err != nil {
		return nil, "", err
	}
	c.log().Info("agent console: signed in", "agent", a.ID)
	return s, secret, nil
}

// tooMany is a refused sign-in (429).
type tooMany struct{ wait time.Duration }

func (t *tooMany) Error() string { return "too many failed sign-ins; try again later" }

// authenticate finds who makes a request: a session cookie or a bearer
// token (an agent's token from the environment).
func (c *Console) authenticate(r *http.Request) (*principal, error) {
	p := c.program()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			return nil, engine.Errorf(engine.EUnauthorized, "the Authorization header must be Bearer TOKEN")
		}
		for _, a := range p.Agents {
			if a.TokenEnv == "" {
				continue
			}
			want := c.getenv(a.TokenEnv)
			if want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1 {
				return &principal{agent: a}, nil
			}
		}
		return nil, engine.Errorf(engine.EUnauthorized, "wrong token")
	}
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil, engine.Errorf(engine.EUnauthorized, "sign in first")
	}
	s, err := c.Desk.Store.Session(r.Context(), sessionKey(ck.Value))
	if err != nil {
		return nil, err
	}
	if s == nil || !c.now().Before(s.Expires) {
		return nil, engine.Errorf(engine.EUnauthorized, "your session has ended; sign in again")
	}
	a := p.Agent(s.Agent)
	if a == nil {
		return nil, engine.Errorf(engine.EUnauthorized, "agent %q is no longer configured", s.Agent)
	}
	return &principal{agent: a, session: s}, nil
}

// sameOrigin reports whether a browser request comes from the console's
// own origin (requests without Origin — not from a browser page — pass;
// the session cookie is SameSite=Strict besides).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// checkCSRF verifies a cookie-authenticated request that changes something.
func checkCSRF(r *http.Request, p *principal) error {
	if p.session == nil {
		return nil // a bearer token cannot be sent by another site's page
	}
	if !sameOrigin(r) {
		return engine.Errorf(engine.EUnauthorized, "cross-site request refused")
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.session.CSRF)) != 1 {
		return &forbidden{"missing or wrong CSRF token"}
	}
	return nil
}

// forbidden is a request refused for what it lacks (403).
type forbidden struct{ msg string }

func (f *forbidden) Error() string { return f.msg }

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, secret string, expires time.Time) {
	secure := c.SecureCookies || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	ck := &http.Cookie{Name: CookieName, Value: secret, Path: "/agent", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: secure}
	if secret == "" {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
	}
	http.SetCookie(w, ck)
}

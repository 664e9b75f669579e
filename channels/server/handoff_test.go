package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/server"
)

// agentClient is an agent using the console's API with its cookie.
type agentClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func signIn(t *testing.T, base, agent string) *agentClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	a := &agentClient{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	st, me := a.call("POST", "/agent/api/v1/login", map[string]string{"agent": agent, "password": "clave-de-prueba"})
	if st != 200 {
		t.Fatalf("sign-in %s: %d %v", agent, st, me)
	}
	a.csrf = me["csrf"].(string)
	return a
}

func (a *agentClient) call(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(b))
	req.Header.Set("X-CSRF-Token", a.csrf)
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (a *agentClient) ok(method, path string, body any) map[string]any {
	a.t.Helper()
	st, out := a.call(method, path, body)
	if st != 200 {
		a.t.Fatalf("%s %s: %d %v", method, path, st, out)
	}
	return out
}

// shopperSays sends a shopper's message over the REST API.
func shopperSays(t *testing.T, base, conv, text string) map[string]any {
	t.Helper()
	st, out := do(t, "POST", base+"/api/v1/conversations/"+conv+"/messages", "", fmt.Sprintf(`{"text": %q}`, text))
	if st != 200 {
		t.Fatalf("%s says %q: %d %v", conv, text, st, out)
	}
	return out
}

// Two agents claiming one conversation at the same moment: exactly one
// wins, through the whole stack (HTTP, desk, runtime, bbolt).
func TestClaimRaceOverHTTP(t *testing.T) {
	s := start(t, server.Config{Dir: "testdata/soporte", DataDir: t.TempDir()})
	ana, beto := signIn(t, s.URL(), "ana"), signIn(t, s.URL(), "beto")
	for i := range 20 {
		conv := fmt.Sprint("race-", i)
		shopperSays(t, s.URL(), conv, "quiero hablar con un asesor")
		var wg sync.WaitGroup
		codes := make([]int, 2)
		go1 := make(chan struct{})
		for j, a := range []*agentClient{ana, beto} {
			wg.Go(func() {
				<-go1
				codes[j], _ = a.call("POST", "/agent/api/v1/conversations/"+conv+"/claim", nil)
			})
		}
		close(go1)
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("%s: claims answered %v, want one 200 and one 409", conv, codes)
		}
		winner := map[bool]*agentClient{true: ana, false: beto}[codes[0] == 200]
		c, _ := s.Runtime().Conversation(context.Background(), conv)
		if c.Status != "agent" {
			t.Fatalf("%s: status %s", conv, c.Status)
		}
		winner.ok("POST", "/agent/api/v1/conversations/"+conv+"/close", nil)
	}
}

// A restart in the middle of a hand-off: the queue, the assignment, the
// transcript and the agent's session survive; the agent goes on.
func TestRestartMidHandoff(t *testing.T) {
	data := t.TempDir()
	s := start(t, server.Config{Dir: "testdata/soporte", DataDir: data})
	shopperSays(t, s.URL(), "c1", "quiero cambiar la talla")
	shopperSays(t, s.URL(), "c1", "A1234")
	shopperSays(t, s.URL(), "c1", "hablar con un asesor")
	shopperSays(t, s.URL(), "c2", "hablar con un asesor")
	ana := signIn(t, s.URL(), "ana")
	ana.ok("POST", "/agent/api/v1/conversations/c1/claim", nil)
	ana.ok("POST", "/agent/api/v1/conversations/c1/messages", map[string]string{"text": "Hola, soy Ana."})
	shopperSays(t, s.URL(), "c1", "Necesito la 42")

	m := metrics(t, s)
	for _, line := range []string{`charla_conversations_total{channel="rest"} 2`, `charla_handoffs_total{channel="rest"} 2`,
		`charla_handoff_requests_total{queue="ventas"} 2`, `charla_handoff_wait_seconds_count{queue="ventas"} 1`} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %s", line)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s2 := start(t, server.Config{Dir: "testdata/soporte", DataDir: data})
	ana.base = s2.URL() // the same cookie: the session is in the data file too
	list := ana.ok("GET", "/agent/api/v1/conversations", nil)["conversations"].([]any)
	var got []string
	for _, x := range list {
		tk := x.(map[string]any)
		got = append(got, fmt.Sprint(tk["conversation"], " ", tk["state"], " ", tk["agent"], " ", tk["position"]))
	}
	if strings.Join(got, "; ") != "c1 assigned ana <nil>; c2 waiting <nil> 1" {
		t.Fatalf("after the restart: %q", got)
	}
	d := ana.ok("GET", "/agent/api/v1/conversations/c1", nil)
	var lines []string
	for _, x := range d["transcript"].([]any) {
		e := x.(map[string]any)
		lines = append(lines, fmt.Sprint(e["from"], ": ", e["text"]))
	}
	want := []string{"user: quiero cambiar la talla", "bot: ¿Cuál es tu número de pedido?", "user: A1234", "bot: ¿Qué talla necesitas?",
		"user: hablar con un asesor", "bot: Te comunico con una persona del equipo. Un momento, por favor."}
	if strings.Join(lines[:len(want)], "|") != strings.Join(want, "|") || lines[len(lines)-2] != "agent: Hola, soy Ana." || lines[len(lines)-1] != "user: Necesito la 42" {
		t.Fatalf("transcript after the restart:\n%s", strings.Join(lines, "\n"))
	}
	if slots := d["ticket"].(map[string]any)["slots"].(map[string]any); slots["pedido"] != "A1234" {
		t.Errorf("slots after the restart: %v", slots)
	}
	// The conversation goes on: the shopper is still with Ana, the bot silent.
	out := shopperSays(t, s2.URL(), "c1", "¿sigues ahí?")
	if msgs := out["messages"].([]any); len(msgs) != 0 || out["conversation"].(map[string]any)["status"] != "agent" {
		t.Fatalf("the bot answered while with an agent: %v", out)
	}
	ana.ok("POST", "/agent/api/v1/conversations/c1/messages", map[string]string{"text": "Sí, aquí estoy."})
	tr := ana.ok("POST", "/agent/api/v1/conversations/c1/release", map[string]string{"flow": ""})
	if msgs := tr["messages"].([]any); len(msgs) == 0 || msgs[len(msgs)-1].(map[string]any)["text"] != "¿Qué talla necesitas?" {
		t.Errorf("release said %v", tr["messages"])
	}
	if m := metrics(t, s2); !strings.Contains(m, `charla_handoff_queue_length{queue="ventas",state="waiting"} 1`) {
		t.Errorf("metrics:\n%s", m)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestKill9UnderLoad runs a real `charla serve` on the bbolt store, loads
// it with concurrent conversations whose every turn calls an HTTP action,
// kills it with SIGKILL in the middle, restarts it on the same data and
// checks that no turn whose reply was sent is lost, no session is corrupt,
// and no action is repeated for a committed turn (a turn cut off before its
// commit may call its action again, with the same Idempotency-Key).
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the charla binary")
	}
	bin := filepath.Join(t.TempDir(), "charla")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The shop's service: counts the calls of each message's action.
	var mu sync.Mutex
	calls := map[string][]string{} // message text → idempotency keys of its calls
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Args struct {
				Text string `json:"text"`
			} `json:"args"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		calls[body.Args.Text] = append(calls[body.Args.Text], r.Header.Get("Idempotency-Key"))
		n := len(calls)
		mu.Unlock()
		fmt.Fprintf(w, `{"n": %d}`, n)
	}))
	defer shop.Close()

	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "testdata/killbot", "--addr", addr, "--data", data, "--log", "error")
		cmd.Env = append(os.Environ(), "KILL_API="+shop.URL, "CHARLA_API_TOKEN=")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return cmd
				}
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("charla serve did not start:\n%s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(conv, id string) (string, error) {
		b, _ := json.Marshal(map[string]string{"text": "m " + id, "id": id})
		resp, err := client.Post(base+"/api/v1/conversations/"+conv+"/messages", "application/json", bytes.NewReader(b))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
		}
		var r struct {
			Messages []struct{ Text string } `json:"messages"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || len(r.Messages) != 1 {
			return "", fmt.Errorf("reply %s: %v", raw, err)
		}
		return r.Messages[0].Text, nil
	}

	// Load: 32 clients, each through conversations of 20 messages, until killed.
	srv := start()
	type sent struct{ conv, id string }
	var (
		lmu      sync.Mutex
		replied  = map[sent]string{} // the replies the clients got
		inflight []sent              // sent, no reply: cut off by the kill
		convs    = map[string]bool{}
	)
	var wg sync.WaitGroup
	killed := make(chan struct{})
	for c := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				conv := fmt.Sprintf("k%d-%d", c, k)
				for m := range 20 {
					s := sent{conv, fmt.Sprintf("%s.%d", conv, m)}
					lmu.Lock()
					convs[conv] = true
					lmu.Unlock()
					text, err := send(s.conv, s.id)
					lmu.Lock()
					if err != nil {
						inflight = append(inflight, s)
						lmu.Unlock()
						select {
						case <-killed:
							return
						default:
							t.Errorf("%s before the kill: %v", s.id, err)
							return
						}
					}
					replied[s] = text
					lmu.Unlock()
				}
			}
		}()
	}
	for {
		time.Sleep(100 * time.Millisecond)
		lmu.Lock()
		n := len(replied)
		lmu.Unlock()
		if n >= 1500 {
			break
		}
	}
	close(killed)
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()
	wg.Wait()
	t.Logf("killed after %d answered turns, %d in flight, %d conversations", len(replied), len(inflight), len(convs))

	srv = start()
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}()
	// Every answered turn is there: asked again, it answers the same and runs nothing.
	for s, want := range replied {
		got, err := send(s.conv, s.id)
		if err != nil || got != want {
			t.Fatalf("%s after the restart: %q, %v; before the kill: %q", s.id, got, err, want)
		}
	}
	// The turns cut off are answered now, once.
	for _, s := range inflight {
		got, err := send(s.conv, s.id)
		if err != nil || !strings.HasPrefix(got, "ok m "+s.id+" #") {
			t.Fatalf("%s cut off, sent again: %q, %v", s.id, got, err)
		}
	}
	mu.Lock()
	for s := range replied {
		if keys := calls["m "+s.id]; len(keys) != 1 {
			t.Errorf("%s: committed turn's action ran %d times", s.id, len(keys))
		}
	}
	for _, s := range inflight {
		keys := calls["m "+s.id]
		for _, k := range keys {
			if k != keys[0] {
				t.Errorf("%s: a retried turn called its action with another key: %v", s.id, keys)
			}
		}
	}
	mu.Unlock()
	// Sessions and transcripts are whole: every user message followed by its reply, in order.
	for conv := range convs {
		resp, err := client.Get(base + "/api/v1/conversations/" + conv + "/messages")
		if err != nil {
			t.Fatal(err)
		}
		var es []struct {
			Seq  int64  `json:"seq"`
			From string `json:"from"`
			Text string `json:"text"`
		}
		json.NewDecoder(resp.Body).Decode(&es)
		resp.Body.Close()
		for i := range es {
			if es[i].Seq != int64(i+1) {
				t.Fatalf("%s: entry %d has seq %d", conv, i, es[i].Seq)
			}
			if i%2 == 1 && (es[i].From != "bot" || !strings.HasPrefix(es[i].Text, "ok "+es[i-1].Text+" #")) {
				t.Fatalf("%s: entry %d %+v after %+v", conv, i, es[i], es[i-1])
			}
		}
		for s, text := range replied {
			if s.conv != conv {
				continue
			}
			found := false
			for _, e := range es {
				found = found || e.Text == text
			}
			if !found {
				t.Fatalf("%s: the reply %q sent before the kill is not in the transcript", conv, text)
			}
		}
		resp, err = client.Get(base + "/api/v1/conversations/" + conv)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: state %v %v", conv, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

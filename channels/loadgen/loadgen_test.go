package loadgen_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/charlabot/charla/channels/loadgen"
	"github.com/charlabot/charla/channels/server"
)

func TestRunAgainstServer(t *testing.T) {
	s, err := server.New(server.Config{Dir: "../server/testdata/tienda", Addr: "127.0.0.1:0", Memory: true,
		Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, cfg := range []loadgen.Config{
		{Mode: "idle", Conns: 50, Duration: 100 * time.Millisecond, PID: os.Getpid()},
		{Mode: "ws", Conns: 20, Rate: 60, Duration: time.Second},
		{Mode: "rest", Conns: 4, Duration: 300 * time.Millisecond, PID: os.Getpid()},
	} {
		cfg.URL = s.URL()
		r, err := loadgen.Run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Mode, err)
		}
		if r.Errors != 0 {
			t.Errorf("%s: %d errors: %s", cfg.Mode, r.Errors, r.JSON())
		}
		switch cfg.Mode {
		case "idle":
			if r.Conns != 50 || r.ServerRSSMB <= 0 {
				t.Errorf("idle: %s", r.JSON())
			}
		case "ws":
			if r.Messages < 40 || r.P99ms <= 0 {
				t.Errorf("ws: %s", r.JSON())
			}
		case "rest":
			if r.Messages == 0 || r.PerSecond <= 0 || r.ServerCPUus <= 0 {
				t.Errorf("rest: %s", r.JSON())
			}
		}
	}
}

func TestRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://example.com", "http://192.168.1.5"} {
		_, err := loadgen.Run(context.Background(), loadgen.Config{URL: u, Mode: "rest"})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := loadgen.Run(context.Background(), loadgen.Config{URL: "http://127.0.0.1:1", Mode: "ws", Conns: 1, Rate: 100}); err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("100 msg/s on one connection: %v", err)
	}
}

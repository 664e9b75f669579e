package server

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/bbolt"

	"github.com/charlabot/charla/channels/agents"
	"github.com/charlabot/charla/engine/handoff"
)

// handoffParts are the people's side of the server: the hand-off desk (the
// runtime's Agents, its tickets in the same bbolt file as the store), the
// agent console at /agent and, when bot.yaml configures one, the help-desk
// webhook.
type handoffParts struct {
	desk    *handoff.Desk
	console *agents.Console
	webhook *agents.Webhook
}

// newDesk makes the desk before the runtime (which takes it as its
// Agents); its tickets live beside the store's data: in the bbolt file when
// the store is one, else in memory.
func (s *Server) newDesk() error {
	var hs handoff.Store
	switch st := s.store.(type) {
	case interface{ DB() *bbolt.DB }:
		b, err := handoff.NewBolt(st.DB())
		if err != nil {
			return err
		}
		hs = b
	default:
		hs = handoff.NewMemory()
	}
	if s.cfg.HandoffStore != nil {
		hs = s.cfg.HandoffStore
	}
	s.ho = &handoffParts{desk: &handoff.Desk{Store: hs, Logger: s.log}}
	return nil
}

// buildHandoff wires the desk to the runtime and mounts the console.
func (s *Server) buildHandoff(reg prometheus.Registerer, mux *http.ServeMux) error {
	ho := s.ho
	ho.desk.Runtime = s.rt
	m, err := agents.NewMetrics(reg, ho.desk)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	ho.desk.OnEvent = m.Observe
	if err := ho.desk.Start(context.Background()); err != nil {
		return fmt.Errorf("hand-off desk: %w", err)
	}
	ho.console = &agents.Console{Desk: ho.desk, Runtime: s.rt, Getenv: s.cfg.Getenv, Logger: s.log}
	if w := s.program.Load().Handoff.Webhook; w != nil {
		secret := s.cfg.Getenv(w.SecretEnv)
		if secret == "" {
			s.log.Warn("help-desk webhook disabled: its secret is not set", "env", w.SecretEnv)
		} else {
			ho.webhook = &agents.Webhook{URL: os.Expand(w.URL, s.cfg.Getenv), Secret: []byte(secret), Events: w.Events,
				Desk: ho.desk, Runtime: s.rt, Logger: s.log}
			ho.console.Webhook = ho.webhook
		}
	}
	mux.Handle("/agent", ho.console)
	mux.Handle("/agent/", ho.console)
	return nil
}

// startHandoff runs the desk's timeouts, the consoles' live updates and the
// webhook until bg ends.
func (s *Server) startHandoff(bg context.Context) {
	ho := s.ho
	s.goBG(func() { ho.desk.Run(bg) })
	ho.console.Start(bg)
	if ho.webhook != nil {
		done := ho.webhook.Start(bg)
		s.goBG(func() { <-done })
	}
}

// Desk is the hand-off desk: queues, tickets and agents.
func (s *Server) Desk() *handoff.Desk { return s.ho.desk }

package shop

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// EventOrderUpdate is the event the shop posts when an order reaches a
// milestone; the bot's order_update flow turns it into a proactive message.
const EventOrderUpdate = "order_update"

// Notifier delivers an event to a user's conversation (the runtime's
// Trigger). engine.ENotFound errors mean the user never talked to the bot.
type Notifier func(ctx context.Context, user, event string, data map[string]any) error

// API is the shop's small HTTP API, mounted beside the bot at /shop/api/:
//
//	GET  /shop/api/orders/{id}/tracking   the public shipping status of an order
//	POST /shop/api/orders/{id}/advance    the carrier reports the next milestone;
//	                                      the owner and the subscribers are told
//
// With a Token, advance needs "Authorization: Bearer TOKEN".
type API struct {
	Shop   *Service
	Notify Notifier
	Token  string
	Logger *slog.Logger
}

// Prefix is where the API is mounted.
const Prefix = "/shop/api/"

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix+"orders/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 2 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
		return
	}
	id, what := NormalizeOrderID(parts[0]), parts[1]
	switch {
	case what == "tracking" && r.Method == http.MethodGet:
		a.tracking(w, id, r.URL.Query().Get("lang"))
	case what == "advance" && r.Method == http.MethodPost:
		if !a.authorized(r) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a bearer token is required"})
			return
		}
		a.advance(w, r, id)
	case what == "tracking" || what == "advance":
		w.Header().Set("Allow", map[string]string{"tracking": "GET", "advance": "POST"}[what])
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	}
}

func (a *API) authorized(r *http.Request) bool {
	if a.Token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) == 1
}

func (a *API) tracking(w http.ResponseWriter, id, lang string) {
	o, _, err := a.Shop.Lookup(Caller{}, id)
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no order " + id})
		return
	}
	type milestone struct {
		Code  string `json:"code"`
		Label string `json:"label"`
		Date  string `json:"date"`
	}
	ms := []milestone{}
	for _, m := range o.Reached {
		ms = append(ms, milestone{m.Code, a.Shop.milestone(m.Code).Done.In(lang), m.Date.Format("2006-01-02")})
	}
	res := map[string]any{"order": o.ID, "status": o.Status, "milestones": ms}
	if !o.ETA.IsZero() {
		res["eta"] = o.ETA.Format("2006-01-02")
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *API) advance(w http.ResponseWriter, r *http.Request, id string) {
	u, err := a.Shop.Advance(id)
	switch {
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no order " + id})
		return
	case errors.Is(err, ErrConflict):
		writeJSON(w, http.StatusConflict, map[string]string{"error": "the order is " + "not on its way"})
		return
	case err != nil:
		a.log().Error("shop: advance", "order", id, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	notified := []string{}
	if a.Notify != nil {
		for _, user := range u.Notify {
			err := a.Notify(r.Context(), user, EventOrderUpdate, map[string]any{"order": u.Order, "milestone": u.Milestone})
			if err != nil {
				a.log().Info("shop: order update not delivered", "order", u.Order, "user", user, "err", err)
				continue
			}
			notified = append(notified, user)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"order": u.Order, "milestone": u.Milestone, "notified": notified})
}

func (a *API) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

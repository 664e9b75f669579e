package shop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charlabot/charla/engine"
)

// TrustREST says whether a REST message's `user` field identifies the
// shopper although the request is not signed. The reference bot's contract
// says so (`ana` and `luis` are verified when the REST user field names
// them), which suits a demo; a real shop sets CHARLA_API_TOKEN, so that
// only its backend talks REST and every message it sends is vouched for.
var TrustREST = true

// caller is who is behind an action call.
func caller(call engine.ActionCall) Caller {
	verified := call.Verified || (TrustREST && call.Channel == "rest" && call.User != "")
	return Caller{User: call.User, Verified: verified, Conversation: call.Conversation}
}

// Actions returns the Go functions of the actions that actions.yaml
// declares, for engine.Options.Actions (or server.Config.Actions). Results
// are in the conversation's language.
func (s *Service) Actions() map[string]engine.ActionFunc {
	acts := map[string]engine.ActionFunc{
		"get_customer":       s.actGetCustomer,
		"get_order":          s.actGetOrder,
		"verify_email":       s.actVerifyEmail,
		"send_order_numbers": s.actSendOrderNumbers,
		"check_stock":        s.actCheckStock,
		"create_exchange":    s.actCreateExchange,
		"cancel_order":       s.actCancelOrder,
		"create_return":      s.actCreateReturn,
		"create_ticket":      s.actCreateTicket,
		"subscribe":          s.actSubscribe,
		"redeem_points":      s.actRedeemPoints,
		"redeem_code":        s.actRedeemCode,
		"save_feedback":      s.actSaveFeedback,
	}
	for name, fn := range acts {
		acts[name] = func(ctx context.Context, call engine.ActionCall) (any, error) {
			if err := ctx.Err(); err != nil { // a turn past its deadline changes nothing
				return nil, actionError(err)
			}
			return fn(ctx, call)
		}
	}
	return acts
}

// actionError turns the service's errors into the engine's, so that a
// flow's on_error runs and the log says why.
func actionError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return engine.Errorf(engine.ENotFound, "%v", err)
	case errors.Is(err, ErrForbidden):
		return engine.Errorf(engine.EUnauthorized, "%v", err)
	case errors.Is(err, ErrConflict):
		return engine.Errorf(engine.EConflict, "%v", err)
	case errors.Is(err, ErrInvalid):
		return engine.Errorf(engine.EInvalid, "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &engine.Error{Code: engine.EUnavailable, Message: "the shop did not answer in time", Err: err}
	}
	return &engine.Error{Code: engine.EInternal, Message: "shop", Err: err}
}

func str(call engine.ActionCall, name string) string {
	s, _ := call.Args[name].(string)
	return s
}

func date(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (s *Service) actGetCustomer(ctx context.Context, call engine.ActionCall) (any, error) {
	v := s.Customer(caller(call))
	orders := []any{}
	for _, o := range v.Orders {
		orders = append(orders, map[string]any{
			"label":   fmt.Sprintf("%s · %s (%s)", o.ID, s.productName(o.Product, call.Lang), statusName(o.Status, call.Lang)),
			"value":   o.ID,
			"status":  o.Status,
			"product": s.productName(o.Product, call.Lang),
			"words":   s.productWords(o.Product),
		})
	}
	return map[string]any{"known": v.Known, "name": v.Name, "points": v.Points, "orders": orders}, nil
}

// productWords returns the words a shopper may name a product by: those
// of its names in every language, and its Words.
func (s *Service) productWords(id string) []any {
	p := s.data.Products[id]
	if p == nil {
		return []any{}
	}
	seen := map[string]bool{}
	out := []any{}
	add := func(w string) {
		w = strings.ToLower(w)
		if len([]rune(w)) >= 4 && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, lang := range slices.Sorted(maps.Keys(p.Name)) {
		for _, w := range strings.Fields(p.Name[lang]) {
			add(w)
		}
	}
	for _, w := range p.Words {
		add(w)
	}
	return out
}

func (s *Service) productName(id, lang string) string {
	if p := s.data.Products[id]; p != nil {
		return p.Name.In(lang)
	}
	return id
}

var statusNames = map[string]Localized{
	"paid":       {"es": "pagado", "en": "paid"},
	"in_transit": {"es": "en camino", "en": "on its way"},
	"delivered":  {"es": "entregado", "en": "delivered"},
	"cancelled":  {"es": "cancelado", "en": "cancelled"},
}

func statusName(status, lang string) string { return statusNames[status].In(lang) }

func (s *Service) actGetOrder(ctx context.Context, call engine.ActionCall) (any, error) {
	o, owner, err := s.Lookup(caller(call), str(call, "id"))
	if errors.Is(err, ErrNotFound) {
		return map[string]any{"found": false, "id": NormalizeOrderID(str(call, "id"))}, nil
	}
	if err != nil {
		return nil, actionError(err)
	}
	ms := []any{}
	for _, r := range o.Reached {
		ms = append(ms, map[string]any{"code": r.Code, "label": s.milestone(r.Code).Done.In(call.Lang), "date": r.Date})
	}
	res := map[string]any{
		"found":      true,
		"id":         o.ID,
		"owner":      owner,
		"product":    s.productName(o.Product, call.Lang),
		"kind":       s.data.Products[o.Product].Kind,
		"size":       o.Size,
		"status":     o.Status,
		"milestones": ms,
		"eta":        date(o.ETA),
		"delivered":  date(o.Delivered),
	}
	if o.Next != "" {
		res["next"] = s.milestone(o.Next).Next.In(call.Lang)
	}
	if !o.Delivered.IsZero() {
		res["days_since_delivery"] = s.daysSince(o.Delivered)
	}
	// Personal and commercial details only for the owner.
	if owner {
		res["price"] = o.Price
		res["email_hint"] = s.maskedEmail(o)
		res["exchange"] = o.Exchange
		res["return_id"] = o.Return
	}
	return res, nil
}

func (s *Service) actVerifyEmail(ctx context.Context, call engine.ActionCall) (any, error) {
	ok, err := s.VerifyEmail(caller(call), str(call, "order"), str(call, "email"))
	if errors.Is(err, ErrNotFound) {
		return map[string]any{"ok": false}, nil
	}
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"ok": ok}, nil
}

func (s *Service) actSendOrderNumbers(ctx context.Context, call engine.ActionCall) (any, error) {
	sent, err := s.SendOrderNumbers(caller(call), str(call, "email"), call.Lang)
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"ok": sent}, nil
}

func (s *Service) actCheckStock(ctx context.Context, call engine.ActionCall) (any, error) {
	st, err := s.CheckStock(caller(call), str(call, "order"), str(call, "size"))
	if err != nil {
		return nil, actionError(err)
	}
	nearest := []any{}
	for _, n := range st.Nearest {
		nearest = append(nearest, n)
	}
	return map[string]any{"valid": st.Valid, "size": st.Size, "converted": st.Converted, "available": st.Available,
		"nearest": nearest, "range": st.Range}, nil
}

func (s *Service) actCreateExchange(ctx context.Context, call engine.ActionCall) (any, error) {
	ex, err := s.CreateExchange(caller(call), str(call, "order"), str(call, "size"))
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"id": ex.ID, "carrier": ex.Carrier, "deadline": ex.Deadline}, nil
}

func (s *Service) actCancelOrder(ctx context.Context, call engine.ActionCall) (any, error) {
	ok, refund, err := s.Cancel(caller(call), str(call, "order"))
	if err != nil {
		return nil, actionError(err)
	}
	status := "cancelled"
	if !ok {
		status = "shipped"
	}
	return map[string]any{"ok": ok, "refund": refund, "status": status}, nil
}

func (s *Service) actCreateReturn(ctx context.Context, call engine.ActionCall) (any, error) {
	r, err := s.CreateReturn(caller(call), str(call, "order"), str(call, "reason"), str(call, "photo"))
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"id": r.ID, "refund": r.Refund, "carrier": r.Carrier, "deadline": r.Deadline}, nil
}

func (s *Service) actCreateTicket(ctx context.Context, call engine.ActionCall) (any, error) {
	t, err := s.CreateTicket(caller(call), str(call, "type"), str(call, "description"), str(call, "email"), str(call, "order"))
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"id": t.ID, "due": t.Due}, nil
}

func (s *Service) actSubscribe(ctx context.Context, call engine.ActionCall) (any, error) {
	user := call.User
	if user == "" {
		user = call.Conversation // an anonymous conversation stands for its user
	}
	if err := s.Subscribe(user, str(call, "order")); err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"ok": true}, nil
}

func (s *Service) actRedeemPoints(ctx context.Context, call engine.ActionCall) (any, error) {
	n, _ := call.Args["points"].(int)
	r, err := s.RedeemPoints(caller(call), n)
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"ok": r.OK, "code": r.Code, "value": r.Value, "balance": r.Balance, "reason": r.Reason}, nil
}

func (s *Service) actRedeemCode(ctx context.Context, call engine.ActionCall) (any, error) {
	r, err := s.RedeemCode(caller(call), str(call, "code"))
	if err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"ok": r.OK, "points": r.Points, "balance": r.Balance, "reason": r.Reason}, nil
}

func (s *Service) actSaveFeedback(ctx context.Context, call engine.ActionCall) (any, error) {
	n, _ := call.Args["rating"].(int)
	if err := s.SaveFeedback(caller(call), n, str(call, "comment")); err != nil {
		return nil, actionError(err)
	}
	return map[string]any{"ok": true}, nil
}

package shop

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/charlabot/charla/engine"
)

// day0 is the day the shop starts in these tests: a Monday.
var day0 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

func seedData(t *testing.T) *Data {
	t.Helper()
	d, err := LoadData(os.DirFS("../data"), "shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newShop(t *testing.T, path string) *Service {
	t.Helper()
	s, err := New(seedData(t), Options{Path: path, Now: func() time.Time { return day0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var (
	anonymous = Caller{Conversation: "c1"}
	ana       = Caller{User: "ana", Verified: true, Conversation: "c2"}
	anaUnsure = Caller{User: "ana", Conversation: "c3"} // the channel does not vouch for her
	luis      = Caller{User: "luis", Verified: true, Conversation: "c4"}
)

func TestOrdersFollowTheStory(t *testing.T) {
	s := newShop(t, "")
	tests := []struct {
		id, status, next string
		delivered, eta   int // days from day 0; 99: none
	}{
		{"A1001", "delivered", "", -5, 99},
		{"A1002", "in_transit", "distribution_center", 99, 2},
		{"A1003", "delivered", "", -45, 99},
		{"A1004", "paid", "left_warehouse", 99, 4},
	}
	for _, tt := range tests {
		o, _, err := s.Lookup(anonymous, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != tt.status || o.Next != tt.next {
			t.Errorf("%s: status %s next %q, want %s %q", tt.id, o.Status, o.Next, tt.status, tt.next)
		}
		if tt.delivered != 99 && (!o.Delivered.Equal(s.day(tt.delivered)) || s.daysSince(o.Delivered) != -tt.delivered) {
			t.Errorf("%s: delivered %v (%d days ago)", tt.id, o.Delivered, s.daysSince(o.Delivered))
		}
		if tt.eta != 99 && !o.ETA.Equal(s.day(tt.eta)) {
			t.Errorf("%s: eta %v, want day %d", tt.id, o.ETA, tt.eta)
		}
	}
	if _, _, err := s.Lookup(ana, "Z9999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Z9999: %v", err)
	}
	if o, _, err := s.Lookup(anonymous, " #a1002 "); err != nil || o.ID != "A1002" {
		t.Errorf("#a1002: %v %v", o, err)
	}
}

func TestOwnership(t *testing.T) {
	s := newShop(t, "")
	tests := []struct {
		c     Caller
		order string
		owner bool
	}{
		{anonymous, "A1001", false},
		{ana, "A1001", true},
		{ana, "A1003", false},
		{anaUnsure, "A1001", false},
		{luis, "A1004", true},
	}
	for _, tt := range tests {
		_, owner, err := s.Lookup(tt.c, tt.order)
		if err != nil || owner != tt.owner {
			t.Errorf("%+v on %s: owner %v, %v; want %v", tt.c, tt.order, owner, err, tt.owner)
		}
	}
	// A conversation that proves the order's email owns it from then on;
	// guessing is cut off.
	if ok, _ := s.VerifyEmail(anonymous, "A1001", "pepe@example.com"); ok {
		t.Fatal("a wrong email verified")
	}
	if ok, _ := s.VerifyEmail(anonymous, "A1001", " Ana@Example.com "); !ok {
		t.Fatal("the right email did not verify")
	}
	if _, owner, _ := s.Lookup(anonymous, "A1001"); !owner {
		t.Fatal("the conversation that proved the email does not own the order")
	}
	if _, owner, _ := s.Lookup(anonymous, "A1002"); owner {
		t.Fatal("proving one order's email gave another order")
	}
	guesser := Caller{Conversation: "guesser"}
	for range maxEmailMisses {
		s.VerifyEmail(guesser, "A1004", "x@example.com")
	}
	if ok, _ := s.VerifyEmail(guesser, "A1004", "luis@example.com"); ok {
		t.Fatal("a conversation kept guessing emails")
	}
}

func TestCheckStock(t *testing.T) {
	s := newShop(t, "")
	tests := []struct {
		order, size string
		want        Stock
	}{
		{"A1001", "43", Stock{Valid: true, Size: "43", Available: true, Range: "39–46"}},
		{"A1001", "44", Stock{Valid: true, Size: "44", Nearest: []string{"43", "45"}, Range: "39–46"}},
		{"A1001", "46", Stock{Valid: true, Size: "46", Nearest: []string{"45"}, Range: "39–46"}},
		{"A1001", "US 10", Stock{Valid: true, Size: "43", Converted: true, Available: true, Range: "39–46"}},
		{"A1001", "us 9.5", Stock{Valid: true, Size: "43", Converted: true, Available: true, Range: "39–46"}},
		{"A1001", "UK 8", Stock{Valid: true, Size: "42", Converted: true, Available: true, Range: "39–46"}},
		{"A1001", "50", Stock{Size: "50", Range: "39–46"}},
		{"A1001", "M", Stock{Size: "M", Range: "39–46"}},
		{"A1002", "m", Stock{Valid: true, Size: "M", Nearest: []string{"S", "L"}, Range: "S–XL"}},
		{"A1002", "US 10", Stock{Size: "US 10", Converted: true, Range: "S–XL"}},
		{"A1003", "39", Stock{Valid: true, Size: "39", Nearest: []string{"38", "40"}, Range: "36–42"}},
	}
	for _, tt := range tests {
		got, err := s.CheckStock(ana, tt.order, tt.size)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %q: %+v, want %+v", tt.order, tt.size, got, tt.want)
		}
	}
}

func TestExchange(t *testing.T) {
	s := newShop(t, "")
	if _, err := s.CreateExchange(anonymous, "A1001", "43"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("a stranger exchanged: %v", err)
	}
	if _, err := s.CreateExchange(ana, "A1001", "44"); !errors.Is(err, ErrConflict) {
		t.Fatalf("an exchange for a size out of stock: %v", err)
	}
	ex, err := s.CreateExchange(ana, "A1001", "43")
	if err != nil || ex.ID != "CX-0001" || ex.Carrier != carrier || !ex.Deadline.Equal(s.today().AddDate(0, 0, 10)) {
		t.Fatalf("exchange: %+v, %v", ex, err)
	}
	if o, _, _ := s.Lookup(ana, "A1001"); o.Exchange != "CX-0001" {
		t.Fatalf("the order does not show its exchange: %+v", o)
	}
	if _, err := s.CreateExchange(ana, "A1001", "43"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second exchange: %v", err)
	}
	if _, err := s.CreateExchange(luis, "A1003", "40"); !errors.Is(err, ErrConflict) {
		t.Fatalf("an exchange 45 days after delivery: %v", err)
	}
	if _, err := s.CreateExchange(ana, "A1002", "L"); !errors.Is(err, ErrConflict) {
		t.Fatalf("an exchange of an order not delivered: %v", err)
	}
	// The last units go.
	st, _ := s.CheckStock(ana, "A1001", "45")
	if !st.Available {
		t.Fatal("45 should be in stock")
	}
}

func TestCancelAndReturn(t *testing.T) {
	s := newShop(t, "")
	if _, _, err := s.Cancel(ana, "A1004"); !errors.Is(err, ErrForbidden) {
		t.Fatalf("ana cancelled luis's order: %v", err)
	}
	if ok, _, err := s.Cancel(ana, "A1002"); ok || err != nil {
		t.Fatalf("an order in transit was cancelled: %v %v", ok, err)
	}
	ok, refund, err := s.Cancel(luis, "A1004")
	if !ok || refund != 19 || err != nil {
		t.Fatalf("cancel A1004: %v %v %v", ok, refund, err)
	}
	if o, _, _ := s.Lookup(anonymous, "A1004"); o.Status != "cancelled" || !o.ETA.IsZero() {
		t.Fatalf("A1004 after cancelling: %+v", o)
	}
	if _, err := s.CreateReturn(ana, "A1001", "defect", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a faulty item returned without a photo: %v", err)
	}
	if _, err := s.CreateReturn(luis, "A1003", "changed_mind", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("a return 45 days after delivery: %v", err)
	}
	r, err := s.CreateReturn(luis, "A1003", "defect", "https://example.com/photo.jpg")
	if err != nil || r.ID != "RT-0001" || r.Refund != 110 {
		t.Fatalf("a warranty return: %+v %v", r, err)
	}
	if _, err := s.CreateReturn(luis, "A1003", "defect", "https://example.com/photo.jpg"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second return: %v", err)
	}
}

func TestTickets(t *testing.T) {
	s := newShop(t, "")
	if _, err := s.CreateTicket(anonymous, "grito", "algo", "a@b.co", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unknown kind: %v", err)
	}
	tk, err := s.CreateTicket(anonymous, "queja", "el repartidor fue grosero", "pepe@example.com", "#a1002")
	if err != nil || tk.ID != "PQRS-2026-0001" || tk.Order != "A1002" {
		t.Fatalf("ticket: %+v %v", tk, err)
	}
	// 15 business days from Monday 23 November: Monday 14 December.
	if want := time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC); !tk.Due.Equal(want) {
		t.Fatalf("due %v, want %v", tk.Due, want)
	}
	if tk2, _ := s.CreateTicket(ana, "sugerencia", "más colores", "ana@example.com", ""); tk2.ID != "PQRS-2026-0002" {
		t.Fatalf("the second ticket is %s", tk2.ID)
	}
	if n := len(s.Tickets()); n != 2 {
		t.Fatalf("%d tickets", n)
	}
}

func TestLoyalty(t *testing.T) {
	s := newShop(t, "")
	if _, err := s.RedeemPoints(anaUnsure, 500); !errors.Is(err, ErrForbidden) {
		t.Fatalf("points of a user nobody vouches for: %v", err)
	}
	if _, err := s.RedeemPoints(ana, 700); !errors.Is(err, ErrInvalid) {
		t.Fatalf("700 points: %v", err)
	}
	if r, _ := s.RedeemPoints(ana, 5000); r.OK || r.Reason != "balance" {
		t.Fatalf("more points than the balance: %+v", r)
	}
	r, err := s.RedeemPoints(ana, 1000)
	if err != nil || !r.OK || r.Value != 10 || r.Balance != 250 || !strings.HasPrefix(r.Code, "PTS-") || len(r.Code) != 10 {
		t.Fatalf("1000 points: %+v %v", r, err)
	}
	if v := s.Customer(ana); v.Points != 250 || !v.Known || v.Name != "Ana" || len(v.Orders) != 2 || v.Orders[0].ID != "A1002" {
		t.Fatalf("ana after redeeming: %+v", v)
	}
	codes := []struct {
		code, reason string
		ok           bool
		balance      int
	}{
		{"club-7h3k", "", true, 450},
		{"CLUB-7H3K", "used", false, 450},
		{"CLUB-0LD1", "expired", false, 450},
		{"CLUB-U5ED", "used", false, 450},
		{"NOPE-0000", "unknown", false, 450},
	}
	for _, c := range codes {
		r, err := s.RedeemCode(ana, c.code)
		if err != nil || r.OK != c.ok || r.Reason != c.reason || r.Balance != c.balance {
			t.Errorf("%s: %+v %v", c.code, r, err)
		}
	}
	if v := s.Customer(anonymous); v.Known {
		t.Fatal("an anonymous caller is known")
	}
}

func TestAdvanceTellsOwnerAndSubscribers(t *testing.T) {
	s := newShop(t, "")
	if err := s.Subscribe("wc-123", "A1002"); err != nil {
		t.Fatal(err)
	}
	u, err := s.Advance("A1002")
	if err != nil || u.Milestone != "distribution_center" || !reflect.DeepEqual(u.Notify, []string{"ana", "wc-123"}) {
		t.Fatalf("advance: %+v %v", u, err)
	}
	if o, _, _ := s.Lookup(anonymous, "A1002"); o.Next != "out_for_delivery" || o.Reached[2].Code != "distribution_center" {
		t.Fatalf("A1002 after advancing: %+v", o)
	}
	s.Advance("A1002")
	s.Advance("A1002")
	if o, _, _ := s.Lookup(anonymous, "A1002"); o.Status != "delivered" || s.daysSince(o.Delivered) != 0 {
		t.Fatalf("A1002 after three steps: %+v", o)
	}
	if _, err := s.Advance("A1002"); !errors.Is(err, ErrConflict) {
		t.Fatalf("advancing a delivered order: %v", err)
	}
}

func TestStateSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.db")
	s := newShop(t, path)
	if _, err := s.CreateExchange(ana, "A1001", "43"); err != nil {
		t.Fatal(err)
	}
	s.Cancel(luis, "A1004")
	s.RedeemPoints(ana, 500)
	s.Close()
	s2 := newShop(t, path)
	if o, _, _ := s2.Lookup(ana, "A1001"); o.Exchange != "CX-0001" {
		t.Fatalf("the exchange was lost: %+v", o)
	}
	if o, _, _ := s2.Lookup(luis, "A1004"); o.Status != "cancelled" {
		t.Fatalf("the cancellation was lost: %+v", o)
	}
	if v := s2.Customer(ana); v.Points != 750 {
		t.Fatalf("points after a restart: %d", v.Points)
	}
	if ex, err := s2.CreateReturn(ana, "A1001", "changed_mind", ""); err != nil || ex.ID != "RT-0001" {
		t.Fatalf("after a restart: %+v %v", ex, err)
	}
}

func TestBadSeed(t *testing.T) {
	tests := map[string]string{
		"unknown customer": "products: {p: {name: {es: P}, kind: shoes, stock: {\"40\": 1}}}\norders: {A1000: {customer: nadie, product: p, size: \"40\"}}\n",
		"bad order id":     "products: {p: {name: {es: P}, kind: shoes, stock: {\"40\": 1}}}\ncustomers: {c: {name: C}}\norders: {X1: {customer: c, product: p, size: \"40\"}}\n",
		"unknown field":    "productos: {}\n",
		"bad kind":         "products: {p: {name: {es: P}, kind: hats, stock: {}}}\n",
	}
	for name, src := range tests {
		if _, err := LoadData(fstest.MapFS{"s.yaml": {Data: []byte(src)}}, "s.yaml"); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// The actions speak the engine's language: results as the actions.yaml
// types, personal data only for the owner, the shop's errors as codes.
func TestActions(t *testing.T) {
	s := newShop(t, "")
	acts := s.Actions()
	call := func(name string, args map[string]any, c engine.ActionCall) (map[string]any, error) {
		c.Name, c.Args = name, args
		if c.Lang == "" {
			c.Lang = "es"
		}
		v, err := acts[name](context.Background(), c)
		m, _ := v.(map[string]any)
		return m, err
	}
	anon := engine.ActionCall{Conversation: "w1", Channel: "webchat"}
	o, err := call("get_order", map[string]any{"id": "A1002"}, anon)
	if err != nil || o["owner"] != false || o["next"] != "llegada al centro de distribución" || o["email_hint"] != nil || o["price"] != nil {
		t.Fatalf("an anonymous lookup: %v %v", o, err)
	}
	if ms := o["milestones"].([]any); len(ms) != 2 || ms[1].(map[string]any)["label"] != "llegó al aeropuerto" {
		t.Fatalf("milestones: %v", ms)
	}
	// REST names the user: ana counts as verified (the demo's rule).
	rest := engine.ActionCall{Conversation: "r1", Channel: "rest", User: "ana", Lang: "en"}
	o, _ = call("get_order", map[string]any{"id": "a1001"}, rest)
	if o["owner"] != true || o["email_hint"] != "a***@example.com" || o["days_since_delivery"] != 5 || o["product"] != "Runner Pro" {
		t.Fatalf("ana over REST: %v", o)
	}
	// The web chat's user id alone is not enough.
	o, _ = call("get_order", map[string]any{"id": "A1001"}, engine.ActionCall{Conversation: "w2", Channel: "webchat", User: "ana"})
	if o["owner"] != false {
		t.Fatalf("an unverified web chat user owns the order: %v", o)
	}
	if o, _ = call("get_order", map[string]any{"id": "Z9999"}, anon); o["found"] != false {
		t.Fatalf("Z9999: %v", o)
	}
	c, _ := call("get_customer", nil, engine.ActionCall{User: "ana", Verified: true, Lang: "en"})
	orders := c["orders"].([]any)
	if c["known"] != true || c["name"] != "Ana" || len(orders) != 2 || orders[0].(map[string]any)["label"] != "A1002 · Andes jacket (on its way)" {
		t.Fatalf("get_customer: %v", c)
	}
	// What a shopper may call each product: its names in both languages and its words.
	jacket := orders[0].(map[string]any)
	if jacket["product"] != "Andes jacket" || !reflect.DeepEqual(jacket["words"], []any{"andes", "jacket", "chaqueta", "chaquetas", "campera", "chamarra", "chompa"}) {
		t.Fatalf("the jacket's product and words: %v", jacket)
	}
	_, err = call("create_exchange", map[string]any{"order": "A1001", "size": "43"}, anon)
	if engine.ErrCode(err) != engine.EUnauthorized {
		t.Fatalf("a stranger's exchange: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := acts["get_order"](ctx, engine.ActionCall{Args: map[string]any{"id": "A1001"}}); engine.ErrCode(err) != engine.EUnavailable {
		t.Fatalf("a cancelled turn: %v", err)
	}
	st, _ := call("check_stock", map[string]any{"order": "A1001", "size": "44"}, anon)
	if st["available"] != false || !reflect.DeepEqual(st["nearest"], []any{"43", "45"}) {
		t.Fatalf("check_stock: %v", st)
	}
}

func TestAPI(t *testing.T) {
	s := newShop(t, "")
	var told []string
	api := &API{Shop: s, Token: "secret", Notify: func(ctx context.Context, user, event string, data map[string]any) error {
		if user == "ana" {
			return engine.Errorf(engine.ENotFound, "unknown user")
		}
		told = append(told, user+" "+event+" "+data["order"].(string)+" "+data["milestone"].(string))
		return nil
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	s.Subscribe("luis", "A1002")
	do := func(method, path, token string) (int, map[string]any) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	if code, v := do("GET", "/shop/api/orders/A1002/tracking?lang=en", ""); code != 200 || v["status"] != "in_transit" || v["eta"] != "2026-11-25" {
		t.Fatalf("tracking: %d %v", code, v)
	}
	if code, _ := do("GET", "/shop/api/orders/Z9999/tracking", ""); code != 404 {
		t.Fatalf("tracking Z9999: %d", code)
	}
	if code, _ := do("POST", "/shop/api/orders/A1002/advance", ""); code != 401 {
		t.Fatalf("advance without the token: %d", code)
	}
	if code, _ := do("GET", "/shop/api/orders/A1002/advance", "secret"); code != 405 {
		t.Fatalf("GET advance: %d", code)
	}
	code, v := do("POST", "/shop/api/orders/A1002/advance", "secret")
	if code != 200 || v["milestone"] != "distribution_center" || !reflect.DeepEqual(v["notified"], []any{"luis"}) {
		t.Fatalf("advance: %d %v", code, v)
	}
	if !reflect.DeepEqual(told, []string{"luis order_update A1002 distribution_center"}) {
		t.Fatalf("told: %v", told)
	}
	if code, _ := do("POST", "/shop/api/orders/A1001/advance", "secret"); code != 409 {
		t.Fatalf("advancing a delivered order: %d", code)
	}
	if code, _ := do("GET", "/shop/api/nothing", ""); code != 404 {
		t.Fatalf("an unknown path: %d", code)
	}
}

// A shopper without the order number gets the numbers in the inbox of the
// email they ordered with; the caller learns nothing of the email's orders.
func TestSendOrderNumbers(t *testing.T) {
	var mailed []Email
	s, err := New(seedData(t), Options{Now: func() time.Time { return day0 }, Mail: func(e Email) { mailed = append(mailed, e) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		caller Caller
		email  string
		lang   string
		sent   bool
		err    error
		mail   *Email
	}{
		{anonymous, " Ana@Example.com ", "es", true, nil, &Email{To: "ana@example.com", Subject: "Los números de tus pedidos en Tienda Charla",
			Body: "Hola, Ana. Estos son los pedidos que hiciste con este correo:\nA1002 · Chaqueta Andes (en camino)\nA1001 · Runner Pro (entregado)\nEscribe el número en el chat para seguir.", At: day0}},
		{anonymous, "luis@example.com", "en", true, nil, &Email{To: "luis@example.com", Subject: "Your order numbers at Tienda Charla",
			Body: "Hi Luis, these are the orders you placed with this email:\nA1004 · Basic T-shirt (paid)\nA1003 · Sierra boots (delivered)\nType the number in the chat to carry on.", At: day0}},
		{anonymous, "nadie@example.com", "es", true, nil, nil},                                                                           // the same answer: nothing is revealed
		{anonymous, "ana@example.com", "es", false, nil, nil},                                                                            // a fourth time: no more
		{ana, "ana@example.com", "es", true, nil, &Email{To: "ana@example.com", Subject: "Los números de tus pedidos en Tienda Charla"}}, // another conversation
		{Caller{}, "ana@example.com", "es", false, ErrInvalid, nil},
		{luis, "no es un correo", "es", false, ErrInvalid, nil},
	} {
		mailed = nil
		sent, err := s.SendOrderNumbers(tc.caller, tc.email, tc.lang)
		if sent != tc.sent || !errors.Is(err, tc.err) {
			t.Errorf("%+v %q: sent %v, err %v; want %v, %v", tc.caller, tc.email, sent, err, tc.sent, tc.err)
		}
		switch {
		case tc.mail == nil && len(mailed) > 0:
			t.Errorf("%q: mailed %+v", tc.email, mailed)
		case tc.mail != nil && len(mailed) != 1:
			t.Errorf("%q: mailed %d emails", tc.email, len(mailed))
		case tc.mail != nil && tc.mail.Body != "" && !reflect.DeepEqual(mailed[0], *tc.mail):
			t.Errorf("%q: mailed\n%+v\nwant\n%+v", tc.email, mailed[0], *tc.mail)
		}
	}
	if out := s.Outbox(); len(out) != 3 || out[0].To != "ana@example.com" || out[1].To != "luis@example.com" {
		t.Errorf("outbox: %+v", out)
	}
	// The action, as the bot calls it.
	res, err := s.Actions()["send_order_numbers"](context.Background(),
		engine.ActionCall{Args: map[string]any{"email": "ana@example.com"}, Conversation: "c9", Lang: "es"})
	if err != nil || !reflect.DeepEqual(res, map[string]any{"ok": true}) {
		t.Errorf("action: %v, %v", res, err)
	}
}

func TestNormalizeOrderID(t *testing.T) {
	for in, want := range map[string]string{
		"A1001": "A1001", "a1001": "A1001", "#a1002": "A1002", " # A1002 ": "A1002",
		"a-1002": "A1002", "A 1001": "A1001", "z9999": "Z9999",
	} {
		if got := NormalizeOrderID(in); got != want {
			t.Errorf("NormalizeOrderID(%q) = %q, want %q", in, got, want)
		}
	}
}

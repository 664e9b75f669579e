// Package shop is the small shop service behind the reference bot of
// examples/ecommerce: orders and their tracking, stock, size exchanges,
// cancellations, returns, PQRS tickets and loyalty points, over the seed
// data of data/shop.yaml. What shoppers change (an exchange, a
// cancellation, a redeemed code) is kept in a bbolt file, DATADIR/shop.db,
// next to the bot's charla.db.
//
// The service enforces the shop's privacy rule itself, so that no flow can
// leak or change somebody else's order: anybody may learn an order's
// shipping status from its number; its personal data and every change need
// its verified owner, or a conversation that proved the order's email.
//
// [Service.Actions] exposes it to the bot as the Go functions that
// actions.yaml declares; [Service.Handler] is its small HTTP API.
package shop

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Errors of the service. Callers test them with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("only the order's verified owner may do that")
	ErrConflict  = errors.New("the order does not allow it")
	ErrInvalid   = errors.New("invalid request")
	// ErrInUse: another process holds the shop's file (a second copy of
	// the program on the same data directory).
	ErrInUse = errors.New("in use by another program")
)

// Windows of the shop's policy.
const (
	ExchangeDays = 30 // size exchanges and returns for any reason
	WarrantyDays = 90 // returns of faulty items
	dropOffDays  = 10 // time to drop a parcel off
	ticketDays   = 15 // business days to answer a PQRS ticket
	pointsBlock  = 500
	blockValue   = 5 // dollars per block of points
)

var orderID = regexp.MustCompile(`^[A-Z]\d{4}$`)

// Caller is who asks: the user the conversation belongs to, whether the
// channel vouches for them, and the conversation itself (which may have
// proved an order's email).
type Caller struct {
	User         string
	Verified     bool
	Conversation string
}

// Service is the shop. Create it with [New]; it is safe for concurrent use.
type Service struct {
	data  *Data
	start time.Time // midnight of the day the shop started, in loc
	loc   *time.Location
	now   func() time.Time
	db    *bolt.DB // nil: state in memory only
	mail  func(Email)

	mu    sync.Mutex
	state state
}

// state is what shoppers changed, persisted as one JSON document.
type state struct {
	Orders      map[string]*orderState `json:"orders"`
	Points      map[string]int         `json:"points"`       // customer → balance, once it changed
	UsedCodes   map[string]time.Time   `json:"used_codes"`   // loyalty codes redeemed
	Stock       map[string]int         `json:"stock"`        // "product/size" → units, once it changed
	Proven      map[string][]string    `json:"proven"`       // conversation → orders whose email it gave
	Subscribers map[string][]string    `json:"subscribers"`  // order → users to notify
	Tickets     []Ticket               `json:"tickets"`      // PQRS
	Feedback    []Feedback             `json:"feedback"`     // satisfaction ratings
	Seq         map[string]int         `json:"seq"`          // counters of ids by prefix
	Milestones  map[string][]string    `json:"milestones"`   // order → milestones reached since the start
	EmailMisses map[string]int         `json:"email_misses"` // conversation → wrong emails given
	NumberMails map[string]int         `json:"number_mails"` // conversation → order numbers emailed
	Outbox      []Email                `json:"outbox"`       // the latest emails sent, newest last
}

type orderState struct {
	Status   string    `json:"status,omitempty"` // cancelled
	Exchange string    `json:"exchange,omitempty"`
	Return   string    `json:"return,omitempty"`
	Changed  time.Time `json:"changed"`
}

// Ticket is a PQRS ticket.
type Ticket struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Description string    `json:"description"`
	Email       string    `json:"email"`
	Order       string    `json:"order,omitempty"`
	User        string    `json:"user,omitempty"`
	Created     time.Time `json:"created"`
	Due         time.Time `json:"due"`
}

// Feedback is a satisfaction rating.
type Feedback struct {
	Rating       int       `json:"rating"`
	Comment      string    `json:"comment,omitempty"`
	Conversation string    `json:"conversation"`
	At           time.Time `json:"at"`
}

// Email is a message the shop sent a customer.
type Email struct {
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	At      time.Time `json:"at"`
}

// Options configure a Service.
type Options struct {
	// Path of the bbolt file that keeps what shoppers change ("": memory).
	Path     string
	Now      func() time.Time // time.Now
	Location *time.Location   // the shop's time zone (UTC)
	// Mail delivers the shop's emails (a real shop's mailer); it is called
	// after the email is kept in [Service.Outbox], outside the shop's lock.
	// nil: they are only kept.
	Mail func(Email)
}

var bucket = []byte("shop")

// New starts the shop on its seed data. The day it starts is day 0 of the
// seed's relative dates.
func New(d *Data, o Options) (*Service, error) {
	s := &Service{data: d, now: o.Now, loc: o.Location, mail: o.Mail}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	t := s.now().In(s.loc)
	s.start = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc)
	s.state = state{}
	if o.Path != "" {
		db, err := bolt.Open(o.Path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
		if errors.Is(err, bolterrors.ErrTimeout) {
			err = ErrInUse
		}
		if err != nil {
			return nil, fmt.Errorf("shop: opening %s: %w", o.Path, err)
		}
		s.db = db
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			if v := b.Get([]byte("state")); v != nil {
				return json.Unmarshal(v, &s.state)
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("shop: reading %s: %w", o.Path, err)
		}
	}
	s.state.init()
	return s, nil
}

func (st *state) init() {
	if st.Orders == nil {
		st.Orders = map[string]*orderState{}
	}
	if st.Points == nil {
		st.Points = map[string]int{}
	}
	if st.UsedCodes == nil {
		st.UsedCodes = map[string]time.Time{}
	}
	if st.Stock == nil {
		st.Stock = map[string]int{}
	}
	if st.Proven == nil {
		st.Proven = map[string][]string{}
	}
	if st.Subscribers == nil {
		st.Subscribers = map[string][]string{}
	}
	if st.Seq == nil {
		st.Seq = map[string]int{}
	}
	if st.Milestones == nil {
		st.Milestones = map[string][]string{}
	}
	if st.EmailMisses == nil {
		st.EmailMisses = map[string]int{}
	}
	if st.NumberMails == nil {
		st.NumberMails = map[string]int{}
	}
}

// Close closes the state file.
func (s *Service) Close() error {
	if s.db == nil {
		return nil
	}
	return s.db.Close()
}

// save persists the state; it runs with s.mu held, after a change. A
// failure is returned so the change is reported as failed to the shopper.
func (s *Service) save() error {
	if s.db == nil {
		return nil
	}
	b, err := json.Marshal(&s.state)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte("state"), b) })
}

// day returns the date n days from the start.
func (s *Service) day(n int) time.Time { return s.start.AddDate(0, 0, n) }

// today is the current date in the shop's time zone.
func (s *Service) today() time.Time {
	t := s.now().In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc)
}

// Order is an order as the shop sees it now.
type Order struct {
	ID        string
	Customer  string
	Product   string
	Size      string
	Price     float64
	Status    string // paid | in_transit | delivered | cancelled
	Placed    time.Time
	Reached   []Reached // milestones so far, in order
	Next      string    // the next milestone's code, in transit
	ETA       time.Time // zero once delivered
	Delivered time.Time // zero until delivered
	Exchange  string
	Return    string
}

// Reached is a milestone an order has reached.
type Reached struct {
	Code string
	Date time.Time
}

// order builds the current view of an order; s.mu held.
func (s *Service) order(id string) (*Order, bool) {
	seed, ok := s.data.Orders[id]
	if !ok {
		return nil, false
	}
	p := s.data.Products[seed.Product]
	o := &Order{ID: id, Customer: seed.Customer, Product: seed.Product, Size: seed.Size,
		Price: p.Price, Placed: s.day(seed.Placed)}
	reached := map[string]time.Time{}
	for code, d := range seed.Milestones {
		if d <= 0 || s.day(d).Compare(s.today()) <= 0 {
			reached[code] = s.day(d)
		}
	}
	for _, code := range s.state.Milestones[id] {
		if _, ok := reached[code]; !ok {
			reached[code] = s.today()
		}
	}
	for _, m := range s.data.Milestones {
		if d, ok := reached[m.Code]; ok {
			o.Reached = append(o.Reached, Reached{Code: m.Code, Date: d})
		} else if o.Next == "" {
			o.Next = m.Code
		}
	}
	switch {
	case len(o.Reached) == 0:
		o.Status = "paid"
	case o.Reached[len(o.Reached)-1].Code == "delivered":
		o.Status = "delivered"
		o.Delivered = o.Reached[len(o.Reached)-1].Date
		o.Next = ""
	default:
		o.Status = "in_transit"
	}
	if o.Status != "delivered" && seed.ETA != nil {
		o.ETA = s.day(*seed.ETA)
		if o.ETA.Before(s.today()) {
			o.ETA = s.today()
		}
	}
	if st := s.state.Orders[id]; st != nil {
		if st.Status != "" {
			o.Status = st.Status
			o.ETA, o.Next = time.Time{}, ""
		}
		o.Exchange, o.Return = st.Exchange, st.Return
	}
	return o, true
}

// DaysSinceDelivery is the number of whole days since the order was delivered.
func (s *Service) daysSince(t time.Time) int {
	return int(math.Round(s.today().Sub(t).Hours() / 24))
}

// owns reports whether the caller may see and change an order; s.mu held.
func (s *Service) owns(c Caller, o *Order) bool {
	if c.Verified && c.User != "" && c.User == o.Customer {
		return true
	}
	return c.Conversation != "" && slices.Contains(s.state.Proven[c.Conversation], o.ID)
}

// owned returns the order the caller may change; s.mu held.
func (s *Service) owned(c Caller, id string) (*Order, error) {
	o, ok := s.order(NormalizeOrderID(id))
	if !ok {
		return nil, ErrNotFound
	}
	if !s.owns(c, o) {
		return nil, ErrForbidden
	}
	return o, nil
}

func (s *Service) orderState(id string) *orderState {
	st := s.state.Orders[id]
	if st == nil {
		st = &orderState{}
		s.state.Orders[id] = st
	}
	return st
}

// next returns the next id with the given prefix: "CX-1001", ...
func (s *Service) next(prefix string, width int) string {
	s.state.Seq[prefix]++
	n := s.state.Seq[prefix]
	return fmt.Sprintf("%s%0*d", prefix, width, n)
}

// ---- queries and commands, as the bot's actions use them

// CustomerView is what the bot may know about the caller.
type CustomerView struct {
	Known  bool
	ID     string
	Name   string
	Points int
	Orders []*Order // newest first
}

// Customer returns the caller when the channel vouches for a registered
// customer; otherwise Known is false.
func (s *Service) Customer(c Caller) CustomerView {
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.data.Customers[c.User]
	if !c.Verified || cu == nil {
		return CustomerView{}
	}
	return CustomerView{Known: true, ID: c.User, Name: cu.Name, Points: s.points(c.User), Orders: s.ordersOf(c.User)}
}

func (s *Service) points(customer string) int {
	if p, ok := s.state.Points[customer]; ok {
		return p
	}
	if cu := s.data.Customers[customer]; cu != nil {
		return cu.Points
	}
	return 0
}

// Lookup returns an order and whether the caller owns it. ErrNotFound when
// there is no such order.
func (s *Service) Lookup(c Caller, id string) (*Order, bool, error) {
	id = NormalizeOrderID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.order(id)
	if !ok {
		return nil, false, ErrNotFound
	}
	return o, s.owns(c, o), nil
}

// NormalizeOrderID upper-cases an order id and drops a leading "#" and
// the spaces and dashes shoppers put in it ("a-1002", "A 1001").
func NormalizeOrderID(id string) string {
	id = strings.TrimPrefix(strings.TrimSpace(id), "#")
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(id))
}

// Email returns the customer email of an order, masked ("a***@example.com").
func (s *Service) maskedEmail(o *Order) string {
	e := s.data.Customers[o.Customer].Email
	at := strings.IndexByte(e, '@')
	if at < 1 {
		return ""
	}
	return e[:1] + "***" + e[at:]
}

// maxEmailMisses bounds the wrong emails one conversation may try.
const maxEmailMisses = 5

// VerifyEmail checks the email of an order; a match lets the caller's
// conversation change the order from then on.
func (s *Service) VerifyEmail(c Caller, id, email string) (bool, error) {
	id = NormalizeOrderID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.order(id)
	if !ok {
		return false, ErrNotFound
	}
	if c.Conversation == "" {
		return false, ErrInvalid
	}
	if s.state.EmailMisses[c.Conversation] >= maxEmailMisses {
		return false, nil // guessing: no more answers for this conversation
	}
	if !strings.EqualFold(strings.TrimSpace(email), s.data.Customers[o.Customer].Email) {
		s.state.EmailMisses[c.Conversation]++
		return false, s.save()
	}
	if !slices.Contains(s.state.Proven[c.Conversation], id) {
		s.state.Proven[c.Conversation] = append(s.state.Proven[c.Conversation], id)
	}
	return true, s.save()
}

// maxNumberMails bounds the emails of order numbers one conversation may
// have sent, and outboxSize the emails kept.
const (
	maxNumberMails = 3
	outboxSize     = 100
)

// SendOrderNumbers emails the numbers of the orders made with an email to
// that email, for a shopper who does not have them at hand. Whether the
// email has orders is never told to the caller — they go to the inbox, not
// the chat, so knowing somebody's email reveals nothing — and sent is false
// only when the conversation has asked too many times already.
func (s *Service) SendOrderNumbers(c Caller, email, lang string) (sent bool, err error) {
	email = strings.TrimSpace(email)
	if c.Conversation == "" || !strings.Contains(email, "@") {
		return false, ErrInvalid
	}
	s.mu.Lock()
	if s.state.NumberMails[c.Conversation] >= maxNumberMails {
		s.mu.Unlock()
		return false, nil
	}
	s.state.NumberMails[c.Conversation]++
	var m *Email
	for id, cu := range s.data.Customers {
		if !strings.EqualFold(cu.Email, email) {
			continue
		}
		var lines []string
		for _, o := range s.ordersOf(id) {
			lines = append(lines, fmt.Sprintf("%s · %s (%s)", o.ID, s.productName(o.Product, lang), statusName(o.Status, lang)))
		}
		if len(lines) == 0 {
			break
		}
		m = &Email{To: cu.Email, At: s.now()}
		if lang == "en" {
			m.Subject = "Your order numbers at Tienda Charla"
			m.Body = "Hi " + cu.Name + ", these are the orders you placed with this email:\n" + strings.Join(lines, "\n") +
				"\nType the number in the chat to carry on."
		} else {
			m.Subject = "Los números de tus pedidos en Tienda Charla"
			m.Body = "Hola, " + cu.Name + ". Estos son los pedidos que hiciste con este correo:\n" + strings.Join(lines, "\n") +
				"\nEscribe el número en el chat para seguir."
		}
		s.state.Outbox = append(s.state.Outbox, *m)
		if n := len(s.state.Outbox); n > outboxSize {
			s.state.Outbox = slices.Delete(s.state.Outbox, 0, n-outboxSize)
		}
		break
	}
	err = s.save()
	s.mu.Unlock()
	if err != nil {
		return false, err
	}
	if m != nil && s.mail != nil {
		s.mail(*m)
	}
	return true, nil
}

// ordersOf returns a customer's orders, newest first; s.mu held.
func (s *Service) ordersOf(customer string) []*Order {
	var out []*Order
	for id, seed := range s.data.Orders {
		if seed.Customer == customer {
			o, _ := s.order(id)
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Placed.Equal(out[j].Placed) {
			return out[i].Placed.After(out[j].Placed)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Outbox returns the latest emails the shop sent, oldest first.
func (s *Service) Outbox() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.Outbox)
}

// Stock is the answer to a stock question.
type Stock struct {
	Valid     bool     // the product comes in that size
	Size      string   // in the shop's system
	Converted bool     // given as a US or UK size
	Available bool     // units in stock
	Nearest   []string // the closest sizes in stock, when it is out
	Range     string   // "38–46", "S–XL"
}

var foreignSize = regexp.MustCompile(`^(?i)(US|UK)\s*(\d{1,2}(?:[.,]5)?)$`)

// CheckStock tells whether the product of an order comes in a size, and
// whether there are units; sizes in US or UK numbers are converted.
func (s *Service) CheckStock(c Caller, id, size string) (Stock, error) {
	id = NormalizeOrderID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.order(id)
	if !ok {
		return Stock{}, ErrNotFound
	}
	p := s.data.Products[o.Product]
	sizes := p.Sizes()
	st := Stock{Range: sizes[0] + "–" + sizes[len(sizes)-1]}
	size = strings.ToUpper(strings.TrimSpace(size))
	if m := foreignSize.FindStringSubmatch(size); m != nil {
		st.Converted = true
		if p.Kind != "shoes" {
			st.Size = size
			return st, nil
		}
		n, _ := strconv.ParseFloat(strings.ReplaceAll(m[2], ",", "."), 64)
		eu := ""
		for _, row := range s.data.ShoeSizes { // the smallest EU size at least as big
			v := row.US
			if m[1] == "UK" {
				v = row.UK
			}
			if v >= n {
				eu = row.EU
				break
			}
		}
		if eu == "" {
			st.Size = size
			return st, nil
		}
		size = eu
	}
	size = strings.TrimSuffix(size, ".0")
	st.Size = size
	units, ok := p.Stock[size]
	if !ok {
		return st, nil
	}
	st.Valid = true
	if n, changed := s.state.Stock[o.Product+"/"+size]; changed {
		units = n
	}
	st.Available = units > 0
	if !st.Available {
		st.Nearest = s.nearest(o.Product, p, size)
	}
	return st, nil
}

// nearest returns up to two sizes in stock closest to size (both
// neighbours when they are equally close).
func (s *Service) nearest(pid string, p *Product, size string) []string {
	sizes := p.Sizes()
	at := slices.Index(sizes, size)
	type cand struct {
		size string
		dist int
	}
	var cs []cand
	for i, sz := range sizes {
		units := p.Stock[sz]
		if n, changed := s.state.Stock[pid+"/"+sz]; changed {
			units = n
		}
		if units > 0 && i != at {
			d := i - at
			if d < 0 {
				d = -d
			}
			cs = append(cs, cand{sz, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].dist < cs[j].dist })
	var out []string
	for _, c := range cs {
		if len(out) == 2 || (len(out) == 1 && c.dist > cs[0].dist+1) {
			break
		}
		out = append(out, c.size)
	}
	sort.Slice(out, func(i, j int) bool { return sizeRank(out[i]) < sizeRank(out[j]) })
	return out
}

// Exchange is a size exchange, or a return, just requested.
type Exchange struct {
	ID       string
	Carrier  string
	Deadline time.Time
}

const carrier = "Servientrega"

// CreateExchange requests a size exchange: the owner's delivered order,
// within the window, for a size in stock (one unit is reserved).
func (s *Service) CreateExchange(c Caller, id, size string) (Exchange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.owned(c, id)
	if err != nil {
		return Exchange{}, err
	}
	if o.Status != "delivered" || o.Exchange != "" || o.Return != "" || s.daysSince(o.Delivered) > ExchangeDays {
		return Exchange{}, ErrConflict
	}
	p := s.data.Products[o.Product]
	key := o.Product + "/" + size
	units, ok := p.Stock[size]
	if !ok {
		return Exchange{}, ErrInvalid
	}
	if n, changed := s.state.Stock[key]; changed {
		units = n
	}
	if units <= 0 {
		return Exchange{}, ErrConflict
	}
	s.state.Stock[key] = units - 1
	ex := Exchange{ID: s.next("CX-", 4), Carrier: carrier, Deadline: s.today().AddDate(0, 0, dropOffDays)}
	st := s.orderState(o.ID)
	st.Exchange, st.Changed = ex.ID, s.now()
	return ex, s.save()
}

// Cancel cancels the owner's order if it has not shipped. ok is false
// when it has shipped meanwhile.
func (s *Service) Cancel(c Caller, id string) (ok bool, refund float64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.owned(c, id)
	if err != nil {
		return false, 0, err
	}
	if o.Status != "paid" {
		return false, 0, nil
	}
	st := s.orderState(o.ID)
	st.Status, st.Changed = "cancelled", s.now()
	return true, o.Price, s.save()
}

// Return is a return just opened.
type Return struct {
	Exchange
	Refund float64
}

// CreateReturn opens a return of the owner's delivered order: within 30
// days for any reason, 90 for a fault.
func (s *Service) CreateReturn(c Caller, id, reason, photo string) (Return, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.owned(c, id)
	if err != nil {
		return Return{}, err
	}
	window := ExchangeDays
	if reason == "defect" {
		window = WarrantyDays
	}
	if o.Status != "delivered" || o.Return != "" || s.daysSince(o.Delivered) > window {
		return Return{}, ErrConflict
	}
	if (reason == "defect" || reason == "different") && photo == "" {
		return Return{}, ErrInvalid
	}
	r := Return{Exchange: Exchange{ID: s.next("RT-", 4), Carrier: carrier, Deadline: s.today().AddDate(0, 0, dropOffDays)}, Refund: o.Price}
	st := s.orderState(o.ID)
	st.Return, st.Changed = r.ID, s.now()
	return r, s.save()
}

// CreateTicket files a PQRS ticket, answered within 15 business days.
func (s *Service) CreateTicket(c Caller, kind, description, email, order string) (Ticket, error) {
	switch kind {
	case "peticion", "queja", "reclamo", "sugerencia":
	default:
		return Ticket{}, ErrInvalid
	}
	if strings.TrimSpace(description) == "" || !strings.Contains(email, "@") {
		return Ticket{}, ErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	due := s.today()
	for n := 0; n < ticketDays; {
		due = due.AddDate(0, 0, 1)
		if due.Weekday() != time.Saturday && due.Weekday() != time.Sunday {
			n++
		}
	}
	t := Ticket{ID: s.next(fmt.Sprintf("PQRS-%d-", s.today().Year()), 4), Type: kind, Description: description,
		Email: email, Order: NormalizeOrderID(order), User: c.User, Created: s.now(), Due: due}
	s.state.Tickets = append(s.state.Tickets, t)
	return t, s.save()
}

// Subscribe sends the caller the shipping updates of an order (its status
// is public, so anybody may follow it).
func (s *Service) Subscribe(user, id string) error {
	id = NormalizeOrderID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.order(id); !ok {
		return ErrNotFound
	}
	if user == "" {
		return ErrInvalid
	}
	if !slices.Contains(s.state.Subscribers[id], user) {
		s.state.Subscribers[id] = append(s.state.Subscribers[id], user)
	}
	return s.save()
}

// Redeemed is the outcome of a redemption.
type Redeemed struct {
	OK      bool
	Reason  string // used | expired | unknown | balance
	Code    string // the coupon, for points
	Value   float64
	Points  int // added, for a code
	Balance int
}

// RedeemPoints turns blocks of 500 points into a coupon.
func (s *Service) RedeemPoints(c Caller, points int) (Redeemed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.Verified || s.data.Customers[c.User] == nil {
		return Redeemed{}, ErrForbidden
	}
	if points <= 0 || points%pointsBlock != 0 {
		return Redeemed{}, ErrInvalid
	}
	bal := s.points(c.User)
	if points > bal {
		return Redeemed{Reason: "balance", Balance: bal}, nil
	}
	bal -= points
	s.state.Points[c.User] = bal
	code := "PTS-" + strings.ToUpper(randomCode(6))
	return Redeemed{OK: true, Code: code, Value: float64(points / pointsBlock * blockValue), Balance: bal}, s.save()
}

// RedeemCode adds the points of a Club code.
func (s *Service) RedeemCode(c Caller, code string) (Redeemed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !c.Verified || s.data.Customers[c.User] == nil {
		return Redeemed{}, ErrForbidden
	}
	code = strings.ToUpper(strings.TrimSpace(code))
	lc, ok := s.data.LoyaltyCodes[code]
	bal := s.points(c.User)
	switch {
	case !ok:
		return Redeemed{Reason: "unknown", Balance: bal}, nil
	case lc.Used:
		return Redeemed{Reason: "used", Balance: bal}, nil
	case s.day(lc.Expires).Before(s.today()):
		return Redeemed{Reason: "expired", Balance: bal}, nil
	}
	if _, used := s.state.UsedCodes[code]; used {
		return Redeemed{Reason: "used", Balance: bal}, nil
	}
	s.state.UsedCodes[code] = s.now()
	bal += lc.Points
	s.state.Points[c.User] = bal
	return Redeemed{OK: true, Points: lc.Points, Balance: bal}, s.save()
}

// SaveFeedback keeps a satisfaction rating.
func (s *Service) SaveFeedback(c Caller, rating int, comment string) error {
	if rating < 1 || rating > 5 {
		return ErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Feedback = append(s.state.Feedback, Feedback{Rating: rating, Comment: comment, Conversation: c.Conversation, At: s.now()})
	return s.save()
}

// Update is a shipping milestone reached by an order, and who to tell.
type Update struct {
	Order     string   `json:"order"`
	Milestone string   `json:"milestone"`
	Notify    []string `json:"notify"` // users: the owner and the subscribers
}

// Advance moves an in-transit or paid order to its next milestone (the
// shop's carrier reporting progress) and says who should hear about it.
func (s *Service) Advance(id string) (Update, error) {
	id = NormalizeOrderID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.order(id)
	if !ok {
		return Update{}, ErrNotFound
	}
	if o.Status == "cancelled" || o.Status == "delivered" {
		return Update{}, ErrConflict
	}
	next := o.Next
	if next == "" {
		next = s.data.Milestones[0].Code
	}
	s.state.Milestones[id] = append(s.state.Milestones[id], next)
	u := Update{Order: id, Milestone: next, Notify: []string{o.Customer}}
	for _, sub := range s.state.Subscribers[id] {
		if !slices.Contains(u.Notify, sub) {
			u.Notify = append(u.Notify, sub)
		}
	}
	return u, s.save()
}

// milestone returns a milestone's definition.
func (s *Service) milestone(code string) Milestone {
	for _, m := range s.data.Milestones {
		if m.Code == code {
			return m
		}
	}
	return Milestone{Code: code}
}

// Tickets returns the PQRS tickets filed so far.
func (s *Service) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.Tickets)
}

func randomCode(n int) string {
	const letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

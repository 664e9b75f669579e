package shop

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Data is the shop's seed: its catalogue, customers and orders, with dates
// as days relative to the day the shop starts (see data/shop.yaml).
type Data struct {
	Products     map[string]*Product    `yaml:"products"`
	Customers    map[string]*Customer   `yaml:"customers"`
	Orders       map[string]*OrderSeed  `yaml:"orders"`
	Milestones   []Milestone            `yaml:"milestones"`
	ShoeSizes    []ShoeSize             `yaml:"shoe_sizes"`
	LoyaltyCodes map[string]LoyaltyCode `yaml:"loyalty_codes"`
}

// Localized is a text per language.
type Localized map[string]string

// In returns the text in lang, else in Spanish, else any.
func (l Localized) In(lang string) string {
	if s, ok := l[lang]; ok {
		return s
	}
	if s, ok := l["es"]; ok {
		return s
	}
	for _, s := range l {
		return s
	}
	return ""
}

// Product is an item of the catalogue.
type Product struct {
	Name  Localized      `yaml:"name"`
	Kind  string         `yaml:"kind"` // shoes | clothing
	Price float64        `yaml:"price"`
	Stock map[string]int `yaml:"stock"` // size → units
	// Words are what shoppers call it, in any language ("tenis",
	// "zapatillas", "sneakers"): a message that names one order's words
	// points to that order.
	Words []string `yaml:"words"`
}

// Sizes returns the product's sizes in their natural order.
func (p *Product) Sizes() []string {
	out := make([]string, 0, len(p.Stock))
	for s := range p.Stock {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return sizeRank(out[i]) < sizeRank(out[j]) })
	return out
}

// Customer is a registered shopper.
type Customer struct {
	Name   string `yaml:"name"`
	Email  string `yaml:"email"`
	Points int    `yaml:"points"`
}

// OrderSeed is an order as data/shop.yaml gives it.
type OrderSeed struct {
	Customer   string         `yaml:"customer"`
	Product    string         `yaml:"product"`
	Size       string         `yaml:"size"`
	Placed     int            `yaml:"placed"`     // days from the start
	Milestones map[string]int `yaml:"milestones"` // code → days from the start
	ETA        *int           `yaml:"eta"`        // days from the start
}

// Milestone is a tracking step.
type Milestone struct {
	Code string    `yaml:"code"`
	Done Localized `yaml:"done"` // "llegó al aeropuerto"
	Next Localized `yaml:"next"` // "llegada al aeropuerto"
}

// ShoeSize is one row of the shoe size chart.
type ShoeSize struct {
	EU string  `yaml:"eu"`
	US float64 `yaml:"us"`
	UK float64 `yaml:"uk"`
}

// LoyaltyCode is a code a shopper may redeem for points.
type LoyaltyCode struct {
	Points  int  `yaml:"points"`
	Expires int  `yaml:"expires"` // days from the start
	Used    bool `yaml:"used"`
}

// LoadData reads and checks a seed file.
func LoadData(fsys fs.FS, name string) (*Data, error) {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	var d Data
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := d.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &d, nil
}

func (d *Data) check() error {
	known := map[string]bool{}
	for _, m := range d.Milestones {
		known[m.Code] = true
	}
	for id, o := range d.Orders {
		if !orderID.MatchString(id) {
			return fmt.Errorf("order %q: the id must be a letter and four digits", id)
		}
		if d.Customers[o.Customer] == nil {
			return fmt.Errorf("order %s: unknown customer %q", id, o.Customer)
		}
		p := d.Products[o.Product]
		if p == nil {
			return fmt.Errorf("order %s: unknown product %q", id, o.Product)
		}
		if _, ok := p.Stock[o.Size]; !ok {
			return fmt.Errorf("order %s: product %s has no size %q", id, o.Product, o.Size)
		}
		for code := range o.Milestones {
			if !known[code] {
				return fmt.Errorf("order %s: unknown milestone %q", id, code)
			}
		}
	}
	for id, p := range d.Products {
		if p.Kind != "shoes" && p.Kind != "clothing" {
			return fmt.Errorf("product %s: kind must be shoes or clothing", id)
		}
	}
	return nil
}

// letterSizes are clothing sizes in order.
var letterSizes = []string{"XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"}

// sizeRank orders sizes: letters by their place, numbers by value.
func sizeRank(s string) float64 {
	for i, l := range letterSizes {
		if s == l {
			return float64(i)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 1e9
	}
	return f
}

// Package entity finds entities in chat text: the built-in ones (numbers in
// digits and words, money, e-mail, phone, dates relative to now, order
// ids, shoe and clothing sizes, yes/no) and the designer's regular
// expressions and lookup lists (with synonyms and typo tolerance). Values
// are canonical; offsets count Unicode code points of the original text.
package entity

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/nlu/normalize"
)

// DefaultOrderPattern is the shape of an order id when the bot sets none.
const DefaultOrderPattern = `[A-Z]\d{4}`

// Options configure an [Extractor].
type Options struct {
	// OrderPattern is the regular expression of an order id, without "#"
	// (default [DefaultOrderPattern]); it is matched ignoring case.
	OrderPattern string
	// Currency is the ISO code that "$" and "pesos" stand for (default
	// "USD"; "pesos" is read as this currency only when it is a peso).
	Currency string
}

// Extractor finds entities. Build one with [New]; it is safe for
// concurrent use.
type Extractor struct {
	lang      string
	order     *regexp.Regexp
	orderNeed *runeSet // every order id has one of these runes (nil: no filter)
	currency  string
	custom    []customRegex
	lookups   []*lookup
}

// customRegex is a designer's regular expression with the runes one of
// which every match contains (nil: no filter).
type customRegex struct {
	e    *engine.EntityData
	need *runeSet
}

// New returns an extractor for texts in lang ("es", "en"; "" reads both)
// with the designer's entities.
func New(lang string, custom []*engine.EntityData, opt Options) (*Extractor, error) {
	p := opt.OrderPattern
	if p == "" {
		p = DefaultOrderPattern
	}
	order, err := regexp.Compile(`(?i)(?:^|[^\pL\pN])#?\s?(` + p + `)(?:$|[^\pL\pN])`)
	if err != nil {
		return nil, engine.Errorf(engine.EInvalid, "order id pattern: %v", err)
	}
	x := &Extractor{lang: lang, order: order, orderNeed: requiredRunes("(?i)" + p), currency: cmp.Or(strings.ToUpper(opt.Currency), "USD")}
	for _, e := range custom {
		if e == nil {
			continue
		}
		if e.Pattern != nil {
			x.custom = append(x.custom, customRegex{e, requiredRunes(e.Pattern.String())})
		}
		if len(e.Values) > 0 {
			x.lookups = append(x.lookups, newLookup(e))
		}
	}
	return x, nil
}

// text is a message prepared for matching: its original runes, their
// folded lower-case form (one rune each), and the folded form's words.
// Texts are pooled: nothing returned to a caller may point into one.
type text struct {
	s      string // the original text (valid UTF-8: invalid bytes read as U+FFFD)
	orig   []rune
	fold   []rune
	fs     string  // string(fold)
	byteR  []int32 // rune index of each byte offset of fs, and of len(fs)
	words  []word  // s: a substring of fs
	sq     []string
	bw     []boolWord
	digits int  // how many ASCII digits fs has
	emoji  bool // fs has an emoji
}

var textPool = sync.Pool{New: func() any { return new(text) }}

func prepare(s string) *text {
	t := textPool.Get().(*text)
	t.orig = append(t.orig[:0], []rune(s)...)
	t.s = s
	if !utf8.ValidString(s) {
		t.s = string(t.orig)
	}
	t.fold = normalize.AppendFoldRunes(t.fold[:0], s)
	t.fs = string(t.fold)
	t.byteR = slices.Grow(t.byteR[:0], len(t.fs)+1)[:len(t.fs)+1]
	t.digits, t.emoji = 0, false
	ri := int32(0)
	for bi, r := range t.fs {
		for k := range utf8.RuneLen(r) {
			t.byteR[bi+k] = ri
		}
		ri++
		if r >= '0' && r <= '9' {
			t.digits++
		} else if r > 0x7f && !t.emoji && normalize.IsEmoji(r) {
			t.emoji = true
		}
	}
	t.byteR[len(t.fs)] = ri
	// words: letters and digits; a hyphen inside a word splits it
	t.words = t.words[:0]
	t.sq = t.sq[:0]
	b := 0 // byte offset in fs of rune i
	for i := 0; i < len(t.fold); {
		if !isWordRune(t.fold[i]) {
			b += utf8.RuneLen(t.fold[i])
			i++
			continue
		}
		j, bj := i, b
		for j < len(t.fold) && isWordRune(t.fold[j]) {
			bj += utf8.RuneLen(t.fold[j])
			j++
		}
		t.words = append(t.words, word{t.fs[b:bj], i, j})
		i, b = j, bj
	}
	return t
}

func (t *text) release() {
	t.s, t.fs = "", ""
	clear(t.words)
	clear(t.sq)
	clear(t.bw)
	textPool.Put(t)
}

// squeezed returns the words with runs of three or more equal letters
// shortened to one ("siii" → "si").
func (t *text) squeezed() []string {
	if len(t.sq) == 0 && len(t.words) > 0 {
		for _, w := range t.words {
			t.sq = append(t.sq, normalize.Squeeze(w.s))
		}
	}
	return t.sq
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// runeSpan converts a byte span of fs into a rune span.
func (t *text) runeSpan(b0, b1 int) (int, int) {
	return int(t.byteR[b0]), int(t.byteR[b1])
}

func (t *text) entity(name string, v any, start, end int) engine.Entity {
	return engine.Entity{Entity: name, Value: v, Text: string(t.orig[start:end]), Start: start, End: end}
}

// Extract returns the entities of s, sorted by position. now anchors
// relative dates; expect names the entities the pending question takes,
// so that a bare "43" is a size when the bot asked for one.
func (x *Extractor) Extract(s string, now time.Time, expect []string) []engine.Entity {
	if now.IsZero() {
		now = time.Now()
	}
	const maxLen = 1000 // longer messages are read by their first 1000 characters
	if len(s) > maxLen*4 || utf8.RuneCountInString(s) > maxLen {
		rs := []rune(s)
		s = string(rs[:min(len(rs), maxLen)])
	}
	t := prepare(s)
	defer t.release()
	var out []engine.Entity
	if strings.IndexByte(t.fs, '@') >= 0 {
		out = append(out, x.emails(t)...)
	}
	if x.orderNeed.in(t.s) {
		out = append(out, x.orderIDs(t, spans(out))...)
	}
	if t.digits >= 7 {
		out = append(out, x.phones(t, spans(out))...)
	}
	// a bare day of the month is a date when a date is expected, unless a
	// size is expected before it ("el 40" is a size at the size question)
	dateAt, sizeAt := slices.Index(expect, engine.EntityDate), slices.Index(expect, engine.EntitySize)
	out = append(out, x.dates(t, now, spans(out), dateAt >= 0 && (sizeAt < 0 || dateAt < sizeAt))...)
	taken := spans(out)
	nums := x.numbers(t, taken, len(expect) > 0 && expect[0] == engine.EntityNumber)
	out = append(out, nums...)
	if len(nums) > 0 {
		out = append(out, x.money(t, nums, taken)...)
	}
	out = append(out, x.sizes(t, nums, slices.Contains(expect, engine.EntitySize))...)
	out = append(out, x.booleans(t, slices.Contains(expect, engine.EntityBoolean))...)
	for _, c := range x.custom {
		if !c.need.in(t.s) {
			continue
		}
		for _, m := range c.e.Pattern.FindAllStringSubmatchIndex(t.s, -1) {
			b0, b1 := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				b0, b1 = m[2], m[3]
			}
			r0 := utf8.RuneCountInString(t.s[:b0])
			r1 := r0 + utf8.RuneCountInString(t.s[b0:b1])
			out = append(out, t.entity(c.e.Name, t.s[b0:b1], r0, r1))
		}
	}
	for _, l := range x.lookups {
		out = append(out, l.find(t)...)
	}
	slices.SortStableFunc(out, func(a, b engine.Entity) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(b.End, a.End), cmp.Compare(a.Entity, b.Entity))
	})
	return out
}

type span struct{ start, end int }

func spans(es []engine.Entity) []span {
	if len(es) == 0 {
		return nil
	}
	out := make([]span, len(es))
	for i, e := range es {
		out[i] = span{e.Start, e.End}
	}
	return out
}

func overlaps(taken []span, s, e int) bool {
	for _, t := range taken {
		if s < t.end && t.start < e {
			return true
		}
	}
	return false
}

var emailRe = regexp.MustCompile(`[\pL\pN._%+\-]+@[\pL\pN\-]+(?:\.[\pL\pN\-]+)*\.\pL{2,}`)

func (x *Extractor) emails(t *text) []engine.Entity {
	var out []engine.Entity
	for _, m := range emailRe.FindAllStringIndex(t.fs, -1) {
		s, e := t.runeSpan(m[0], m[1])
		out = append(out, t.entity(engine.EntityEmail, strings.ToLower(string(t.orig[s:e])), s, e))
	}
	return out
}

func (x *Extractor) orderIDs(t *text, taken []span) []engine.Entity {
	var out []engine.Entity
	orig := t.s
	for _, m := range x.order.FindAllStringSubmatchIndex(orig, -1) {
		r0 := utf8.RuneCountInString(orig[:m[2]])
		r1 := r0 + utf8.RuneCountInString(orig[m[2]:m[3]])
		if overlaps(taken, r0, r1) {
			continue
		}
		s := r0
		if s > 0 && t.orig[s-1] == '#' {
			s--
		} else if s > 1 && t.orig[s-1] == ' ' && t.orig[s-2] == '#' {
			s -= 2
		}
		out = append(out, t.entity(engine.EntityOrderID, strings.ToUpper(orig[m[2]:m[3]]), s, r1))
	}
	return out
}

var phoneRe = regexp.MustCompile(`(?:\+\s?)?\(?\d[\d\s().\-]{5,}\d`)

func (x *Extractor) phones(t *text, taken []span) []engine.Entity {
	var out []engine.Entity
	for _, m := range phoneRe.FindAllStringIndex(t.fs, -1) {
		raw := t.fs[m[0]:m[1]]
		digits := 0
		var b strings.Builder
		if strings.HasPrefix(raw, "+") {
			b.WriteByte('+')
		}
		for _, r := range raw {
			if r >= '0' && r <= '9' {
				digits++
				b.WriteRune(r)
			}
		}
		// a phone has 7 to 15 digits and is not a formatted amount
		if digits < 7 || digits > 15 || looksLikeAmount(raw) {
			continue
		}
		s, e := t.runeSpan(m[0], m[1])
		if overlaps(taken, s, e) || (s > 0 && (t.fold[s-1] == '$' || unicode.IsLetter(t.fold[s-1]))) {
			continue
		}
		out = append(out, t.entity(engine.EntityPhone, b.String(), s, e))
	}
	return out
}

// looksLikeAmount reports a digit string grouped in thousands ("1.500.000").
var amountRe = regexp.MustCompile(`^\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?$`)

func looksLikeAmount(s string) bool { return amountRe.MatchString(strings.TrimSpace(s)) }

var digitsRe = regexp.MustCompile(`-?\d+(?:[.,]\d+)*`)

// numbers finds numbers in digits and in words; askedNumber tells that the
// pending question asks for a number (see [role]).
func (x *Extractor) numbers(t *text, taken []span, askedNumber bool) []engine.Entity {
	var out []engine.Entity
	if t.digits > 0 {
		for _, m := range digitsRe.FindAllStringIndex(t.fs, -1) {
			s, e := t.runeSpan(m[0], m[1])
			// not inside a word ("a1002", "2x1") and not taken by an id, phone, date
			if overlaps(taken, s, e) || (s > 0 && unicode.IsLetter(t.fold[s-1])) || (e < len(t.fold) && unicode.IsLetter(t.fold[e]) && !isScaleSuffix(t.fold, e)) {
				continue
			}
			raw := t.fs[m[0]:m[1]]
			if strings.HasPrefix(raw, "-") && s > 0 && unicode.IsDigit(t.fold[s-1]) {
				continue
			}
			v, ok := parseDigits(raw)
			if !ok {
				continue
			}
			out = append(out, t.entity(engine.EntityNumber, v, s, e))
		}
	}
	var articles []engine.Entity // "una mesa": a number only as the answer to a number question
	for _, r := range wordNumbers(t.words) {
		s, e := t.words[r.from].start, t.words[r.to-1].end
		if overlaps(taken, s, e) {
			continue
		}
		ent := t.entity(engine.EntityNumber, r.value, s, e)
		if r.to == r.from+1 && (oneDeterminers[t.words[r.from].s] || t.words[r.from].s == "uno") {
			switch t.oneRole(r.from) {
			case rolePronoun:
				continue
			case roleArticle:
				if askedNumber {
					articles = append(articles, ent)
				}
				continue
			}
		}
		out = append(out, ent)
	}
	if len(out) == 0 && len(articles) > 0 {
		out = append(out, articles...)
	}
	// "5 mil", "2 millones", "50k": a scale after digits multiplies them
	for i := range out {
		e := out[i].End
		v, _ := out[i].Value.(float64)
		if e < len(t.fold) && (t.fold[e] == 'k') && (e+1 == len(t.fold) || !unicode.IsLetter(t.fold[e+1])) {
			out[i] = t.entity(engine.EntityNumber, v*1000, out[i].Start, e+1)
			continue
		}
		if w, ok := t.wordAt(e); ok && scaleWords[w.s] > 0 && unicode.IsDigit(t.fold[out[i].End-1]) {
			out[i] = t.entity(engine.EntityNumber, v*scaleWords[w.s], out[i].Start, w.end)
		}
	}
	return out
}

func isScaleSuffix(f []rune, e int) bool {
	return f[e] == 'k' && (e+1 == len(f) || !unicode.IsLetter(f[e+1]))
}

// wordAt returns the word that starts after the spaces at rune offset i.
func (t *text) wordAt(i int) (word, bool) {
	for i < len(t.fold) && t.fold[i] == ' ' {
		i++
	}
	for _, w := range t.words {
		if w.start == i {
			return w, true
		}
	}
	return word{}, false
}

// wordBefore returns the word that ends before the spaces at rune offset i.
func (t *text) wordBefore(i int) (word, int, bool) {
	for i > 0 && t.fold[i-1] == ' ' {
		i--
	}
	for k, w := range t.words {
		if w.end == i {
			return w, k, true
		}
	}
	return word{}, -1, false
}

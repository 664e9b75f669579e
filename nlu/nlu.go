// Package nlu is charla's natural-language understanding: it reads a
// shopper's message and says which intents it expresses, with calibrated
// confidences, and which entities it mentions. It implements
// [engine.Understander].
//
// An [Understander] is trained in process from a bot's examples (one model
// per language, plus the questions of its knowledge-base articles as
// intents named "kb:<article id>") when it is built, or loaded from a cache
// directory keyed by a hash of the training data and the code version.
// The sub-packages do the work: normalize (chat text to tokens), classify
// (the intent model), entity (built-in and designer entities) and eval
// (metrics).
package nlu

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/nlu/classify"
	"github.com/charlabot/charla/nlu/entity"
)

var _ engine.Understander = (*Understander)(nil)

// KBPrefix starts the intent names of knowledge-base articles.
const KBPrefix = "kb:"

// Limits on what a message can cost.
const (
	maxClassifyRunes = 1000 // the classifier reads the first 1000 characters
	maxIntents       = 5    // intents listed per message
	minListed        = 0.01 // intents below this confidence are not listed
	secondaryMin     = 0.6  // a clause's intent joins the list from this confidence
)

// Option configures [New] and [NewFromExamples].
type Option func(*options)

type options struct {
	cacheDir  string
	now       func() time.Time
	threshold float64
	cfg       classify.Config
	entities  entity.Options
}

// WithCacheDir keeps trained models in dir (created when missing), keyed
// by a hash of the training data, the configuration and the code version,
// so that a restart loads them instead of training again.
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithClock sets the clock used when a query carries no time (for relative
// dates).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithThreshold drops from the intent list every intent whose confidence
// is below t, so that an out-of-scope message gets an empty list. The
// default (0) lists the likeliest intents whatever their confidence and
// leaves the decision to the runtime, which compares the top confidence
// with the bot's Settings.Threshold.
func WithThreshold(t float64) Option { return func(o *options) { o.threshold = t } }

// WithConfig sets the classifier's hyper-parameters (the language is set
// per model).
func WithConfig(c classify.Config) Option { return func(o *options) { o.cfg = c } }

// WithEntityOptions sets the order-id pattern and the local currency.
func WithEntityOptions(e entity.Options) Option { return func(o *options) { o.entities = e } }

// Understander reads messages for one bot. It is safe for concurrent use.
type Understander struct {
	langs     []string
	models    map[string]*langModel
	now       func() time.Time
	threshold float64
	stats     Stats
}

// Stats says how the models were obtained.
type Stats struct {
	Trained []string // languages whose model was trained
	Loaded  []string // languages whose model came from the cache
}

type langModel struct {
	lang  string
	clf   *classify.Model // nil: the language has no intents
	ext   *entity.Extractor
	words map[string]bool // known folded words, for language detection
}

// Data is the training data of one language.
type Data struct {
	Lang     string
	Examples []classify.Example
	Entities []*engine.EntityData
}

// New builds an understander for a compiled bot: one model per language of
// prog.NLU, trained on its intents' examples and on the questions of the
// knowledge-base articles in that language (intent "kb:<id>").
func New(prog *engine.Program, opts ...Option) (*Understander, error) {
	var data []Data
	langs := slices.Clone(prog.Languages)
	for _, d := range prog.NLU {
		if d == nil {
			continue
		}
		dd := Data{Lang: d.Lang, Entities: d.Entities}
		for _, in := range d.Intents {
			for _, ex := range in.Examples {
				dd.Examples = append(dd.Examples, classify.Example{Text: ex, Intent: in.Name})
			}
		}
		data = append(data, dd)
		if !slices.Contains(langs, d.Lang) {
			langs = append(langs, d.Lang)
		}
	}
	for _, a := range prog.KB {
		for lang, qs := range a.Questions {
			i := slices.IndexFunc(data, func(d Data) bool { return d.Lang == lang })
			if i < 0 {
				data = append(data, Data{Lang: lang})
				i = len(data) - 1
				if !slices.Contains(langs, lang) {
					langs = append(langs, lang)
				}
			}
			for _, q := range qs {
				data[i].Examples = append(data[i].Examples, classify.Example{Text: q, Intent: KBPrefix + a.ID})
			}
		}
	}
	for _, l := range langs {
		if !slices.ContainsFunc(data, func(d Data) bool { return d.Lang == l }) {
			data = append(data, Data{Lang: l})
		}
	}
	return build(langs, data, opts)
}

// NewFromExamples builds an understander for one language from plain
// examples and entity declarations.
func NewFromExamples(lang string, examples []classify.Example, entities []*engine.EntityData, opts ...Option) (*Understander, error) {
	return build([]string{lang}, []Data{{Lang: lang, Examples: examples, Entities: entities}}, opts)
}

// NewFromData builds an understander for several languages; the first is
// the default.
func NewFromData(data []Data, opts ...Option) (*Understander, error) {
	var langs []string
	for _, d := range data {
		langs = append(langs, d.Lang)
	}
	return build(langs, data, opts)
}

func build(langs []string, data []Data, opts []Option) (*Understander, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	u := &Understander{langs: langs, models: map[string]*langModel{}, now: o.now, threshold: o.threshold}
	for _, d := range data {
		ext, err := entity.New(d.Lang, d.Entities, o.entities)
		if err != nil {
			return nil, err
		}
		lm := &langModel{lang: d.Lang, ext: ext}
		if len(d.Examples) > 0 {
			cfg := o.cfg
			cfg.Lang = d.Lang
			clf, cached, err := trainCached(d.Examples, cfg, o.cacheDir)
			if err != nil {
				return nil, err
			}
			lm.clf = clf
			if cached {
				u.stats.Loaded = append(u.stats.Loaded, d.Lang)
			} else {
				u.stats.Trained = append(u.stats.Trained, d.Lang)
			}
			lm.words = clf.KnownWords()
		}
		u.models[d.Lang] = lm
	}
	return u, nil
}

// Stats says which models were trained and which were loaded from the cache.
func (u *Understander) Stats() Stats { return u.stats }

// Languages returns the languages the understander reads; the first is the
// default.
func (u *Understander) Languages() []string { return slices.Clone(u.langs) }

// Model returns the intent classifier of lang, or nil.
func (u *Understander) Model(lang string) *classify.Model {
	if m := u.models[lang]; m != nil {
		return m.clf
	}
	return nil
}

// CacheKey is the hash that names a trained model in the cache: it covers
// the code version, the built-in data (lexicon, background examples), the
// configuration and every example in order.
func CacheKey(examples []classify.Example, cfg classify.Config) string {
	h := sha256.New()
	fmt.Fprintf(h, "charla-nlu %d %s %+v\n", classify.Version, classify.Fingerprint(), cfg)
	for _, ex := range examples {
		fmt.Fprintf(h, "%d:%s%d:%s\n", len(ex.Intent), ex.Intent, len(ex.Text), ex.Text)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// trainCached loads the model from dir when a model of the same key is
// there, and otherwise trains one and stores it (atomically: written to a
// temporary file, then renamed). A damaged cache file is replaced.
func trainCached(examples []classify.Example, cfg classify.Config, dir string) (*classify.Model, bool, error) {
	var path string
	if dir != "" {
		path = filepath.Join(dir, "nlu-"+cfg.Lang+"-"+CacheKey(examples, cfg)+".model")
		if b, err := os.ReadFile(path); err == nil {
			m := new(classify.Model)
			if m.UnmarshalBinary(b) == nil {
				return m, true, nil
			}
		}
	}
	m, err := classify.Train(examples, cfg)
	if err != nil {
		return nil, false, engine.Errorf(engine.EInvalid, "nlu: training %s: %v", cfg.Lang, err)
	}
	if path != "" {
		if err := writeAtomic(path, m); err != nil {
			return nil, false, &engine.Error{Code: engine.EInternal, Message: "nlu: caching the model", Err: err}
		}
	}
	return m, false, nil
}

func writeAtomic(path string, m *classify.Model) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".nlu-*.tmp")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// Understand reads one message: its language (q.Lang when it is one of
// the bot's languages or their base, else detected), its intents ranked by
// calibrated confidence (the out-of-scope class is never listed: an
// out-of-scope message has only low-confidence intents, or none with
// [WithThreshold]), several when clauses of the message clearly express
// different intents, and its entities.
func (u *Understander) Understand(ctx context.Context, q engine.Query) (*engine.Understanding, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !utf8.ValidString(q.Text) {
		q.Text = strings.ToValidUTF8(q.Text, " ")
	}
	lang := u.language(q.Lang, q.Text)
	res := &engine.Understanding{Lang: lang, Intents: []engine.IntentScore{}, Entities: []engine.Entity{}}
	lm := u.models[lang]
	if lm == nil {
		return res, nil
	}
	now := q.Now
	if now.IsZero() {
		now = u.now()
	}
	if ents := lm.ext.Extract(q.Text, now, q.Expect); ents != nil {
		res.Entities = ents
	}
	if lm.clf != nil {
		res.Intents = u.intents(lm.clf, q.Text)
	}
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// intents ranks the intents of text; see [Understander.Understand].
func (u *Understander) intents(m *classify.Model, text string) []engine.IntentScore {
	text = truncate(text, maxClassifyRunes)
	var buf [16]classify.Score
	ranked := m.Top(buf[:0], text, minListed)
	// Several intents: a clause whose own top intent is confident and
	// differs from the message's joins the list after the message's top
	// intent (or leads it when the message as a whole is unclear).
	if clauses := splitClauses(text); len(clauses) > 1 {
		top := ""
		topConf := 0.0
		if len(ranked) > 0 {
			top, topConf = ranked[0].Intent, ranked[0].Confidence
		}
		var extraBuf [8]classify.Score
		extra := extraBuf[:0]
		for _, c := range clauses {
			b := m.Best(c)
			if b.Intent == classify.OOS || b.Confidence < secondaryMin || b.Intent == top {
				continue
			}
			if i := slices.IndexFunc(extra, func(s classify.Score) bool { return s.Intent == b.Intent }); i >= 0 {
				extra[i].Confidence = max(extra[i].Confidence, b.Confidence)
			} else {
				extra = append(extra, b)
			}
		}
		if len(extra) > 0 {
			head := topConf >= secondaryMin
			rest := ranked
			if head {
				rest = ranked[1:]
			}
			merged := slices.Clone(rest)
			for _, e := range extra {
				if i := slices.IndexFunc(merged, func(s classify.Score) bool { return s.Intent == e.Intent }); i >= 0 {
					merged[i].Confidence = max(merged[i].Confidence, e.Confidence)
				} else {
					merged = append(merged, e)
				}
			}
			sortScores(merged)
			if head {
				merged = append([]classify.Score{ranked[0]}, merged...)
			}
			ranked = merged
		}
	}
	out := make([]engine.IntentScore, 0, min(len(ranked), maxIntents))
	for _, s := range ranked {
		if len(out) == maxIntents {
			break
		}
		if u.threshold > 0 && s.Confidence < u.threshold {
			continue
		}
		out = append(out, engine.IntentScore{Intent: s.Intent, Confidence: s.Confidence})
	}
	return out
}

// sortScores ranks scores by confidence, then intent name.
func sortScores(ss []classify.Score) {
	slices.SortFunc(ss, func(a, b classify.Score) int {
		return cmp.Or(cmp.Compare(b.Confidence, a.Confidence), cmp.Compare(a.Intent, b.Intent))
	})
}

// splitClauses cuts a message at punctuation and at the conjunctions that
// usually join two requests.
func splitClauses(text string) []string {
	fields := strings.FieldsFunc(text, func(r rune) bool {
		return strings.ContainsRune(",.;!?¿¡\n:", r)
	})
	var out []string
	for _, f := range fields {
		for _, part := range splitConj(f) {
			if p := strings.TrimSpace(part); p != "" && strings.IndexFunc(p, func(r rune) bool { return r > ' ' }) >= 0 {
				out = append(out, p)
			}
		}
	}
	return out
}

var conjunctions = []string{" y ", " e ", " pero ", " también ", " tambien ", " además ", " ademas ", " and ", " but ", " also "}

func splitConj(s string) []string {
	low := strings.ToLower(s)
	for _, c := range conjunctions {
		if i := strings.Index(low, c); i > 0 {
			return append([]string{s[:i]}, splitConj(s[i+len(c):])...)
		}
	}
	return []string{s}
}

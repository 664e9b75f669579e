// Package classify is charla's intent classifier: a linear model over word
// and character n-gram features of normalised chat text, trained in
// process, deterministic, with calibrated confidences.
package classify

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"sort"

	"github.com/charlabot/charla/nlu/lexicon"
	"github.com/charlabot/charla/nlu/normalize"
)

// OOS is the label of out-of-scope examples.
const OOS = "oos"

// Example is a labelled text.
type Example struct {
	Text   string `json:"text"`
	Intent string `json:"intent"`
}

// Config holds the hyper-parameters. The zero value takes the defaults of
// [DefaultConfig] field by field.
type Config struct {
	Lang       string  // "es", "en" (normalisation rules and stemmer)
	C          float64 // SVM regularisation: larger fits the training data harder
	CharMin    int     // shortest character n-gram
	CharMax    int     // longest character n-gram (0: none)
	CharWeight float64 // weight of the character block against the word block
	// ConceptWeight is the weight of the block of lexicon concepts (see
	// package lexicon) against the word block.
	ConceptWeight float64
	NoLexicon     bool // leave out the concept features of the built-in lexicon
	NoBigrams     bool // leave out word bigrams
	// ConceptGrams adds the bigrams of the message with every lexicon
	// match replaced by its concepts and function words dropped.
	ConceptGrams bool
	SkipGrams    bool // add word skip-grams (two stems, one word between)
	// GramsMax turns ConceptGrams and SkipGrams on when the intents have
	// at most GramsMax examples on average: they let one of a designer's
	// few examples stand for other wordings (+1 to +3 points in
	// cross-validation on the shop sets), and are of no use with hundreds
	// of examples per intent (-0.3 to -0.6 on BANKING77, HWU64), where they
	// double the features. Negative: never.
	GramsMax int
	CrossMax int  // longest character n-gram across word boundaries (0: none)
	NoSpell  bool // do not correct unknown words to known ones
	// NoBackground leaves out the built-in out-of-scope examples that are
	// otherwise added when the training data has no OOS example.
	NoBackground bool
	// BackgroundShare is how many average intents the background examples
	// weigh together.
	BackgroundShare float64
	// Augment is how many altered copies of each of the designer's
	// examples to train on (see augment), each weighing AugmentWeight,
	// when the intents have at most AugmentMax examples on average (a
	// designer-sized bot; large data sets need no copies). Off by default:
	// it did not help consistently (docs/nlu.md).
	Augment       int
	AugmentWeight float64
	AugmentMax    int
	// CentroidWeight adds a nearest-centroid model to the SVM with this
	// weight (0: none).
	CentroidWeight float64
	MinDF          int // drop features seen in fewer training examples
	MaxIter        int // passes of the SVM solver
	Seed           uint64
}

// DefaultConfig is the configuration chosen on the validation splits (see
// docs/nlu.md).
var DefaultConfig = Config{C: 1, CharMin: 2, CharMax: 5, CharWeight: 1, ConceptWeight: 1, BackgroundShare: 2, AugmentWeight: 0.5, AugmentMax: 50, GramsMax: 50, MinDF: 1, MaxIter: 100, Seed: 1}

func (c Config) withDefaults() Config {
	d := DefaultConfig
	if c.C == 0 {
		c.C = d.C
	}
	if c.CharMin == 0 {
		c.CharMin = d.CharMin
	}
	if c.CharMax == 0 {
		c.CharMax = d.CharMax
	}
	if c.CharMax < 0 {
		c.CharMax = 0
	}
	if c.CharWeight == 0 {
		c.CharWeight = d.CharWeight
	}
	if c.ConceptWeight == 0 {
		c.ConceptWeight = d.ConceptWeight
	}
	if c.AugmentWeight == 0 {
		c.AugmentWeight = d.AugmentWeight
	}
	if c.AugmentMax == 0 {
		c.AugmentMax = d.AugmentMax
	}
	if c.GramsMax == 0 {
		c.GramsMax = d.GramsMax
	}
	if c.BackgroundShare == 0 {
		c.BackgroundShare = d.BackgroundShare
	}
	if c.MinDF == 0 {
		c.MinDF = d.MinDF
	}
	if c.MaxIter == 0 {
		c.MaxIter = d.MaxIter
	}
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	return c
}

// Model is a trained classifier. It is safe for concurrent use.
type Model struct {
	Config  Config
	Classes []string // sorted; may include OOS
	// Temperature scales the decision values before the softmax; chosen to
	// minimise the log-loss on held-out data.
	Temperature float64
	// Threshold is the out-of-scope cut-off on the top confidence chosen on
	// held-out data that had out-of-scope examples (0: none chosen).
	Threshold float64
	// Shrink and Thin lower the confidence of a message that rests on
	// words the model does not know or had to correct, in proportion to
	// the share of such words (1 − cover; a corrected word counts half):
	// its decision values lose the share Shrink × (1 − cover) before the
	// softmax, and its probabilities are then mixed with the uniform
	// distribution in the share Thin × (1 − cover). Thin is at least
	// MinThin, so that such a message is never certain (its top
	// confidence stays below 1 − MinThin × (1 − cover)). Both are chosen
	// on held-out data, after the temperature.
	Shrink float64
	Thin   float64

	ext    extractor
	vec    *vectorizer
	w      []float32 // feature-major: w[f*len(Classes)+k]; the last row is the bias
	oos    int       // index of OOS in Classes, or -1
	nFeat  int
	spellW map[string]string // known folded words → stems (serialised)
	spellN map[string]int
	stems  map[string]string    // the training data's normalised words → folded stems (serialised)
	table  map[string]*wordFeat // what each of those words contributes (built from stems)
}

// Score is a class and its probability.
type Score struct {
	Intent     string
	Confidence float64
}

// ErrNoData is returned when there is nothing to learn from.
var ErrNoData = errors.New("classify: no training examples")

// Fit trains a model on examples with temperature 1 and no threshold; see
// [Train] for a calibrated one.
func Fit(examples []Example, cfg Config) (*Model, error) {
	cfg = cfg.withDefaults().forData(examples)
	examples, weights := withBackground(examples, cfg)
	return fit(examples, weights, cfg)
}

// fit trains on examples that already hold the background ones, each with
// its weight (nil: all 1); cfg has its defaults.
func fit(examples []Example, weights []float64, cfg Config) (*Model, error) {
	if cfg.Augment > 0 {
		var lex *lexicon.Lexicon
		if !cfg.NoLexicon {
			lex = lexicon.Default()
		}
		examples, weights = augment(examples, weights, cfg, lex)
	}
	classes := labels(examples)
	if len(classes) == 0 {
		return nil, ErrNoData
	}
	m := &Model{Config: cfg, Classes: classes, Temperature: 1, oos: slices.Index(classes, OOS)}
	var spellW map[string]string
	var spellN map[string]int
	spellW, spellN, m.stems = knownWords(examples, cfg.Lang)
	if !cfg.NoSpell {
		m.spellW, m.spellN = spellW, spellN
	}
	m.ext = newExtractor(cfg, m.spellW, m.spellN)
	sets := make([]featureSet, len(examples))
	for i, ex := range examples {
		sets[i] = m.ext.extract(ex.Text)
	}
	m.vec = buildVectorizer(sets, cfg.MinDF, cfg.blockWeights())
	m.nFeat = len(m.vec.idf)
	X := make([]sparse, len(examples))
	y := make([]int32, len(examples))
	for i, ex := range examples {
		X[i] = m.vec.vectorize(sets[i])
		y[i] = int32(sort.SearchStrings(classes, ex.Intent))
	}
	m.buildTable()
	if len(classes) == 1 {
		m.w = make([]float32, (m.nFeat+1)*1)
		m.w[m.nFeat] = 1
		return m, nil
	}
	perClass := trainOVR(X, y, weights, m.nFeat, len(classes), cfg.C, cfg.MaxIter, cfg.Seed)
	nc := len(classes)
	m.w = make([]float32, (m.nFeat+1)*nc)
	for k, wk := range perClass {
		for f, v := range wk {
			m.w[f*nc+k] = v
		}
	}
	if cfg.CentroidWeight > 0 {
		addCentroids(m.w, X, y, weights, nc, float32(cfg.CentroidWeight))
	}
	return m, nil
}

// addCentroids adds to the feature-major weights w, scaled by lambda, each
// class's centroid: the normalised mean of its examples' vectors (a
// nearest-centroid model, linear like the SVM, so the sum costs nothing at
// classification time).
func addCentroids(w []float32, X []sparse, y []int32, weight []float64, nc int, lambda float32) {
	nFeat := len(w)/nc - 1
	c := make([][]float64, nc)
	for k := range c {
		c[k] = make([]float64, nFeat)
	}
	for i, x := range X {
		wt := 1.0
		if weight != nil {
			wt = weight[i]
		}
		for j, f := range x.idx {
			c[y[i]][f] += wt * float64(x.val[j])
		}
	}
	for k, ck := range c {
		norm := 0.0
		for _, v := range ck {
			norm += v * v
		}
		if norm == 0 {
			continue
		}
		s := float64(lambda) / math.Sqrt(norm)
		for f, v := range ck {
			if v != 0 {
				w[f*nc+k] += float32(v * s)
			}
		}
	}
}

// forData turns on the features of designer-sized data (see GramsMax) for
// examples (the designer's, before any background example is added).
func (c Config) forData(examples []Example) Config {
	if c.GramsMax > 0 && len(examples) <= c.GramsMax*max(len(labels(examples)), 1) {
		c.ConceptGrams, c.SkipGrams = true, true
	}
	return c
}

func (c Config) blockWeights() [nBlocks]float32 {
	return [nBlocks]float32{1, float32(c.CharWeight), float32(c.ConceptWeight)}
}

// newExtractor builds the feature extractor of cfg; words and count are the
// known words of the training data, for the speller.
func newExtractor(cfg Config, words map[string]string, count map[string]int) extractor {
	e := extractor{lang: cfg.Lang, charMin: cfg.CharMin, charMax: cfg.CharMax, bigrams: !cfg.NoBigrams, cross: cfg.CrossMax, conceptGrams: cfg.ConceptGrams, skipGrams: cfg.SkipGrams}
	if !cfg.NoLexicon {
		e.lex = lexicon.Default()
	}
	if !cfg.NoSpell {
		e.fix = newSpeller(words, count, e.lex, cfg.Lang)
	}
	return e
}

func labels(examples []Example) []string {
	seen := map[string]bool{}
	var out []string
	for _, ex := range examples {
		if ex.Intent != "" && !seen[ex.Intent] {
			seen[ex.Intent] = true
			out = append(out, ex.Intent)
		}
	}
	sort.Strings(out)
	return out
}

// knownWords returns the folded words of the examples with their stems and
// counts, and their normalised words with their stems.
func knownWords(examples []Example, lang string) (map[string]string, map[string]int, map[string]string) {
	stems, count, norms := map[string]string{}, map[string]int{}, map[string]string{}
	for _, ex := range examples {
		for _, t := range normalize.Tokens(ex.Text, lang) {
			norms[t.Norm] = t.Stem
			if t.Kind == normalize.Word {
				stems[t.Fold] = t.Stem
				count[t.Fold]++
			}
		}
	}
	return stems, count, norms
}

// Decision returns the raw decision value of every class for text, in the
// order of m.Classes.
func (m *Model) Decision(text string) []float64 {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	acc := m.decision(s, text)
	out := make([]float64, len(acc))
	for k, a := range acc {
		out[k] = float64(a)
	}
	return out
}

// Probabilities turns the decision values of a message whose words the
// model all knows into calibrated probabilities.
func (m *Model) Probabilities(dec []float64) []float64 {
	return softmax(dec, m.Temperature)
}

// MinThin is the least share of uniform probability mixed into the
// confidences of a message none of whose words the model knows (see
// Model.Thin): a held-out set of a few hundred lines cannot show that such
// messages are never wrong.
const MinThin = 0.1

// calibration is a temperature, a shrink and a thin-evidence share (see
// Model).
type calibration struct{ t, shrink, thin float64 }

func (m *Model) calibration() calibration {
	return calibration{m.Temperature, m.Shrink, max(m.Thin, MinThin)}
}

// apply turns the decision values p of a message whose words the model
// knows in the share cover into probabilities, in place.
func (c calibration) apply(p []float64, cover float64) []float64 {
	softmaxInPlace(p, c.t*(1-c.shrink*(1-cover)))
	if eta := c.thin * (1 - cover); eta > 0 {
		u := eta / float64(len(p))
		for k := range p {
			p[k] = (1-eta)*p[k] + u
		}
	}
	return p
}

// probabilities classifies text into calibrated probabilities.
func (m *Model) probabilities(text string) []float64 {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	return slices.Clone(m.probs(s, text))
}

func softmax(dec []float64, t float64) []float64 {
	return softmaxInPlace(slices.Clone(dec), t)
}

// softmaxInPlace turns the decision values p into probabilities at
// temperature t.
func softmaxInPlace(p []float64, t float64) []float64 {
	dec := p
	mx := math.Inf(-1)
	for _, d := range dec {
		mx = max(mx, d)
	}
	sum := 0.0
	for k, d := range dec {
		p[k] = math.Exp((d - mx) * t)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
	return p
}

// Predict returns every class with its calibrated probability, most likely
// first.
func (m *Model) Predict(text string) []Score {
	p := m.probabilities(text)
	out := make([]Score, len(p))
	for k, v := range p {
		out[k] = Score{m.Classes[k], v}
	}
	slices.SortStableFunc(out, func(a, b Score) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out
}

// Top appends to dst the classes of text other than OOS whose calibrated
// probability is at least min, most likely first (ties in class order),
// as Predict ranks them.
func (m *Model) Top(dst []Score, text string, min float64) []Score {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	p := m.probs(s, text)
	n := len(dst)
	for k, v := range p {
		if k != m.oos && v >= min {
			dst = append(dst, Score{m.Classes[k], v})
		}
	}
	slices.SortStableFunc(dst[n:], func(a, b Score) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return dst
}

// Best returns the most likely class of text (OOS included) and its
// calibrated probability.
func (m *Model) Best(text string) Score {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	p := m.probs(s, text)
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	return Score{m.Classes[best], p[best]}
}

// probs classifies text into calibrated probabilities, in s.
func (m *Model) probs(s *scratch, text string) []float64 {
	acc := m.decision(s, text)
	s.p = s.p[:0]
	for _, a := range acc {
		s.p = append(s.p, float64(a))
	}
	return m.calibration().apply(s.p, s.cover)
}

// Intents returns the classes, in the order of [Model.Confidences].
func (m *Model) Intents() []string { return m.Classes }

// Confidences returns the calibrated probability of every class for text.
func (m *Model) Confidences(text string) []float64 { return m.probabilities(text) }

// Features returns the number of features the model knows.
func (m *Model) Features() int { return m.nFeat }

// KnownWords returns the folded words of the training examples.
func (m *Model) KnownWords() map[string]bool {
	out := make(map[string]bool, len(m.spellW))
	for w := range m.spellW {
		out[w] = true
	}
	return out
}

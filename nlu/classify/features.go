package classify

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charlabot/charla/nlu/lexicon"
	"github.com/charlabot/charla/nlu/normalize"
)

// Feature kinds, hashed together with the feature's text.
const (
	kindWord   = 'w' // a stem, or a shape (#num, #code) or an emoji
	kindBigram = 'b' // two consecutive stems (^ and $ mark the ends)
	kindChar   = 'c' // a character n-gram of a folded word, < and > marking its ends
	kindConc   = 'k' // a concept of the lexicon
	kindPair   = 'p' // two concepts of the same message
	kindCross  = 'x' // a character n-gram across a word boundary
	kindSkip   = 's' // two stems with one word between them
	kindCGram  = 'g' // two consecutive units of the abstracted message (concepts or content stems)
)

// Feature blocks: each is scaled to unit length, then weighted.
const (
	blockWords = iota
	blockChars
	blockConcepts
	nBlocks
)

func hashFeature(kind byte, s string) uint64 {
	h := uint64(14695981039346656037)
	h ^= uint64(kind)
	h *= 1099511628211
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// featureSet is what a text contributes before weighting: hashed
// features, repeated once per occurrence, in the word block or the
// character block.
type featureSet struct {
	words    []uint64
	chars    []uint64
	concepts []uint64
}

func (fs *featureSet) blocks() [nBlocks][]uint64 {
	return [nBlocks][]uint64{fs.words, fs.chars, fs.concepts}
}

// each calls f for every distinct feature with its count.
func each(hs []uint64, f func(h uint64, n float32)) {
	slices.Sort(hs)
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j] == hs[i] {
			j++
		}
		f(hs[i], float32(j-i))
		i = j
	}
}

// extractor turns text into hashed features.
type extractor struct {
	lang             string
	charMin, charMax int
	bigrams          bool
	cross            int              // longest character n-gram across word boundaries (0: none)
	fix              *speller         // corrects words the model has not seen (nil: none)
	lex              *lexicon.Lexicon // adds concept features (nil: none)
	conceptGrams     bool             // bigrams of the abstracted message
	skipGrams        bool             // word skip-grams
}

func (e *extractor) tokens(text string) []normalize.Token {
	return normalize.Tokens(text, e.lang)
}

func wordKey(t normalize.Token) string {
	switch t.Kind {
	case normalize.Number:
		return "#num"
	case normalize.Code:
		return "#code"
	}
	return t.Stem
}

func (e *extractor) extract(text string) featureSet {
	toks := e.tokens(text)
	fs := featureSet{words: make([]uint64, 0, 2*len(toks)+2), chars: make([]uint64, 0, 16*len(toks))}
	prev := "^"
	var orig []string // the folded words as written, for the character n-grams
	if e.fix != nil {
		orig = make([]string, len(toks))
		for i := range toks {
			orig[i] = toks[i].Fold
			if toks[i].Kind == normalize.Word {
				if w, st, ok := e.fix.correct(toks[i].Fold); ok {
					toks[i].Fold, toks[i].Stem = w, st
				}
			}
		}
	}
	for i, t := range toks {
		k := wordKey(t)
		fs.words = append(fs.words, hashFeature(kindWord, k))
		if t.Kind == normalize.Code && len(t.Fold) <= 4 {
			fs.words = append(fs.words, hashFeature(kindWord, t.Fold)) // "2x1", "3x2": promotions, not ids
		}
		if e.bigrams {
			fs.words = append(fs.words, hashPair(kindBigram, prev, k))
		}
		prev = k
		if t.Kind == normalize.Word && e.charMax > 0 {
			w := t.Fold
			if orig != nil {
				w = orig[i]
			}
			fs.chars = addCharGrams(fs.chars, w, e.charMin, e.charMax)
		}
	}
	if e.bigrams && len(toks) > 0 {
		fs.words = append(fs.words, hashPair(kindBigram, prev, "$"))
	}
	if e.cross > 0 && len(toks) > 1 {
		fs.chars = addCrossGrams(fs.chars, toks, e.cross)
	}
	var ms messageScratch
	fs.words, fs.concepts = e.messageFeatures(&ms, toks, fs.words, fs.concepts)
	return fs
}

// messageScratch holds the buffers of messageFeatures.
type messageScratch struct {
	concepts []string
	units    []unit
}

// unit is a token of the abstracted message: a lexicon match's concepts,
// or a content word's stem.
type unit struct {
	labels []string // concepts (shared with the lexicon: never modified)
	stem   string   // when labels is nil
}

// messageFeatures appends to words and concepts the features of the whole
// (corrected) message: its lexicon concepts and their pairs, and, when
// configured, the bigrams of the abstracted message (each lexicon match
// replaced by its concepts, function words dropped: "quiero cambiar la
// talla" and "me cambian el talle" share "change size") and word skip-grams
// (two stems with one word between them).
func (e *extractor) messageFeatures(ms *messageScratch, toks []normalize.Token, words, concepts []uint64) ([]uint64, []uint64) {
	if e.skipGrams {
		for i := 0; i+2 < len(toks); i++ {
			words = append(words, hashPair(kindSkip, wordKey(toks[i]), wordKey(toks[i+2])))
		}
	}
	if e.lex == nil {
		return words, concepts
	}
	ms.concepts = ms.concepts[:0]
	ms.units = ms.units[:0]
	next := 0 // the first token not yet in a unit
	addWords := func(to int) {
		for ; next < to; next++ {
			if t := toks[next]; t.Kind != normalize.Emoji && !isFunctionWord(t.Fold, e.lang) {
				ms.units = append(ms.units, unit{stem: wordKey(t)})
			}
		}
	}
	e.lex.Spans(toks, e.lang, func(start, end int, cs []string) {
		ms.concepts = append(ms.concepts, cs...)
		addWords(start)
		ms.units = append(ms.units, unit{labels: cs})
		next = end
	})
	addWords(len(toks))
	concepts = appendConceptFeatures(concepts, ms.concepts)
	if e.conceptGrams {
		for i := 0; i+1 < len(ms.units); i++ {
			a, b := ms.units[i], ms.units[i+1]
			if a.labels == nil && b.labels == nil {
				continue // two plain words: a word bigram already
			}
			for _, x := range a.each() {
				for _, y := range b.each() {
					concepts = append(concepts, hashPair(kindCGram, x, y))
				}
			}
		}
	}
	return words, concepts
}

// each returns the labels of u, or its stem.
func (u unit) each() []string {
	if u.labels != nil {
		return u.labels
	}
	return []string{u.stem}
}

// addCrossGrams appends the character n-grams (3 ≤ n ≤ hi) that span a
// word boundary of the folded text ("o p", "do pe"), which carry phrases
// and words run together or split ("dondeesta", "bi en").
func addCrossGrams(out []uint64, toks []normalize.Token, hi int) []uint64 {
	var b []byte
	var bounds []int // byte offsets of the spaces
	for i, t := range toks {
		if i > 0 {
			bounds = append(bounds, len(b))
			b = append(b, ' ')
		}
		b = append(b, t.Fold...)
	}
	for _, sp := range bounds {
		// every n-gram that contains the space at sp
		for n := 3; n <= hi; n++ {
			for start := sp - n + 1; start <= sp; start++ {
				if start < 0 || start+n > len(b) {
					continue
				}
				out = append(out, hashBytes(kindCross, b[start:start+n]))
			}
		}
	}
	return out
}

// conceptFeatures hashes the concepts of a message, and every pair of
// distinct concepts in it ("exchange" with "size" is not "exchange" with
// "address").
func conceptFeatures(cs []string) []uint64 { return appendConceptFeatures(nil, cs) }

func appendConceptFeatures(out []uint64, cs []string) []uint64 {
	if len(cs) == 0 {
		return out
	}
	for _, c := range cs {
		out = append(out, hashFeature(kindConc, c))
	}
	var buf [16]string
	u := append(buf[:0], cs...)
	slices.Sort(u)
	u = slices.Compact(u)
	for i := range u {
		for j := i + 1; j < len(u); j++ {
			out = append(out, hashPair(kindPair, u[i], u[j]))
		}
	}
	return out
}

// hashPair hashes two strings as a bigram, like hashFeature(kind, a+" "+b).
func hashPair(kind byte, a, b string) uint64 {
	h := uint64(14695981039346656037)
	h ^= uint64(kind)
	h *= 1099511628211
	for i := 0; i < len(a); i++ {
		h ^= uint64(a[i])
		h *= 1099511628211
	}
	h ^= ' '
	h *= 1099511628211
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	return h
}

// addCharGrams appends the hashes of the n-grams (lo ≤ n ≤ hi, in runes)
// of "<w>".
func addCharGrams(out []uint64, w string, lo, hi int) []uint64 {
	var buf [64]byte
	b := append(buf[:0], '<')
	b = append(b, w...)
	b = append(b, '>')
	// rune starts
	var starts [66]int
	n := 0
	for i := 0; i < len(b) && n < len(starts)-1; {
		starts[n] = i
		n++
		if b[i] < utf8.RuneSelf {
			i++
		} else {
			_, sz := utf8.DecodeRune(b[i:])
			i += sz
		}
	}
	starts[n] = len(b)
	for size := lo; size <= hi && size <= n; size++ {
		for i := 0; i+size <= n; i++ {
			out = append(out, hashBytes(kindChar, b[starts[i]:starts[i+size]]))
		}
	}
	return out
}

func hashBytes(kind byte, s []byte) uint64 {
	h := uint64(14695981039346656037)
	h ^= uint64(kind)
	h *= 1099511628211
	for _, c := range s {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// sparse is a feature vector: indices ascending, values.
type sparse struct {
	idx []int32
	val []float32
}

// vectorizer maps hashed features to indices with TF-IDF weights.
type vectorizer struct {
	index   *hashIndex // feature hash → index
	idf     []float32
	block   []uint8 // blockWords, blockChars, blockConcepts
	weights [nBlocks]float32
}

// vectorize weights a feature set: sublinear TF × IDF, each block scaled
// to unit length, then by its weight. Unknown features are dropped.
func (v *vectorizer) vectorize(fs featureSet) sparse {
	var norms [nBlocks]float64
	n := len(fs.words) + len(fs.chars) + len(fs.concepts)
	// index and weight packed in one word (index high, float32 bits low),
	// so that sorting by index is a sort of integers
	packed := make([]uint64, 0, n)
	for _, hs := range fs.blocks() {
		each(hs, func(h uint64, c float32) {
			i := v.index.get(h)
			if i < 0 {
				return
			}
			x := v.idf[i]
			if c > 1 {
				x *= 1 + float32(math.Log(float64(c)))
			}
			packed = append(packed, uint64(i)<<32|uint64(math.Float32bits(x)))
			norms[v.block[i]] += float64(x) * float64(x)
		})
	}
	scale := v.weights
	for b := range norms {
		if norms[b] > 0 {
			scale[b] /= float32(math.Sqrt(norms[b]))
		}
	}
	slices.Sort(packed)
	s := sparse{idx: make([]int32, len(packed)), val: make([]float32, len(packed))}
	for j, p := range packed {
		i := int32(p >> 32)
		s.idx[j] = i
		s.val[j] = math.Float32frombits(uint32(p)) * scale[v.block[i]]
	}
	return s
}

// buildVectorizer indexes the features of the training set that occur in
// at least minDF examples, in a deterministic order.
func buildVectorizer(sets []featureSet, minDF int, weights [nBlocks]float32) *vectorizer {
	type stat struct {
		df    int
		block uint8
	}
	df := map[uint64]*stat{}
	for _, fs := range sets {
		for blk, hs := range fs.blocks() {
			each(hs, func(h uint64, _ float32) {
				if st := df[h]; st != nil {
					st.df++
				} else {
					df[h] = &stat{1, uint8(blk)}
				}
			})
		}
	}
	keys := make([]uint64, 0, len(df))
	for h, st := range df {
		if st.df >= minDF {
			keys = append(keys, h)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	v := &vectorizer{index: newHashIndex(len(keys)), idf: make([]float32, len(keys)), block: make([]uint8, len(keys)), weights: weights}
	n := float64(len(sets))
	for i, h := range keys {
		st := df[h]
		v.index.set(h, int32(i))
		v.idf[i] = float32(math.Log((1+n)/(1+float64(st.df))) + 1)
		v.block[i] = st.block
	}
	return v
}

// functionWords are the words the abstracted message leaves out: articles,
// prepositions, pronouns, conjunctions (folded).
var functionWords = map[string]map[string]bool{
	"es": setOf("a al ante con de del desde en entre hacia hasta para por sin sobre tras el la lo los las un una unos unas mi mis tu tus su sus me te se le les nos lo que y e o u ni pero si ya es son"),
	"en": setOf("a an the of to in on at by for with from into about my your his her its our their me you him her it us them i we they and or but if so is are was be"),
}

func setOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

func isFunctionWord(w, lang string) bool { return functionWords[lang][w] }

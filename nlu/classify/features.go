package classify

import (
	"math"
	"sort"
	"strings"

	"github.com/charlabot/charla/nlu/normalize"
)

// Feature kinds, hashed together with the feature's text.
const (
	kindWord   = 'w' // a stem, or a shape (#num, #code) or an emoji
	kindBigram = 'b' // two consecutive stems (^ and $ mark the ends)
	kindChar   = 'c' // a character n-gram of a folded word, < and > marking its ends
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

// featureSet is what a text contributes before weighting: each hashed
// feature with its count, in the word block or the character block.
type featureSet struct {
	words map[uint64]float32
	chars map[uint64]float32
}

// extractor turns text into hashed features.
type extractor struct {
	lang             string
	charMin, charMax int
	bigrams          bool
	fix              *speller // corrects words the model has not seen (nil: none)
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
	fs := featureSet{words: make(map[uint64]float32, 2*len(toks)+2), chars: make(map[uint64]float32, 12*len(toks))}
	prev := "^"
	for _, t := range toks {
		k := wordKey(t)
		if e.fix != nil && t.Kind == normalize.Word {
			if c, ok := e.fix.correct(t.Fold); ok {
				k = c
			}
		}
		fs.words[hashFeature(kindWord, k)]++
		if t.Kind == normalize.Code && len(t.Fold) <= 4 {
			fs.words[hashFeature(kindWord, t.Fold)]++ // "2x1", "3x2": promotions, not ids
		}
		if e.bigrams {
			fs.words[hashFeature(kindBigram, prev+" "+k)]++
		}
		prev = k
		if t.Kind == normalize.Word && e.charMax > 0 {
			addCharGrams(fs.chars, t.Fold, e.charMin, e.charMax)
		}
	}
	if e.bigrams && len(toks) > 0 {
		fs.words[hashFeature(kindBigram, prev+" $")]++
	}
	return fs
}

func addCharGrams(m map[uint64]float32, w string, lo, hi int) {
	rs := make([]rune, 0, len(w)+2)
	rs = append(rs, '<')
	rs = append(rs, []rune(w)...)
	rs = append(rs, '>')
	var b strings.Builder
	for n := lo; n <= hi; n++ {
		if n > len(rs) {
			break
		}
		for i := 0; i+n <= len(rs); i++ {
			b.Reset()
			for _, r := range rs[i : i+n] {
				b.WriteRune(r)
			}
			m[hashFeature(kindChar, b.String())]++
		}
	}
}

// sparse is a feature vector: indices ascending, values.
type sparse struct {
	idx []int32
	val []float32
}

// vectorizer maps hashed features to indices with TF-IDF weights.
type vectorizer struct {
	index      map[uint64]int32
	idf        []float32
	block      []uint8 // 0 words, 1 chars
	charWeight float32
}

// vectorize weights a feature set: sublinear TF × IDF, each block scaled
// to unit length, the character block then scaled by charWeight. Unknown
// features are dropped.
func (v *vectorizer) vectorize(fs featureSet) sparse {
	var s sparse
	var norms [2]float64
	add := func(m map[uint64]float32) {
		for h, c := range m {
			i, ok := v.index[h]
			if !ok {
				continue
			}
			x := (1 + float32(math.Log(float64(c)))) * v.idf[i]
			s.idx = append(s.idx, i)
			s.val = append(s.val, x)
			norms[v.block[i]] += float64(x) * float64(x)
		}
	}
	add(fs.words)
	add(fs.chars)
	scale := [2]float32{1, v.charWeight}
	for b := range norms {
		if norms[b] > 0 {
			scale[b] /= float32(math.Sqrt(norms[b]))
		}
	}
	for j, i := range s.idx {
		s.val[j] *= scale[v.block[i]]
	}
	sort.Sort(&s)
	return s
}

func (s *sparse) Len() int           { return len(s.idx) }
func (s *sparse) Less(i, j int) bool { return s.idx[i] < s.idx[j] }
func (s *sparse) Swap(i, j int) {
	s.idx[i], s.idx[j] = s.idx[j], s.idx[i]
	s.val[i], s.val[j] = s.val[j], s.val[i]
}

// buildVectorizer indexes the features of the training set that occur in
// at least minDF examples, in a deterministic order.
func buildVectorizer(sets []featureSet, minDF int, charWeight float64) *vectorizer {
	type stat struct {
		df    int
		block uint8
	}
	df := map[uint64]*stat{}
	for _, fs := range sets {
		for h := range fs.words {
			if st := df[h]; st != nil {
				st.df++
			} else {
				df[h] = &stat{1, 0}
			}
		}
		for h := range fs.chars {
			if st := df[h]; st != nil {
				st.df++
			} else {
				df[h] = &stat{1, 1}
			}
		}
	}
	keys := make([]uint64, 0, len(df))
	for h, st := range df {
		if st.df >= minDF {
			keys = append(keys, h)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	v := &vectorizer{index: make(map[uint64]int32, len(keys)), idf: make([]float32, len(keys)), block: make([]uint8, len(keys)), charWeight: float32(charWeight)}
	n := float64(len(sets))
	for i, h := range keys {
		st := df[h]
		v.index[h] = int32(i)
		v.idf[i] = float32(math.Log((1+n)/(1+float64(st.df))) + 1)
		v.block[i] = st.block
	}
	return v
}

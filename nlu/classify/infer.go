package classify

import (
	"math"
	"slices"
	"sync"

	"github.com/charlabot/charla/nlu/normalize"
)

// Classifying a message. Training hashes every feature of every example
// (extractor.extract) to build the vocabulary; once the vocabulary exists,
// a message's features are turned straight into vocabulary indices, and
// what a word contributes is computed once per model: the words of the
// training data (their normalised forms, with the stems kept in the model)
// have their token, spelling correction and the indices of their word and
// character features in a read-only table. Only a word the model has never
// seen is normalised, corrected and hashed while classifying. Nothing here
// takes a lock: many conversations classify at once on every core.

// wordFeat is what a word contributes to a message's features.
type wordFeat struct {
	tok   normalize.Token // after spelling correction (Fold and Stem)
	fixed bool            // the word was corrected
	key   string          // wordKey(tok)
	uni   int32           // index of the word feature, or -1
	code  int32           // index of a short code's own feature ("2x1"), or -1
	chars []int32         // indices of the known character n-grams of the word as written
}

// buildTable computes the wordFeat of every normalised word of the
// training data (stems: normalised word → folded stem). It runs once, when
// the model is trained or loaded.
func (m *Model) buildTable() {
	m.table = make(map[string]*wordFeat, len(m.stems))
	for w, st := range m.stems {
		tok := normalize.Token{Norm: w, Fold: normalize.Fold(w), Stem: st, Kind: normalize.KindOf(w)}
		wf := &wordFeat{}
		m.wordFeat(wf, tok)
		wf.chars = slices.Clip(wf.chars)
		m.table[w] = wf
	}
}

// wordFeat fills wf for the token tok (not yet corrected).
func (m *Model) wordFeat(wf *wordFeat, tok normalize.Token) {
	e := &m.ext
	wf.chars = wf.chars[:0]
	if tok.Kind == normalize.Word && e.charMax > 0 {
		var buf [64]uint64
		for _, h := range addCharGrams(buf[:0], tok.Fold, e.charMin, e.charMax) {
			if i := m.vec.index.get(h); i >= 0 {
				wf.chars = append(wf.chars, i)
			}
		}
	}
	wf.fixed = false
	if e.fix != nil && tok.Kind == normalize.Word {
		if w, st, ok := e.fix.correct(tok.Fold); ok {
			tok.Fold, tok.Stem = w, st
			wf.fixed = true
		}
	}
	wf.tok = tok
	wf.key = wordKey(tok)
	wf.uni = m.index(hashFeature(kindWord, wf.key))
	wf.code = -1
	if tok.Kind == normalize.Code && len(tok.Fold) <= 4 {
		wf.code = m.index(hashFeature(kindWord, tok.Fold))
	}
}

func (m *Model) index(h uint64) int32 { return m.vec.index.get(h) }

// scratch holds the buffers of one classification.
type scratch struct {
	words           []string
	toks            []normalize.Token
	feats           []int32 // vocabulary indices, one per occurrence
	packed          []uint64
	x               sparse
	acc             []float32
	p               []float64
	tmp             wordFeat
	cover           float64 // see evidence
	ms              messageScratch
	hashes, hashes2 []uint64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// features appends to s.feats the vocabulary index of every feature
// occurrence of text, as extractor.extract and vectorizer.vectorize would
// find them.
func (m *Model) features(s *scratch, text string) {
	e := &m.ext
	s.words = normalize.AppendWords(s.words[:0], text, e.lang)
	s.toks = s.toks[:0]
	s.feats = s.feats[:0]
	add := func(i int32) {
		if i >= 0 {
			s.feats = append(s.feats, i)
		}
	}
	prev := "^"
	var ev evidence
	for _, w := range s.words {
		wf := m.table[w]
		if wf == nil {
			wf = &s.tmp
			m.wordFeat(wf, normalize.MakeToken(w, e.lang))
		}
		ev.add(wf)
		s.toks = append(s.toks, wf.tok)
		add(wf.uni)
		add(wf.code)
		if e.bigrams {
			add(m.index(hashPair(kindBigram, prev, wf.key)))
		}
		prev = wf.key
		s.feats = append(s.feats, wf.chars...)
	}
	if e.bigrams && len(s.words) > 0 {
		add(m.index(hashPair(kindBigram, prev, "$")))
	}
	if e.cross > 0 && len(s.toks) > 1 {
		for _, h := range addCrossGrams(nil, s.toks, e.cross) {
			add(m.index(h))
		}
	}
	s.hashes, s.hashes2 = e.messageFeatures(&s.ms, s.toks, s.hashes[:0], s.hashes2[:0])
	for _, h := range s.hashes {
		add(m.index(h))
	}
	for _, h := range s.hashes2 {
		add(m.index(h))
	}
	s.cover = ev.cover()
}

// evidence counts how much of a message the model knows: its words (and
// emoji) whose word feature the model has, as written or after a spelling
// correction, and those it does not know at all. A message that rests on
// unknown or corrected words is thin evidence, and its confidence is
// shrunk (see Model.Shrink).
type evidence struct{ words, known, fixed int }

func (ev *evidence) add(wf *wordFeat) {
	if wf.tok.Kind != normalize.Word && wf.tok.Kind != normalize.Emoji {
		return
	}
	ev.words++
	switch {
	case wf.uni < 0:
	case wf.fixed:
		ev.fixed++
	default:
		ev.known++
	}
}

// cover is the share of the message's words the model knows, a corrected
// word counting half (1 for a message with no word: numbers, codes).
func (ev *evidence) cover() float64 {
	if ev.words == 0 {
		return 1
	}
	return (float64(ev.known) + 0.5*float64(ev.fixed)) / float64(ev.words)
}

// vectorizeIdx weights the feature occurrences of s.feats into s.x, as
// vectorizer.vectorize does: sublinear TF × IDF, each block scaled to unit
// length, then by its weight. The vocabulary is sorted by hash, so index
// order is the hash order vectorize sums the norms in, and the result is
// the same to the bit.
func (v *vectorizer) vectorizeIdx(s *scratch) {
	slices.Sort(s.feats)
	var norms [nBlocks]float64
	s.packed = s.packed[:0]
	for j := 0; j < len(s.feats); {
		i := s.feats[j]
		k := j + 1
		for k < len(s.feats) && s.feats[k] == i {
			k++
		}
		x := v.idf[i]
		if c := float32(k - j); c > 1 {
			x *= 1 + float32(math.Log(float64(c)))
		}
		s.packed = append(s.packed, uint64(i)<<32|uint64(math.Float32bits(x)))
		norms[v.block[i]] += float64(x) * float64(x)
		j = k
	}
	scale := v.weights
	for b := range norms {
		if norms[b] > 0 {
			scale[b] /= float32(math.Sqrt(norms[b]))
		}
	}
	s.x.idx, s.x.val = s.x.idx[:0], s.x.val[:0]
	for _, p := range s.packed {
		i := int32(p >> 32)
		s.x.idx = append(s.x.idx, i)
		s.x.val = append(s.x.val, math.Float32frombits(uint32(p))*scale[v.block[i]])
	}
}

// decision fills s.acc with the decision value of every class for text.
func (m *Model) decision(s *scratch, text string) []float32 {
	m.features(s, text)
	m.vec.vectorizeIdx(s)
	return m.score(s.x, s)
}

// score returns the decision values of the vector x (in s.acc).
func (m *Model) score(x sparse, s *scratch) []float32 {
	nc := len(m.Classes)
	acc := append(s.acc[:0], m.w[m.nFeat*nc:(m.nFeat+1)*nc]...)
	s.acc = acc
	// four feature rows at a time: fewer passes over the accumulator
	j := 0
	for ; j+4 <= len(x.idx); j += 4 {
		v0, v1, v2, v3 := x.val[j], x.val[j+1], x.val[j+2], x.val[j+3]
		r0 := m.w[int(x.idx[j])*nc:][:nc]
		r1 := m.w[int(x.idx[j+1])*nc:][:nc]
		r2 := m.w[int(x.idx[j+2])*nc:][:nc]
		r3 := m.w[int(x.idx[j+3])*nc:][:nc]
		for k := range acc {
			acc[k] += v0*r0[k] + v1*r1[k] + v2*r2[k] + v3*r3[k]
		}
	}
	for ; j < len(x.idx); j++ {
		v := x.val[j]
		row := m.w[int(x.idx[j])*nc:][:nc]
		for k := range acc {
			acc[k] += v * row[k]
		}
	}
	return acc
}

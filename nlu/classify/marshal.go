package classify

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// modelMagic starts a serialised model; bump the version whenever the
// features or the format change, so that cached models are retrained.
const (
	modelMagic   = "charla-nlu-model"
	modelVersion = 4
)

// Version identifies the classifier code: cache keys include it.
const Version = modelVersion

// MarshalBinary encodes the model. The encoding is deterministic: the same
// model gives the same bytes.
func (m *Model) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	w := &writer{w: bufio.NewWriter(&buf)}
	w.str(modelMagic)
	w.u64(modelVersion)
	c := m.Config
	w.str(c.Lang)
	w.f64(c.C)
	w.u64(uint64(c.CharMin))
	w.u64(uint64(c.CharMax))
	w.f64(c.CharWeight)
	w.f64(c.ConceptWeight)
	w.bool(c.NoLexicon)
	w.bool(c.NoBigrams)
	w.bool(c.ConceptGrams)
	w.bool(c.SkipGrams)
	w.u64(uint64(c.CrossMax))
	w.bool(c.NoSpell)
	w.bool(c.NoBackground)
	w.f64(c.BackgroundShare)
	w.f64(c.CentroidWeight)
	w.u64(uint64(c.Augment))
	w.f64(c.AugmentWeight)
	w.u64(uint64(c.AugmentMax))
	w.u64(uint64(int64(c.GramsMax)))
	w.u64(uint64(c.MinDF))
	w.u64(uint64(c.MaxIter))
	w.u64(c.Seed)
	w.f64(m.Temperature)
	w.f64(m.Threshold)
	w.f64(m.Shrink)
	w.f64(m.Thin)
	w.u64(uint64(len(m.Classes)))
	for _, s := range m.Classes {
		w.str(s)
	}
	keys := make([]uint64, m.nFeat)
	for j, i := range m.vec.index.vals {
		if i >= 0 {
			keys[i] = m.vec.index.keys[j]
		}
	}
	w.u64(uint64(m.nFeat))
	w.any(keys)
	w.any(m.vec.idf)
	w.any(m.vec.block)
	w.any(m.w)
	words := make([]string, 0, len(m.spellW))
	for k := range m.spellW {
		words = append(words, k)
	}
	sort.Strings(words)
	w.u64(uint64(len(words)))
	for _, k := range words {
		w.str(k)
		w.str(m.spellW[k])
		w.u64(uint64(m.spellN[k]))
	}
	norms := make([]string, 0, len(m.stems))
	for k := range m.stems {
		norms = append(norms, k)
	}
	sort.Strings(norms)
	w.u64(uint64(len(norms)))
	for _, k := range norms {
		w.str(k)
		w.str(m.stems[k])
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return buf.Bytes(), w.err
}

// UnmarshalBinary decodes a model encoded by MarshalBinary.
func (m *Model) UnmarshalBinary(data []byte) error {
	r := &reader{r: bytes.NewReader(data)}
	if r.str() != modelMagic {
		return errors.New("classify: not a model")
	}
	if v := r.u64(); v != modelVersion {
		return fmt.Errorf("classify: model version %d, want %d", v, modelVersion)
	}
	var c Config
	c.Lang = r.str()
	c.C = r.f64()
	c.CharMin = int(r.u64())
	c.CharMax = int(r.u64())
	c.CharWeight = r.f64()
	c.ConceptWeight = r.f64()
	c.NoLexicon = r.bool()
	c.NoBigrams = r.bool()
	c.ConceptGrams = r.bool()
	c.SkipGrams = r.bool()
	c.CrossMax = int(r.u64())
	c.NoSpell = r.bool()
	c.NoBackground = r.bool()
	c.BackgroundShare = r.f64()
	c.CentroidWeight = r.f64()
	c.Augment = int(r.u64())
	c.AugmentWeight = r.f64()
	c.AugmentMax = int(r.u64())
	c.GramsMax = int(int64(r.u64()))
	c.MinDF = int(r.u64())
	c.MaxIter = int(r.u64())
	c.Seed = r.u64()
	*m = Model{Config: c}
	m.Temperature = r.f64()
	m.Threshold = r.f64()
	m.Shrink = r.f64()
	m.Thin = r.f64()
	nc := r.count(1 << 20)
	for range nc {
		m.Classes = append(m.Classes, r.str())
	}
	m.oos = slices.Index(m.Classes, OOS)
	m.nFeat = r.count(1 << 28)
	if r.err == nil && nc*(m.nFeat+1) > len(data) {
		r.err = io.ErrUnexpectedEOF
	}
	if r.err != nil {
		return fmt.Errorf("classify: bad model: %w", r.err)
	}
	keys := make([]uint64, m.nFeat)
	v := &vectorizer{idf: make([]float32, m.nFeat), block: make([]uint8, m.nFeat), weights: c.blockWeights()}
	m.w = make([]float32, (m.nFeat+1)*nc)
	r.any(keys)
	r.any(v.idf)
	r.any(v.block)
	r.any(m.w)
	v.index = newHashIndex(m.nFeat)
	for i, h := range keys {
		v.index.set(h, int32(i))
	}
	m.vec = v
	nw := r.count(1 << 24)
	if nw > 0 || !c.NoSpell {
		m.spellW, m.spellN = make(map[string]string, nw), make(map[string]int, nw)
		for range nw {
			k := r.str()
			m.spellW[k] = r.str()
			m.spellN[k] = int(r.u64())
		}
	}
	nn := r.count(1 << 24)
	m.stems = make(map[string]string, nn)
	for range nn {
		k := r.str()
		m.stems[k] = r.str()
	}
	if r.err != nil {
		return fmt.Errorf("classify: bad model: %w", r.err)
	}
	if r.r.Len() != 0 {
		return errors.New("classify: bad model: trailing bytes")
	}
	m.ext = newExtractor(c, m.spellW, m.spellN)
	m.buildTable()
	return nil
}

type writer struct {
	w   *bufio.Writer
	err error
}

func (w *writer) any(v any) {
	if w.err == nil {
		w.err = binary.Write(w.w, binary.LittleEndian, v)
	}
}
func (w *writer) u64(v uint64)  { w.any(v) }
func (w *writer) f64(v float64) { w.u64(math.Float64bits(v)) }
func (w *writer) bool(b bool) {
	if b {
		w.u64(1)
	} else {
		w.u64(0)
	}
}
func (w *writer) str(s string) {
	w.u64(uint64(len(s)))
	if w.err == nil {
		_, w.err = w.w.WriteString(s)
	}
}

type reader struct {
	r   *bytes.Reader
	err error
}

func (r *reader) any(v any) {
	if r.err == nil {
		r.err = binary.Read(r.r, binary.LittleEndian, v)
	}
}
func (r *reader) u64() uint64 {
	var v uint64
	r.any(&v)
	return v
}
func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }
func (r *reader) bool() bool   { return r.u64() != 0 }
func (r *reader) count(limit int) int {
	n := r.u64()
	if n > uint64(limit) || n > uint64(r.r.Len()) {
		if r.err == nil {
			r.err = fmt.Errorf("count %d out of range", n)
		}
		return 0
	}
	return int(n)
}
func (r *reader) str() string {
	n := r.count(1 << 20)
	if r.err != nil {
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.r, b); err != nil {
		r.err = err
	}
	return string(b)
}

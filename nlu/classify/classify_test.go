package classify

import (
	"bytes"
	"slices"
	"testing"

	"github.com/charlabot/charla/nlu/lexicon"
)

var small = []Example{
	{"hola", "greet"}, {"buenas tardes", "greet"}, {"buen día", "greet"}, {"qué tal", "greet"}, {"holi", "greet"},
	{"dónde está mi pedido", "order"}, {"no me llega la compra", "order"}, {"rastrear mi orden", "order"}, {"cuándo llega el paquete", "order"}, {"mi pedido no llegó", "order"},
	{"quiero cambiar la talla", "size"}, {"me quedó chico, otra talla", "size"}, {"cambio de talle", "size"}, {"necesito un número más", "size"}, {"la talla no me sirve", "size"},
}

func TestFitPredict(t *testing.T) {
	m, err := Train(small, Config{Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{"holaaa": "greet", "donde esta mi pedidoo": "order", "kiero cambiar la tala": "size"}
	for text, want := range tests {
		p := m.Predict(text)
		if p[0].Intent != want {
			t.Errorf("%q: %v, want %s", text, p[:2], want)
		}
		sum := 0.0
		for _, s := range p {
			sum += s.Confidence
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("%q: probabilities sum to %f", text, sum)
		}
	}
	// the background examples give out-of-scope text somewhere to go
	if !slices.Contains(m.Classes, OOS) {
		t.Errorf("classes %v lack the background OOS class", m.Classes)
	}
	if p := m.Predict("qué tiempo hace en Lima"); p[0].Intent != OOS {
		t.Errorf("weather: %v", p[:2])
	}
	m2, _ := Train(small, Config{Lang: "es", NoBackground: true})
	if slices.Contains(m2.Classes, OOS) {
		t.Error("NoBackground must leave the OOS class out")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	m, err := Train(small, Config{Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var m2 Model
	if err := m2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Error("a decoded model must encode to the same bytes")
	}
	for _, text := range []string{"hola", "kiero la talla 43", "", "😀"} {
		if a, c := m.Confidences(text), m2.Confidences(text); !slices.Equal(a, c) {
			t.Errorf("%q: %v vs %v", text, a, c)
		}
	}
	for _, bad := range [][]byte{nil, []byte("x"), b[:len(b)/2], append([]byte("charla"), b...)} {
		var m3 Model
		if err := m3.UnmarshalBinary(bad); err == nil {
			t.Errorf("decoding %d bad bytes must fail", len(bad))
		}
	}
}

func TestSpeller(t *testing.T) {
	words := map[string]string{"talla": "tall", "pedido": "ped", "quiero": "quier", "cambiar": "cambi"}
	s := newSpeller(words, map[string]int{"talla": 5, "pedido": 3, "quiero": 2, "cambiar": 2}, nil, "es")
	tests := map[string]string{"tala": "tall", "pedio": "ped", "qiero": "quier", "cmabiar": "cambi"}
	for in, want := range tests {
		if _, got, ok := s.correct(in); !ok || got != want {
			t.Errorf("correct(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"talla", "xyz", "zapatos"} {
		if _, got, ok := s.correct(in); ok {
			t.Errorf("correct(%q) = %q; want no correction", in, got)
		}
	}
	// with the lexicon: its words are known, and typos of them corrected
	s = newSpeller(words, map[string]int{"talla": 5, "pedido": 3, "quiero": 2, "cambiar": 2}, lexicon.Default(), "es")
	for in, want := range map[string]string{"reembolzo": "reembolso", "graciass": "gracias", "encomeinda": "encomienda"} {
		if got, _, ok := s.correct(in); !ok || got != want {
			t.Errorf("with the lexicon, correct(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, _, ok := s.correct("guita"); ok {
		t.Errorf("correct(%q) = %q; a lexicon word is known", "guita", got)
	}
}

// TestSpellerLeavesRealWords: a word the model has not seen is corrected
// only when a typo is much likelier than a real word. Frequent words of
// either language are real ("perdon" is not a misspelt "person" to an
// English model, "ayuda" no typo of anything); short words have too many
// neighbours; the likeliest typo wins (a neighbouring key over another
// letter, a doubled letter written once).
func TestSpellerLeavesRealWords(t *testing.T) {
	en := newSpeller(map[string]string{"person": "person", "human": "human", "thanks": "thank", "shipping": "ship", "ayudar": "ayud"},
		map[string]int{"person": 3, "human": 2, "thanks": 4, "shipping": 2}, nil, "en")
	for _, w := range []string{"perdon", "ayuda", "mano", "tengo", "llegaron", "please"} {
		if got, _, ok := en.correct(w); ok {
			t.Errorf("English model: correct(%q) = %q; a real word must stay", w, got)
		}
	}
	es := newSpeller(map[string]string{"pagar": "pag", "pagan": "pag", "talla": "tall", "quiero": "quier", "pedido": "ped", "mando": "mand", "direccion": "direccion"},
		map[string]int{"pagar": 1, "pagan": 1, "talla": 1, "quiero": 1, "pedido": 1, "mando": 1, "direccion": 1}, nil, "es")
	for in, want := range map[string]string{
		"pagaf":      "pagar",     // f is next to r, far from n
		"tala":       "talla",     // a doubled letter written once: the only fix a 4-letter word gets
		"qiero":      "quiero",    // the u of "qu"
		"pedio":      "pedido",    // a letter missing
		"dirrecsion": "direccion", // two edits in a long word
	} {
		if got, _, ok := es.correct(in); !ok || got != want {
			t.Errorf("correct(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, w := range []string{"mande", "pago", "tal", "pxdxdo", "qxyzzr"} {
		if got, _, ok := es.correct(w); ok {
			t.Errorf("correct(%q) = %q; want no correction", w, got)
		}
	}
}

// TestThinEvidenceIsNotCertain: a message that rests on a word the model
// had to correct, or on words it does not know, never gets confidence 1.
func TestThinEvidenceIsNotCertain(t *testing.T) {
	m, err := Train(small, Config{Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	for text, cover := range map[string]float64{"pedidoo": 0.5, "tala": 0.5, "zzqxj wwkrp": 0, "pedido": 1} {
		p := m.Predict(text)
		limit := 1 - MinThin*(1-cover)*(1-1/float64(len(m.Classes)))
		if p[0].Confidence > limit+1e-9 {
			t.Errorf("%q: top %v with confidence %.4f, above %.4f", text, p[0].Intent, p[0].Confidence, limit)
		}
	}
	if m.Thin < MinThin {
		t.Errorf("thin share %.2f below MinThin", m.Thin)
	}
}

func TestNoData(t *testing.T) {
	if _, err := Fit(nil, Config{NoBackground: true}); err != ErrNoData {
		t.Errorf("Fit(nil) = %v", err)
	}
	m, err := Fit([]Example{{"hola", "greet"}}, Config{Lang: "es", NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Predict("cualquier cosa"); len(p) != 1 || p[0].Intent != "greet" {
		t.Errorf("one class: %v", p)
	}
}

// TestLexiconGeneralises: words the designer never wrote count like the
// ones they did when the lexicon puts them in the same concept.
func TestLexiconGeneralises(t *testing.T) {
	m, err := Fit(small, Config{Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := Fit(small, Config{Lang: "es", NoLexicon: true})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"y mi encomienda?":            "order", // "encomienda": an order, never in the examples
		"tracking de la compra porfa": "order",
		"el talle 40 me aprieta":      "size",
		"épale":                       "greet",
	} {
		if got := m.Predict(text)[0].Intent; got != want {
			t.Errorf("%q: %s, want %s", text, got, want)
		}
	}
	// without the lexicon the unseen word is no evidence at all
	if p, q := m.Predict("y mi encomienda?"), bare.Predict("y mi encomienda?"); conf(p, "order") <= conf(q, "order") {
		t.Errorf("the lexicon does not raise order for encomienda: %.2f with, %.2f without", conf(p, "order"), conf(q, "order"))
	}
}

func conf(p []Score, intent string) float64 {
	for _, s := range p {
		if s.Intent == intent {
			return s.Confidence
		}
	}
	return 0
}

func TestChooseThreshold(t *testing.T) {
	// decision values for two classes (0: an intent, 1: OOS); the softmax
	// at temperature 1 gives the top confidences noted
	row := func(d0, d1 float64, gold int, oos bool) Held {
		return Held{Dec: []float64{d0, d1}, Gold: gold, OOS: oos}
	}
	held := []Held{
		row(4, 0, 0, false),   // in scope, confident and right
		row(3, 0, 0, false),   // in scope, right
		row(0.4, 0, 0, false), // in scope, right but unsure (0.60)
		row(0.2, 0, 1, true),  // out of scope, taken for the intent (0.55)
		row(0.1, 0, 1, true),  // out of scope, taken for the intent (0.52)
		row(0, 2, 1, true),    // out of scope, caught by the OOS class
	}
	// rejecting below 0.57 catches two out-of-scope lines and loses no
	// in-scope one: 6/6 right; a higher cut-off would lose the unsure one
	th := ChooseThreshold(held, 1, 1)
	if th < 0.55 || th > 0.60 {
		t.Errorf("threshold %.3f, want between 0.55 and 0.60", th)
	}
	if th := ChooseThreshold(held[:3], 1, 1); th != 0 {
		t.Errorf("no out-of-scope line: threshold %.3f, want 0", th)
	}
}

func TestAugment(t *testing.T) {
	cfg := Config{Lang: "es", Augment: 3}.withDefaults()
	a, wa := augment(slices.Clone(small), nil, cfg, lexicon.Default())
	b, _ := augment(slices.Clone(small), nil, cfg, lexicon.Default())
	if !slices.Equal(a, b) {
		t.Error("augment is not deterministic")
	}
	if len(a) <= len(small) || len(a) > 4*len(small) {
		t.Fatalf("%d examples after augmenting %d", len(a), len(small))
	}
	for i, ex := range a[len(small):] {
		if slices.Contains(small, ex) {
			t.Errorf("copy %q is an original", ex.Text)
		}
		if wa[len(small)+i] != cfg.AugmentWeight {
			t.Errorf("copy %q weighs %v", ex.Text, wa[len(small)+i])
		}
	}
	// large data sets are left alone
	cfg.AugmentMax = 2
	if c, _ := augment(slices.Clone(small), nil, cfg, lexicon.Default()); len(c) != len(small) {
		t.Errorf("%d examples: more than AugmentMax per intent must not be augmented", len(c))
	}
}

// TestTableMatchesTraining checks that classifying a message through the
// model's word table gives the very feature vector training computes from
// the hashed features, for words the model knows and words it does not.
func TestTableMatchesTraining(t *testing.T) {
	texts := []string{"", "hola", "holaaa, dónde está mi pedidoo A1002?", "kiero cambiar la tala x la 43 porfa 🙏", "el 2x1 no me salió",
		"qué tiempo hace en Lima", "where's my order", "ＨＯＬＡ   buen día!!", "me quedó chico, otra talla", "no lo tengo a mano", "perdón 😀😀 xq tb"}
	for _, ex := range small {
		texts = append(texts, ex.Text, ex.Text+" "+ex.Text)
	}
	for _, bg := range Background("es")[:50] {
		texts = append(texts, bg.Text)
	}
	for _, cfg := range []Config{{Lang: "es"}, {Lang: "es", NoSpell: true}, {Lang: "es", NoLexicon: true, CrossMax: 4, SkipGrams: true}, {Lang: "en", ConceptGrams: true}} {
		m, err := Fit(small, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		var loaded Model
		if err := loaded.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		for _, mm := range []*Model{m, &loaded} {
			for _, text := range texts {
				want := mm.vec.vectorize(mm.ext.extract(text))
				s := new(scratch)
				mm.features(s, text)
				mm.vec.vectorizeIdx(s)
				if !slices.Equal(want.idx, s.x.idx) || !slices.Equal(want.val, s.x.val) {
					t.Errorf("%+v %q: table gives %v %v, training %v %v", cfg, text, s.x.idx, s.x.val, want.idx, want.val)
				}
			}
		}
	}
}

// TestDesignerSizedFeatures: designer-sized data turns on the bigrams of
// the abstracted message (lexicon matches replaced by their concepts,
// function words dropped: "me reemplazan el talle" and "quiero cambiar la
// talla" share exchange+size) and word skip-grams; large data does not.
func TestDesignerSizedFeatures(t *testing.T) {
	m, err := Fit(small, Config{Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Config.ConceptGrams || !m.Config.SkipGrams {
		t.Fatalf("designer-sized data must turn the grams on: %+v", m.Config)
	}
	fs := m.ext.extract("me reemplazan el talle")
	if !slices.Contains(fs.concepts, hashPair(kindCGram, "exchange", "size")) {
		t.Error(`"me reemplazan el talle" lacks the abstracted bigram exchange+size`)
	}
	if !slices.Contains(fs.words, hashPair(kindSkip, "reemplaz", "tall")) {
		t.Error(`"me reemplazan el talle" lacks the skip-gram reemplaz+tall`)
	}
	if !slices.Contains(m.ext.extract("quiero cambiar la talla").concepts, hashPair(kindCGram, "exchange", "size")) {
		t.Error(`"quiero cambiar la talla" lacks the abstracted bigram exchange+size`)
	}
	var many []Example
	for i := range 90 {
		many = append(many, small[i%len(small)], Example{Text: small[i%len(small)].Text + " porfa", Intent: small[i%len(small)].Intent})
	}
	if c := (Config{}).withDefaults().forData(many); c.ConceptGrams || c.SkipGrams {
		t.Errorf("%d examples for 3 intents are not designer-sized: %+v", len(many), c)
	}
	if c := (Config{GramsMax: -1}).withDefaults().forData(small); c.ConceptGrams {
		t.Error("GramsMax < 0 must keep the grams off")
	}
}

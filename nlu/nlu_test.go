package nlu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/nlu/classify"
	"github.com/charlabot/charla/nlu/eval"
)

func readSet(t testing.TB, name string) []classify.Example {
	t.Helper()
	ex, err := eval.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

var monday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newSpanish(t testing.TB, opts ...Option) *Understander {
	t.Helper()
	u, err := NewFromExamples("es", readSet(t, "es_train.jsonl"), nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAccuracyFloor trains on a small Spanish shop set written for this
// test and checks the top intent of chat-style messages it has not seen
// (typos, abbreviations, repeated letters, voseo).
func TestAccuracyFloor(t *testing.T) {
	u := newSpanish(t)
	test := readSet(t, "es_test.jsonl")
	right := 0
	for _, ex := range test {
		res, err := u.Understand(context.Background(), engine.Query{Text: ex.Text, Lang: "es", Now: monday})
		if err != nil {
			t.Fatal(err)
		}
		if top, _ := res.Top(); top == ex.Intent {
			right++
		} else {
			t.Logf("%q: got %v, want %s", ex.Text, res.Intents, ex.Intent)
		}
	}
	if acc := float64(right) / float64(len(test)); acc < 0.85 {
		t.Errorf("accuracy %.2f on the fixed Spanish set, want at least 0.85", acc)
	}
}

func TestOutOfScopeIsLowConfidence(t *testing.T) {
	u := newSpanish(t)
	for _, text := range []string{"cuál es la capital de Francia", "me recomiendas una receta de lentejas", "qwertyuiop"} {
		res, _ := u.Understand(context.Background(), engine.Query{Text: text, Lang: "es"})
		if _, c := res.Top(); c >= 0.5 {
			t.Errorf("%q: out of scope, but top is %v", text, res.Intents)
		}
	}
	// with a threshold, the list is empty
	u = newSpanish(t, WithThreshold(0.5))
	res, _ := u.Understand(context.Background(), engine.Query{Text: "cuál es la capital de Francia", Lang: "es"})
	if len(res.Intents) != 0 {
		t.Errorf("with a threshold, out of scope must list no intent: %v", res.Intents)
	}
}

func TestMultiIntent(t *testing.T) {
	u := newSpanish(t)
	tests := []struct {
		text string
		want []string
	}{
		{"hola, ¿dónde está mi pedido?", []string{"saludo", "estado_pedido"}},
		{"quiero cambiar la talla y también saber qué medios de pago aceptan", []string{"cambio_talla", "medios_pago"}},
	}
	for _, tt := range tests {
		res, _ := u.Understand(context.Background(), engine.Query{Text: tt.text, Lang: "es"})
		var top []string
		for i := 0; i < 2 && i < len(res.Intents); i++ {
			top = append(top, res.Intents[i].Intent)
		}
		slices.Sort(top)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(top, want) {
			t.Errorf("%q: top two %v, want %v (all: %v)", tt.text, top, tt.want, res.Intents)
		}
	}
	// a single request stays single
	res, _ := u.Understand(context.Background(), engine.Query{Text: "dónde está mi pedido", Lang: "es"})
	if top, c := res.Top(); top != "estado_pedido" || c < 0.5 || (len(res.Intents) > 1 && res.Intents[1].Confidence > 0.3) {
		t.Errorf("single intent: %v", res.Intents)
	}
}

// TestForeignWordsAreNotTypos: Spanish words reaching an English model
// (a conversation whose language is English) are real words it has not
// seen, not misspellings of English ones: "perdón" once became "person"
// and a human_agent request at confidence 1.0.
func TestForeignWordsAreNotTypos(t *testing.T) {
	en := []classify.Example{
		{Text: "talk to a person", Intent: "human_agent"}, {Text: "I want a human", Intent: "human_agent"},
		{Text: "can I speak to a real person", Intent: "human_agent"}, {Text: "connect me with an agent", Intent: "human_agent"},
		{Text: "thanks", Intent: "thanks"}, {Text: "thank you so much", Intent: "thanks"}, {Text: "cheers mate", Intent: "thanks"},
		{Text: "how much is shipping", Intent: "shipping"}, {Text: "do you ship to Canada", Intent: "shipping"}, {Text: "how long does delivery take", Intent: "shipping"},
		{Text: "hello", Intent: "greet"}, {Text: "hi there", Intent: "greet"}, {Text: "good morning", Intent: "greet"},
	}
	u, err := NewFromExamples("en", en, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"perdón", "perdon", "ayuda", "no lo tengo a mano"} {
		res, _ := u.Understand(context.Background(), engine.Query{Text: text, Lang: "en"})
		if top, c := res.Top(); c >= 0.5 {
			t.Errorf("%q: %s at %.2f; a Spanish word is no typo of an English one", text, top, c)
		}
	}
	// a real typo of a known word is still read
	res, _ := u.Understand(context.Background(), engine.Query{Text: "talk to a persn", Lang: "en"})
	if top, _ := res.Top(); top != "human_agent" {
		t.Errorf("typo: %v", res.Intents)
	}
}

// TestConcurrentUnderstand: conversations are understood at once on every
// core, sharing the model's read-only tables, the lock-free stem cache and
// pooled buffers; every goroutine must get what a lone call gets.
func TestConcurrentUnderstand(t *testing.T) {
	u := newSpanish(t)
	texts := []string{"hola", "kiero cambiar la tala de mis tenis del pedido #A1002 por la 43", "sí", "43", "no lo tengo a mano",
		"perdón, ¿dónde está mi encomienda?", "qué tiempo hace en Lima", "zzqx wkrpt", "", "mañana a las 3 pm, porfa", "👍"}
	want := make([]*engine.Understanding, len(texts))
	for i, text := range texts {
		want[i], _ = u.Understand(context.Background(), engine.Query{Text: text, Lang: "es", Now: monday})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 200 {
				i := (n + g) % len(texts)
				got, _ := u.Understand(context.Background(), engine.Query{Text: texts[i], Lang: "es", Now: monday})
				if !reflect.DeepEqual(got, want[i]) {
					errs <- fmt.Sprintf("%q: %v, alone %v", texts[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestEntitiesAndExpect(t *testing.T) {
	u := newSpanish(t)
	res, _ := u.Understand(context.Background(), engine.Query{Text: "43", Lang: "es", Now: monday, Expect: []string{engine.EntitySize}})
	if e, ok := res.Entity(engine.EntitySize); !ok || e.Value != 43.0 {
		t.Errorf("Expect size: %v", res.Entities)
	}
	res, _ = u.Understand(context.Background(), engine.Query{Text: "el pedido A1002 llega mañana?", Lang: "es", Now: monday})
	if e, ok := res.Entity(engine.EntityOrderID); !ok || e.Value != "A1002" {
		t.Errorf("order id: %v", res.Entities)
	}
	if e, ok := res.Entity(engine.EntityDate); !ok || !e.Value.(time.Time).Equal(monday.AddDate(0, 0, 1).Truncate(24*time.Hour)) {
		t.Errorf("date: %v", res.Entities)
	}
}

func TestClock(t *testing.T) {
	u := newSpanish(t, WithClock(func() time.Time { return monday }))
	res, _ := u.Understand(context.Background(), engine.Query{Text: "mañana", Lang: "es"})
	if e, ok := res.Entity(engine.EntityDate); !ok || e.Value.(time.Time).Day() != 24 {
		t.Errorf("the injected clock must anchor dates: %v", res.Entities)
	}
}

func bilingual(t *testing.T) *Understander {
	t.Helper()
	en := []classify.Example{
		{Text: "hello there", Intent: "greet"}, {Text: "hi", Intent: "greet"}, {Text: "good morning", Intent: "greet"},
		{Text: "where is my order", Intent: "order_status"}, {Text: "my package has not arrived", Intent: "order_status"}, {Text: "track my order please", Intent: "order_status"},
	}
	es := []classify.Example{
		{Text: "hola", Intent: "greet"}, {Text: "buenas tardes", Intent: "greet"}, {Text: "buen día", Intent: "greet"},
		{Text: "dónde está mi pedido", Intent: "order_status"}, {Text: "no me llegó el paquete", Intent: "order_status"}, {Text: "quiero rastrear mi orden", Intent: "order_status"},
	}
	u, err := NewFromData([]Data{{Lang: "es", Examples: es}, {Lang: "en", Examples: en}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestLanguage(t *testing.T) {
	u := bilingual(t)
	tests := []struct{ text, hint, want string }{
		{"where's my order A1002", "", "en"},
		{"che, ¿me podés decir dónde está mi compra?", "", "es"},
		{"my package has not arrived yet", "", "en"},
		{"no me llegó nada", "", "es"},
		{"hola", "en", "en"},     // the channel's hint wins
		{"hello", "es-AR", "es"}, // a regional hint maps to its base
		{"", "", "es"},           // nothing to go on: the default
		{"where is it", "fr", "en"},
	}
	for _, tt := range tests {
		res, err := u.Understand(context.Background(), engine.Query{Text: tt.text, Lang: tt.hint})
		if err != nil {
			t.Fatal(err)
		}
		if res.Lang != tt.want {
			t.Errorf("%q (hint %q): lang %q, want %q", tt.text, tt.hint, res.Lang, tt.want)
		}
	}
	res, _ := u.Understand(context.Background(), engine.Query{Text: "where is my order"})
	if top, _ := res.Top(); top != "order_status" {
		t.Errorf("detected English, then classified: %v", res.Intents)
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	u1 := newSpanish(t, WithCacheDir(dir))
	if s := u1.Stats(); !slices.Equal(s.Trained, []string{"es"}) || len(s.Loaded) != 0 {
		t.Fatalf("first build: %+v", s)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nlu-es-*.model"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	u2 := newSpanish(t, WithCacheDir(dir))
	if s := u2.Stats(); !slices.Equal(s.Loaded, []string{"es"}) || len(s.Trained) != 0 {
		t.Fatalf("second build must hit the cache: %+v", s)
	}
	for _, text := range []string{"hola", "kiero cambiar la talla", "gracias!"} {
		a, _ := u1.Understand(context.Background(), engine.Query{Text: text, Lang: "es"})
		b, _ := u2.Understand(context.Background(), engine.Query{Text: text, Lang: "es"})
		if fmt.Sprint(a.Intents) != fmt.Sprint(b.Intents) {
			t.Errorf("%q: cached model differs: %v vs %v", text, a.Intents, b.Intents)
		}
	}
	// other data: a miss
	ex := append(readSet(t, "es_train.jsonl"), classify.Example{Text: "tienen tienda física?", Intent: "tienda"})
	u3, err := NewFromExamples("es", ex, nil, WithCacheDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if s := u3.Stats(); len(s.Trained) != 1 {
		t.Errorf("changed data must retrain: %+v", s)
	}
	// a damaged file is replaced, not trusted
	if err := os.WriteFile(files[0], []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	u4 := newSpanish(t, WithCacheDir(dir))
	if s := u4.Stats(); len(s.Trained) != 1 {
		t.Errorf("a damaged cache file must be retrained: %+v", s)
	}
	if b, _ := os.ReadFile(files[0]); bytes.Equal(b, []byte("garbage")) {
		t.Error("the damaged cache file was not replaced")
	}
}

func TestDeterminism(t *testing.T) {
	ex := readSet(t, "es_train.jsonl")
	m1, err := classify.Train(ex, classify.Config{Lang: "es"})
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := classify.Train(ex, classify.Config{Lang: "es"})
	b1, _ := m1.MarshalBinary()
	b2, _ := m2.MarshalBinary()
	if !bytes.Equal(b1, b2) {
		t.Error("the same data must give the same model bytes")
	}
}

func TestProgram(t *testing.T) {
	prog := &engine.Program{
		Languages: []string{"es", "en"},
		NLU: []*engine.NLUData{{Lang: "es", Intents: []*engine.IntentData{
			{Name: "saludo", Examples: []string{"hola", "buenas", "buen día", "qué tal"}},
			{Name: "estado_pedido", Examples: []string{"dónde está mi pedido", "no me llega la compra", "rastrear mi orden", "cuándo llega"}},
		}}},
		KB: []*engine.Article{{ID: "horario", Questions: map[string][]string{
			"es": {"a qué hora abren", "cuál es el horario de la tienda", "abren los domingos?", "horario de atención"},
			"en": {"what are your opening hours", "when do you open", "are you open on sundays", "store hours"},
		}}},
	}
	u, err := New(prog)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := u.Understand(context.Background(), engine.Query{Text: "a qué hora abren el sábado?", Lang: "es"})
	if top, _ := res.Top(); top != "kb:horario" {
		t.Errorf("a knowledge-base question: %v", res.Intents)
	}
	res, _ = u.Understand(context.Background(), engine.Query{Text: "when do you open?"})
	if res.Lang != "en" {
		t.Errorf("lang %q", res.Lang)
	}
	if top, _ := res.Top(); top != "kb:horario" {
		t.Errorf("English KB question: %v", res.Intents)
	}
	if !slices.Equal(u.Languages(), []string{"es", "en"}) {
		t.Errorf("languages %v", u.Languages())
	}
}

func TestBadInput(t *testing.T) {
	u := bilingual(t)
	inputs := []string{"", "   ", "\x00\x01\xff\xfe binary \x80", strings.Repeat("hola dónde está mi pedido ", 4000), strings.Repeat("😀", 3000),
		"😀😀😀", "مرحبا 你好 hola привет where", "\u202e\u200d\ufeff", strings.Repeat("a", 100_000)}
	for _, in := range inputs {
		res, err := u.Understand(context.Background(), engine.Query{Text: in})
		if err != nil || res == nil {
			t.Fatalf("%.20q: %v", in, err)
		}
		if res.Intents == nil || res.Entities == nil {
			t.Errorf("%.20q: lists must be empty, not nil", in)
		}
		for _, s := range res.Intents {
			if s.Confidence < 0 || s.Confidence > 1 || s.Intent == classify.OOS {
				t.Errorf("%.20q: bad intent %v", in, s)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := u.Understand(ctx, engine.Query{Text: "hola"}); err == nil {
		t.Error("a cancelled context must be an error")
	}
	if _, err := NewFromExamples("es", nil, nil); err != nil {
		t.Errorf("no examples: %v", err)
	}
}

func BenchmarkUnderstand(b *testing.B) {
	u := newSpanish(b)
	q := engine.Query{Text: "hola, kiero cambiar la talla de mis tenis del pedido #A1002 por la 43", Lang: "es", Now: monday}
	for b.Loop() {
		u.Understand(context.Background(), q)
	}
}

func ExampleUnderstander_Understand() {
	examples := []classify.Example{
		{Text: "hola", Intent: "saludo"}, {Text: "buenas tardes", Intent: "saludo"}, {Text: "buen día", Intent: "saludo"},
		{Text: "dónde está mi pedido", Intent: "estado_pedido"}, {Text: "no me llegó la compra", Intent: "estado_pedido"},
		{Text: "cuándo llega mi paquete", Intent: "estado_pedido"},
	}
	u, _ := NewFromExamples("es", examples, nil)
	res, _ := u.Understand(context.Background(), engine.Query{Text: "holaaa, dónde está mi pedido A1002?", Lang: "es"})
	for _, in := range res.Intents[:2] {
		fmt.Println(in.Intent)
	}
	for _, e := range res.Entities {
		fmt.Println(e.Entity, e.Value)
	}
	// Unordered output:
	// saludo
	// estado_pedido
	// order_id A1002
}

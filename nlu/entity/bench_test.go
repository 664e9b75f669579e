package entity

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/charlabot/charla/engine"
)

// benchTexts are messages with entities of every kind, read with what a
// pending question would expect.
var benchTexts = []struct {
	text   string
	expect []string
}{
	{"quiero cambiar el pedido #A1002 por la talla cuarenta y tres, llega mañana?", nil},
	{"quiero reservar una mesa para cuatro el sábado a las 8 pm", nil},
	{"43", []string{engine.EntitySize}},
	{"la 43", []string{engine.EntitySize}},
	{"el 15", []string{engine.EntityDate}},
	{"una", []string{engine.EntityNumber}},
	{"sí, gracias", []string{engine.EntityBoolean}},
	{"me cobraron $50.000 y mi correo es ana@mail.com", nil},
	{"where's my order # C1234? it was USD 19.99", nil},
	{"book a table for two on the 15th", nil},
}

// shopTexts returns the shop_es and shop_en validation messages beside the
// repository (CHARLA_DATASETS, default ../../../shared/datasets), or nil.
func shopTexts(b *testing.B) []string {
	dir := os.Getenv("CHARLA_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	var out []string
	for _, lang := range []string{"es", "en"} {
		f, err := os.Open(filepath.Join(dir, "shop_"+lang, "val.jsonl"))
		if err != nil {
			return nil
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var ex struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ex) == nil {
				out = append(out, ex.Text)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkExtract reads the messages of benchTexts in turn, each with
// what its question expects.
func BenchmarkExtract(b *testing.B) {
	x, err := New("es", nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t := benchTexts[i%len(benchTexts)]
		x.Extract(t.text, now, t.expect)
		i++
	}
}

// BenchmarkExtractShopVal reads the shop datasets' validation messages in
// turn (chat messages as shoppers write them, most without entities).
func BenchmarkExtractShopVal(b *testing.B) {
	texts := shopTexts(b)
	if len(texts) == 0 {
		b.Skip("shop datasets not found")
	}
	x, err := New("", nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		x.Extract(texts[i%len(texts)], now, nil)
		i++
	}
}

package nlu_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/charlabot/charla/engine"
	"github.com/charlabot/charla/flows"
	"github.com/charlabot/charla/nlu"
	"github.com/charlabot/charla/nlu/eval"
)

// The shop-bot benchmarks read examples/ecommerce (the reference bot: 18
// intents, 11 knowledge-base articles, entities) as the runtime does, and
// the shop_es/shop_en validation texts beside the repository when they are
// there (CHARLA_DATASETS, default ../../shared/datasets).

var shopBot struct {
	once sync.Once
	u    *nlu.Understander
	err  error
}

func shopUnderstander(b *testing.B) *nlu.Understander {
	b.Helper()
	shopBot.once.Do(func() {
		bot, err := flows.LoadDir(filepath.Join("..", "examples", "ecommerce"))
		if err != nil {
			shopBot.err = err
			return
		}
		shopBot.u, shopBot.err = nlu.New(bot.Program, nlu.WithCacheDir(b.TempDir()))
	})
	if shopBot.err != nil {
		b.Fatal(shopBot.err)
	}
	return shopBot.u
}

// benchTurns are the shopper's messages of the bot's bench conversation
// (bench_size_exchange), with what each pending question expects.
var benchTurns = []engine.Query{
	{Text: "hola", Lang: "es"},
	{Text: "quiero cambiar la talla", Lang: "es"},
	{Text: "A1001", Lang: "es", Expect: []string{engine.EntityOrderID}},
	{Text: "43", Lang: "es", Expect: []string{engine.EntitySize}},
	{Text: "sí", Lang: "es", Expect: []string{engine.EntityBoolean}},
}

func shopQueries(b *testing.B) []engine.Query {
	dir := os.Getenv("CHARLA_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "datasets")
	}
	var qs []engine.Query
	for _, lang := range []string{"es", "en"} {
		ex, err := eval.ReadFile(filepath.Join(dir, "shop_"+lang, "val.jsonl"))
		if err != nil {
			b.Skip("dataset not found:", err)
		}
		for _, e := range ex {
			qs = append(qs, engine.Query{Text: e.Text, Lang: lang})
		}
	}
	return qs
}

// BenchmarkUnderstandShopTurns understands the five messages of the shop
// bot's bench conversation in turn, and reports the p50 and p99 of one
// call, wall time and the calling thread's CPU time.
func BenchmarkUnderstandShopTurns(b *testing.B) {
	measureUnderstand(b, shopUnderstander(b), benchTurns)
}

// BenchmarkUnderstandShopVal understands the shop_es and shop_en
// validation messages (chat messages of up to 250 characters) in turn.
func BenchmarkUnderstandShopVal(b *testing.B) {
	measureUnderstand(b, shopUnderstander(b), shopQueries(b))
}

// BenchmarkUnderstandShopParallel understands the validation messages from
// every core at once (as conversations run), for -cpuprofile and
// -mutexprofile: nothing on this path may take a process-wide lock.
func BenchmarkUnderstandShopParallel(b *testing.B) {
	u := shopUnderstander(b)
	qs := append(shopQueries(b), benchTurns...)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			q := qs[i%len(qs)]
			q.Now = now
			if _, err := u.Understand(context.Background(), q); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func measureUnderstand(b *testing.B, u *nlu.Understander, qs []engine.Query) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var d, c []time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := qs[i%len(qs)]
		q.Now = now
		start, cpu := time.Now(), threadCPU()
		if _, err := u.Understand(context.Background(), q); err != nil {
			b.Fatal(err)
		}
		c = append(c, threadCPU()-cpu)
		d = append(d, time.Since(start))
		i++
	}
	slices.Sort(d)
	slices.Sort(c)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1e3, "p50_us")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1e3, "p99_us")
	if haveThreadCPU {
		b.ReportMetric(float64(c[len(c)/2].Nanoseconds())/1e3, "cpu_p50_us")
		b.ReportMetric(float64(c[len(c)*99/100].Nanoseconds())/1e3, "cpu_p99_us")
	}
}

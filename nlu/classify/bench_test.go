package classify

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// The benchmarks read the shared datasets beside the repository
// (CHARLA_DATASETS, default ../../../shared/datasets) and skip without them.
func dataset(b *testing.B, name, file string) []Example {
	dir := os.Getenv("CHARLA_DATASETS")
	if dir == "" {
		dir = "../../../shared/datasets"
	}
	f, err := os.Open(filepath.Join(dir, name, file))
	if err != nil {
		b.Skip("dataset not found:", err)
	}
	defer f.Close()
	var out []Example
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ex Example
		if json.Unmarshal(sc.Bytes(), &ex) == nil && ex.Intent != "" {
			out = append(out, ex)
		}
	}
	return out
}

// BenchmarkClassifyCLINC150 classifies the CLINC150 test texts with a
// model of 150 intents (and oos) trained on its train split.
func BenchmarkClassifyCLINC150(b *testing.B) {
	m, err := Fit(dataset(b, "clinc150", "train.jsonl"), Config{Lang: "en"})
	if err != nil {
		b.Fatal(err)
	}
	test := dataset(b, "clinc150", "test.jsonl")
	measureClassify(b, m, test)
}

// measureClassify classifies the texts in turn and reports the p50 and p99
// of the wall time of one classification and, on Linux, of the CPU time
// the classifying thread used (which a loaded machine does not inflate).
func measureClassify(b *testing.B, m *Model, test []Example) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var d, c []time.Duration
	i := 0
	for b.Loop() {
		start, cpu := time.Now(), threadCPU()
		m.Confidences(test[i%len(test)].Text)
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

// BenchmarkClassifyShopES classifies the shop_es validation texts with a
// model trained on its train split (20 intents and the background class).
func BenchmarkClassifyShopES(b *testing.B) {
	m, err := Fit(dataset(b, "shop_es", "train.jsonl"), Config{Lang: "es"})
	if err != nil {
		b.Fatal(err)
	}
	measureClassify(b, m, dataset(b, "shop_es", "val.jsonl"))
}

// BenchmarkTrainCLINC150 trains on CLINC150's 15,100 examples (the
// calibrated Train: a fit on four fifths, then on everything) and reports
// the heap the model holds.
func BenchmarkTrainCLINC150(b *testing.B) {
	train := dataset(b, "clinc150", "train.jsonl")
	var m *Model
	cpu0 := processCPU()
	for b.Loop() {
		var err error
		if m, err = Train(train, Config{Lang: "en"}); err != nil {
			b.Fatal(err)
		}
	}
	if haveThreadCPU {
		// CPU seconds of the process per training: on a machine shared
		// with other work the wall time can be twice what two free cores
		// take, the CPU time barely moves
		b.ReportMetric((processCPU()-cpu0).Seconds()/float64(b.N), "cpu_s")
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/1e6, "heap_MB")
	data, _ := m.MarshalBinary()
	b.ReportMetric(float64(len(data))/1e6, "model_MB")
}

package classify

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// trainOVR trains one linear L2-regularised squared-hinge SVM per class
// (one against the rest) by dual coordinate descent with shrinking, as
// LIBLINEAR does (Hsieh et al., 2008). It returns, per class, nFeat
// weights followed by the bias. Classes train in parallel; each class's
// order of visits comes from its own seeded generator, so the result does
// not depend on scheduling.
//
// weight, when not nil, scales C per example (a background example may
// count less than one the designer wrote).
func trainOVR(X []sparse, y []int32, weight []float64, nFeat, nClass int, C float64, maxIter int, seed uint64) [][]float32 {
	diag := make([]float64, len(X))
	for i := range diag {
		c := C
		if weight != nil {
			c *= weight[i]
		}
		diag[i] = 0.5 / c
	}
	xx := make([]float64, len(X))
	for i, x := range X {
		s := 1.0 // the bias feature
		for _, v := range x.val {
			s += float64(v) * float64(v)
		}
		xx[i] = s
	}
	out := make([][]float32, nClass)
	var wg sync.WaitGroup
	next := make(chan int)
	workers := runtime.GOMAXPROCS(0)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := make([]float64, nFeat+1)
			for k := range next {
				clear(w)
				binarySVM(X, y, int32(k), xx, diag, w, maxIter, seed+uint64(k)*0x9E3779B97F4A7C15)
				out[k] = make([]float32, nFeat+1)
				for i, v := range w {
					out[k][i] = float32(v)
				}
			}
		}()
	}
	for k := range nClass {
		next <- k
	}
	close(next)
	wg.Wait()
	return out
}

func binarySVM(X []sparse, y []int32, pos int32, xx, diag, w []float64, maxIter int, seed uint64) {
	const eps = 0.1
	l := len(X)
	bias := len(w) - 1
	alpha := make([]float64, l)
	index := make([]int, l)
	for i := range index {
		index[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x5DEECE66D))
	active := l
	pgMaxOld := math.Inf(1)
	for iter := 0; iter < maxIter; iter++ {
		pgMaxNew, pgMinNew := math.Inf(-1), math.Inf(1)
		for i := 0; i < active; i++ {
			j := i + rng.IntN(active-i)
			index[i], index[j] = index[j], index[i]
		}
		for s := 0; s < active; s++ {
			i := index[s]
			yi := -1.0
			if y[i] == pos {
				yi = 1
			}
			x := X[i]
			dot := w[bias]
			for j, f := range x.idx {
				dot += w[f] * float64(x.val[j])
			}
			g := yi*dot - 1 + alpha[i]*diag[i]
			pg := 0.0
			if alpha[i] == 0 {
				if g > pgMaxOld {
					active--
					index[s], index[active] = index[active], index[s]
					s--
					continue
				}
				if g < 0 {
					pg = g
				}
			} else {
				pg = g
			}
			pgMaxNew = max(pgMaxNew, pg)
			pgMinNew = min(pgMinNew, pg)
			if math.Abs(pg) > 1e-12 {
				old := alpha[i]
				alpha[i] = max(alpha[i]-g/(xx[i]+diag[i]), 0)
				d := (alpha[i] - old) * yi
				for j, f := range x.idx {
					w[f] += d * float64(x.val[j])
				}
				w[bias] += d
			}
		}
		if pgMaxNew-pgMinNew <= eps {
			if active == l {
				break
			}
			active = l
			pgMaxOld = math.Inf(1)
			continue
		}
		pgMaxOld = pgMaxNew
		if pgMaxOld <= 0 {
			pgMaxOld = math.Inf(1)
		}
	}
}

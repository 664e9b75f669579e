package classify

import "math/bits"

// hashIndex maps feature hashes to vocabulary indices: an open-addressing
// table (linear probing) in two flat arrays, read without locks by every
// classification. It holds no pointers, so the garbage collector does not
// walk it, and a look-up is one or two cache lines where a Go map takes
// several steps.
type hashIndex struct {
	keys  []uint64
	vals  []int32 // -1: empty
	shift uint
}

func newHashIndex(n int) *hashIndex {
	size := 16
	for size < 2*n {
		size *= 2
	}
	t := &hashIndex{keys: make([]uint64, size), vals: make([]int32, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	for i := range t.vals {
		t.vals[i] = -1
	}
	return t
}

func (t *hashIndex) slot(h uint64) uint64 { return (h * 0x9E3779B97F4A7C15) >> t.shift }

// set maps h to v (v ≥ 0); h must not be in the table yet.
func (t *hashIndex) set(h uint64, v int32) {
	mask := uint64(len(t.keys) - 1)
	i := t.slot(h)
	for t.vals[i] >= 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = h, v
}

// put maps h to v (v ≥ 0), replacing what h mapped to.
func (t *hashIndex) put(h uint64, v int32) {
	mask := uint64(len(t.keys) - 1)
	i := t.slot(h)
	for t.vals[i] >= 0 && t.keys[i] != h {
		i = (i + 1) & mask
	}
	t.keys[i], t.vals[i] = h, v
}

// get returns the index of h, or -1.
func (t *hashIndex) get(h uint64) int32 {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		v := t.vals[i]
		if v < 0 || t.keys[i] == h {
			return v
		}
	}
}

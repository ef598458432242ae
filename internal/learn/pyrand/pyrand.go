// Package pyrand reproduces the two Mersenne Twister generators River's
// code draws from: CPython's random.Random and NumPy's legacy RandomState.
// With the same seed they give the same numbers, so olops' seeded
// synthetic streams, KSWIN, HAT's bootstrap and the forests' Poisson
// weights match River's draw for draw.
package pyrand

import (
	"math"

	"github.com/olops/olops/internal/learn/libm"
)

const n = 624

// MT is the MT19937 state. Its fields are exported so that holders can
// snapshot it with encoding/gob.
type MT struct {
	State [n]uint32
	Pos   int
}

func (m *MT) initGenrand(s uint32) {
	m.State[0] = s
	for i := 1; i < n; i++ {
		m.State[i] = 1812433253*(m.State[i-1]^(m.State[i-1]>>30)) + uint32(i)
	}
	m.Pos = n
}

// Uint32 returns the next 32 random bits (genrand_uint32).
func (m *MT) Uint32() uint32 {
	const upper, lower = 0x80000000, 0x7fffffff
	if m.Pos >= n {
		mag := [2]uint32{0, 0x9908b0df}
		var k int
		for ; k < n-397; k++ {
			y := (m.State[k] & upper) | (m.State[k+1] & lower)
			m.State[k] = m.State[k+397] ^ (y >> 1) ^ mag[y&1]
		}
		for ; k < n-1; k++ {
			y := (m.State[k] & upper) | (m.State[k+1] & lower)
			m.State[k] = m.State[k+397-n] ^ (y >> 1) ^ mag[y&1]
		}
		y := (m.State[n-1] & upper) | (m.State[0] & lower)
		m.State[n-1] = m.State[396] ^ (y >> 1) ^ mag[y&1]
		m.Pos = 0
	}
	y := m.State[m.Pos]
	m.Pos++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Float64 returns a float in [0, 1) from 53 random bits, as both
// random.random() and RandomState.rand() do.
func (m *MT) Float64() float64 {
	a, b := m.Uint32()>>5, m.Uint32()>>6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// Python is CPython's random.Random.
type Python struct{ MT }

// NewPython returns random.Random(seed).
func NewPython(seed int64) *Python {
	p := &Python{}
	p.Seed(seed)
	return p
}

// Seed mirrors random.seed(int): init_by_array over the absolute value's
// 32-bit words, least significant first.
func (p *Python) Seed(seed int64) {
	u := uint64(seed)
	if seed < 0 {
		u = uint64(-seed)
	}
	key := []uint32{uint32(u)}
	if u>>32 != 0 {
		key = append(key, uint32(u>>32))
	}
	m := &p.MT
	m.initGenrand(19650218)
	i, j := 1, 0
	for k := max(n, len(key)); k > 0; k-- {
		m.State[i] = (m.State[i] ^ ((m.State[i-1] ^ (m.State[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= n {
			m.State[0] = m.State[n-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := n - 1; k > 0; k-- {
		m.State[i] = (m.State[i] ^ ((m.State[i-1] ^ (m.State[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= n {
			m.State[0] = m.State[n-1]
			i = 1
		}
	}
	m.State[0] = 0x80000000
	m.Pos = n
}

// Random is random.random().
func (p *Python) Random() float64 { return p.Float64() }

// Poisson is river.utils.random.poisson(rate, rng) (Knuth's method),
// which River's bagging trees and forests draw their sample weights from.
func (p *Python) Poisson(rate float64) int {
	l := libm.Exp(-rate)
	k, prod := 0, 1.0
	for prod > l {
		k++
		prod *= p.Random()
	}
	return k - 1
}

// Uniform is random.uniform(a, b).
func (p *Python) Uniform(a, b float64) float64 { return a + (b-a)*p.Float64() }

// Below is random._randbelow(k) for 0 < k < 2^32.
func (p *Python) Below(k int) int {
	bits := 0
	for v := k; v > 0; v >>= 1 {
		bits++
	}
	for {
		x := int(p.Uint32() >> (32 - bits))
		if x < k {
			return x
		}
	}
}

// Sample is random.sample(range(pop), k), written into dst; pool is
// scratch space (pass one of capacity pop to avoid allocating).
func (p *Python) Sample(pop, k int, dst, pool []int) []int {
	dst = dst[:0]
	setsize := 21
	if k > 5 {
		setsize += int(math.Pow(4, math.Ceil(libm.Log(float64(k*3))/libm.Log(4))))
	}
	if pop <= setsize {
		pool = pool[:0]
		for i := 0; i < pop; i++ {
			pool = append(pool, i)
		}
		for i := 0; i < k; i++ {
			j := p.Below(pop - i)
			dst = append(dst, pool[j])
			pool[j] = pool[pop-i-1]
		}
		return dst
	}
	// CPython keeps a set of the chosen; k is small, so a scan is as good.
	for i := 0; i < k; i++ {
		j := p.Below(pop)
		for contains(dst, j) {
			j = p.Below(pop)
		}
		dst = append(dst, j)
	}
	return dst
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// NumPy is NumPy's legacy RandomState (np.random.RandomState(seed)).
type NumPy struct {
	MT
	HasGauss bool
	Gauss    float64
}

// NewNumPy returns np.random.RandomState(seed) for 0 <= seed < 2^32
// (other seeds are reduced to their low 32 bits).
func NewNumPy(seed int64) *NumPy {
	r := &NumPy{}
	r.initGenrand(uint32(seed))
	return r
}

// Rand is RandomState.rand().
func (r *NumPy) Rand() float64 { return r.Float64() }

// Randint is RandomState.randint(k): masked rejection sampling.
func (r *NumPy) Randint(k int) int {
	rng := uint32(k - 1)
	if rng == 0 {
		return 0
	}
	mask := rng
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		v := r.Uint32() & mask
		if v <= rng {
			return int(v)
		}
	}
}

// Normal is RandomState.normal(): the polar Box-Muller method, keeping
// the second value for the next call.
func (r *NumPy) Normal() float64 {
	if r.HasGauss {
		r.HasGauss = false
		g := r.Gauss
		r.Gauss = 0
		return g
	}
	var x1, x2, r2 float64
	for {
		x1 = 2*r.Float64() - 1
		x2 = 2*r.Float64() - 1
		r2 = x1*x1 + x2*x2
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * libm.Log(r2) / r2)
	r.Gauss, r.HasGauss = f*x1, true
	return f * x2
}

package tree

import "math"

// pyRandom is Python's random.Random (MT19937 seeded by init_by_array),
// so that HoeffdingAdaptiveTreeClassifier(seed=s) draws the same bootstrap
// weights as River. Fields are exported for gob.
type pyRandom struct {
	MT  [624]uint32
	Idx int
}

func newPyRandom(seed int64) *pyRandom {
	r := &pyRandom{}
	r.seed(seed)
	return r
}

func (r *pyRandom) initGenrand(s uint32) {
	r.MT[0] = s
	for i := 1; i < 624; i++ {
		r.MT[i] = 1812433253*(r.MT[i-1]^(r.MT[i-1]>>30)) + uint32(i)
	}
	r.Idx = 624
}

// seed is random.seed(int): the absolute value's 32-bit words, least
// significant first, fed to init_by_array.
func (r *pyRandom) seed(seed int64) {
	u := uint64(seed)
	if seed < 0 {
		u = uint64(-seed)
	}
	key := []uint32{uint32(u)}
	if u>>32 != 0 {
		key = append(key, uint32(u>>32))
	}
	r.initGenrand(19650218)
	mt := &r.MT
	i, j := 1, 0
	for k := max(624, len(key)); k > 0; k-- {
		mt[i] = (mt[i] ^ ((mt[i-1] ^ (mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			mt[0] = mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := 623; k > 0; k-- {
		mt[i] = (mt[i] ^ ((mt[i-1] ^ (mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			mt[0] = mt[623]
			i = 1
		}
	}
	mt[0] = 0x80000000
}

func (r *pyRandom) uint32() uint32 {
	mt := &r.MT
	if r.Idx >= 624 {
		for k := 0; k < 624; k++ {
			y := (mt[k] & 0x80000000) | (mt[(k+1)%624] & 0x7fffffff)
			v := mt[(k+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			mt[k] = v
		}
		r.Idx = 0
	}
	y := mt[r.Idx]
	r.Idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// random is random.random(): 53 random bits in [0, 1).
func (r *pyRandom) random() float64 {
	a, b := r.uint32()>>5, r.uint32()>>6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// poisson is river.utils.random.poisson (Knuth's method).
func (r *pyRandom) poisson(rate float64) int {
	l := math.Exp(-rate)
	k, p := 0, 1.0
	for p > l {
		k++
		p *= r.random()
	}
	return k - 1
}

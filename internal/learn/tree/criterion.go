package tree

import "math"

// criterion scores a candidate split of a class distribution (River's
// split_criterion classes). Distributions are summed in dict order, as
// River does, so merits are bit-identical.
type criterion struct {
	kind              string // info_gain, gini, hellinger
	minBranchFraction float64
	nSplits           int // the Gaussian splitter's n_splits, carried here for the splitters

	// preH is entropy(pre) when hasPre: one split attempt scores many
	// candidates against the same pre-split distribution.
	preH   float64
	hasPre bool
}

// withPre returns the criterion with pre's entropy computed once (the
// same float operations as merit would do for each candidate).
func (c criterion) withPre(pre *dist) criterion {
	if c.kind == "info_gain" {
		c.preH, c.hasPre = entropy(pre), true
	}
	return c
}

// rangeOfMerit is the range R of the Hoeffding bound.
func (c criterion) rangeOfMerit(pre *dist) float64 {
	if c.kind != "info_gain" {
		return 1
	}
	n := len(pre.Cls)
	if n < 2 {
		n = 2
	}
	return math.Log2(float64(n))
}

// merit of splitting pre into post; -Inf when fewer than two branches hold
// more than minBranchFraction of the weight.
func (c criterion) merit(pre *dist, post []dist) float64 {
	if subsetsGreaterThanFrac(post, c.minBranchFraction) < 2 {
		return math.Inf(-1)
	}
	switch c.kind {
	case "gini":
		return giniMerit(post)
	case "hellinger":
		return hellinger(post)
	}
	if c.hasPre {
		return c.preH - entropyList(post)
	}
	return entropy(pre) - entropyList(post)
}

func subsetsGreaterThanFrac(post []dist, frac float64) int {
	total := 0.0
	var sums [8]float64
	s := sums[:0]
	for i := range post {
		w := post[i].sum()
		s = append(s, w)
		total += w
	}
	n := 0
	if total > 0 {
		for _, w := range s {
			if w/total > frac {
				n++
			}
		}
	}
	return n
}

// entropy is River's _compute_entropy_dict.
func entropy(d *dist) float64 {
	e, sum := 0.0, 0.0
	for _, w := range d.W {
		if w > 0 {
			e -= w * log2(w)
			sum += w
		}
	}
	if sum > 0 {
		return (e + sum*log2(sum)) / sum
	}
	return 0
}

// log2 is math.Log2 with its Frexp inlined for positive normal numbers
// (the same float operations, so bit-identical): split attempts spend most
// of their time in it.
func log2(x float64) float64 {
	b := math.Float64bits(x)
	e := b >> 52 // the biased exponent when the sign bit is 0
	if e-1 >= 0x7fe {
		return math.Log2(x) // negative, zero, subnormal, Inf or NaN
	}
	frac := math.Float64frombits(b&(1<<52-1) | 1022<<52) // in [0.5, 1)
	if frac == 0.5 {
		return float64(int(e) - 1023)
	}
	return math.Log(frac)*(1/math.Ln2) + float64(int(e)-1022)
}

// entropyList is River's _compute_entropy_list: the weighted mean entropy.
func entropyList(post []dist) float64 {
	total := 0.0
	var ws [8]float64
	w := ws[:0]
	for i := range post {
		s := post[i].sum()
		w = append(w, s)
		total += s
	}
	e := 0.0
	for i := range post {
		e += w[i] * entropy(&post[i])
	}
	return e / total
}

func giniMerit(post []dist) float64 {
	total := 0.0
	var ws [8]float64
	w := ws[:0]
	for i := range post {
		s := post[i].sum()
		w = append(w, s)
		total += s
	}
	g := 0.0
	for i := range post {
		g += (w[i] / total) * gini(&post[i], w[i])
	}
	return 1.0 - g
}

func gini(d *dist, sum float64) float64 {
	g := 1.0
	if sum != 0 {
		for _, w := range d.W {
			f := w / sum
			g -= f * f
		}
	}
	return g
}

// hellinger is River's HellingerDistanceCriterion for binary targets:
// class ids 0 (negative) and 1 (positive) in a two-way split.
func hellinger(post []dist) float64 {
	if len(post) != 2 {
		return 0
	}
	ln, lp, rn, rp := post[0].find(0), post[0].find(1), post[1].find(0), post[1].find(1)
	if ln < 0 || lp < 0 || rn < 0 || rp < 0 {
		return 0
	}
	lneg, lpos := post[0].W[ln], post[0].W[lp]
	rneg, rpos := post[1].W[rn], post[1].W[rp]
	tneg, tpos := lneg+rneg, lpos+rpos
	a := math.Sqrt(lneg/tneg) - math.Sqrt(lpos/tpos)
	b := math.Sqrt(rneg/tneg) - math.Sqrt(rpos/tpos)
	return math.Sqrt(a*a + b*b)
}

package tree

import (
	"math"

	"github.com/olops/olops/internal/learn/libm"
)

// Gauss is River's proba.Gaussian over a weighted Welford variance
// (stats.Var with ddof=1), kept to the same float operations so that
// its variance, density parameters and cdf are bit-identical.
type Gauss struct {
	N, Mean, S float64
}

// Update adds x with weight w.
func (g *Gauss) Update(x, w float64) {
	old := g.Mean
	g.N += w
	g.Mean += (w / g.N) * (x - g.Mean)
	g.S += w * (x - old) * (x - g.Mean)
}

// Var is the sample variance (0 until more than one unit of weight).
func (g *Gauss) Var() float64 {
	if g.N > 1 {
		return g.S / (g.N - 1)
	}
	return 0
}

// densityParams are River's density's -2·variance, its normaliser
// sqrt(2πv) and the normaliser's log; all 0 while the variance is 0.
func (g *Gauss) densityParams() (neg2v, norm, lnNorm float64) {
	v := g.Var()
	if v == 0 {
		return 0, 0, 0
	}
	norm = math.Sqrt(2 * math.Pi * v)
	return -2 * v, norm, libm.Log(norm)
}

// CDF is P(X <= x); 0 while the variance is 0 (River's ZeroDivisionError
// branch).
func (g *Gauss) CDF(x float64) float64 {
	sigma := math.Sqrt(g.Var())
	den := sigma * math.Sqrt2
	if den == 0 {
		return 0
	}
	return 0.5 * (1.0 + math.Erf((x-g.Mean)/den))
}

// dist is a class distribution in River's dict order: class ids in the
// order they were first added, with their weights. A class can be present
// with weight 0 (River keeps such keys, and they change naive Bayes votes).
type dist struct {
	Cls []int32
	W   []float64
}

func (d *dist) clone() dist {
	return dist{Cls: append([]int32(nil), d.Cls...), W: append([]float64(nil), d.W...)}
}

func (d *dist) find(c int) int {
	for i, k := range d.Cls {
		if int(k) == c {
			return i
		}
	}
	return -1
}

// add adds w to class c, appending it when new.
func (d *dist) add(c int, w float64) {
	if i := d.find(c); i >= 0 {
		d.W[i] += w
		return
	}
	d.Cls = append(d.Cls, int32(c))
	d.W = append(d.W, w)
}

// sum is the total weight, summed in dict order like Python's sum().
func (d *dist) sum() float64 {
	s := 0.0
	for _, w := range d.W {
		s += w
	}
	return s
}

// maxW is max(d.values()).
func (d *dist) maxW() float64 {
	m := math.Inf(-1)
	for _, w := range d.W {
		if w > m {
			m = w
		}
	}
	return m
}

// argmaxNorm is max(normalized, key=get): the first class with the
// largest normalized weight.
func (d *dist) argmaxNorm() int {
	tot := d.sum()
	best, bv := -1, math.Inf(-1)
	for i, w := range d.W {
		if v := w / tot; v > bv {
			best, bv = int(d.Cls[i]), v
		}
	}
	return best
}

// pure reports fewer than two classes with non-zero weight.
func (d *dist) pure() bool {
	n := 0
	for _, w := range d.W {
		if w != 0 {
			n++
			if n == 2 {
				return false
			}
		}
	}
	return true
}

package tree

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/olops/olops/internal/learn/drift"
)

// refAdwin is a literal transcription of River 0.21's adwin_c.pyx
// (AdaptiveWindowing + Bucket), used to cross-check the drift package's
// ADWIN, which the adaptive trees depend on.
type refBucket struct {
	idx   int
	total [6]float64
	vari  [6]float64
}

type refAdwin struct {
	delta                  float64
	rows                   []*refBucket
	total, variance, width float64
	tick                   int
	detected               bool
}

func newRefAdwin() *refAdwin { return &refAdwin{delta: 0.002, rows: []*refBucket{{}}} }

func (b *refBucket) insert(v, vr float64) { b.total[b.idx], b.vari[b.idx] = v, vr; b.idx++ }
func (b *refBucket) compress(n int) {
	for i := n; i < 6; i++ {
		b.total[i-n], b.vari[i-n] = b.total[i], b.vari[i]
	}
	for i := 6 - n; i < 6; i++ {
		b.total[i], b.vari[i] = 0, 0
	}
	b.idx -= n
}

func (a *refAdwin) update(x float64) bool {
	if a.detected {
		*a = *newRefAdwin()
	}
	a.rows[0].insert(x, 0)
	a.width++
	if a.width > 1 {
		a.variance += (a.width - 1) * (x - a.total/(a.width-1)) * (x - a.total/(a.width-1)) / a.width
	}
	a.total += x
	// compress
	for idx := 0; idx < len(a.rows); idx++ {
		b := a.rows[idx]
		if b.idx != 6 {
			break
		}
		if idx+1 >= len(a.rows) {
			a.rows = append(a.rows, &refBucket{})
		}
		nb := a.rows[idx+1]
		n1 := math.Pow(2, float64(idx))
		mu1, mu2 := b.total[0]/n1, b.total[1]/n1
		nb.insert(b.total[0]+b.total[1], b.vari[0]+b.vari[1]+n1*n1*(mu1-mu2)*(mu1-mu2)/(n1+n1))
		b.compress(2)
		if nb.idx <= 5 {
			break
		}
	}
	// detect
	change := false
	a.tick++
	if a.tick%32 == 0 && a.width > 10 {
		for reduce := true; reduce; {
			reduce = false
			exit := false
			n0, n1, u0, u1 := 0.0, a.width, 0.0, a.total
			for idx := len(a.rows) - 1; idx >= 0 && !exit; idx-- {
				b := a.rows[idx]
				for k := 0; k < b.idx-1; k++ {
					n2 := math.Pow(2, float64(idx))
					n0 += n2
					n1 -= n2
					u0 += b.total[k]
					u1 -= b.total[k]
					if idx == 0 && k == b.idx-1 {
						exit = true
						break
					}
					dm := u0/n0 - u1/n1
					if n1 >= 5 && n0 >= 5 {
						dp := math.Log(2 * math.Log(a.width) / a.delta)
						m := 1/(n0-5+1) + 1/(n1-5+1)
						eps := math.Sqrt(2*m*(a.variance/a.width)*dp) + 2.0/3.0*dp*m
						if math.Abs(dm) > eps {
							reduce, change = true, true
							if a.width > 0 {
								last := a.rows[len(a.rows)-1]
								n := math.Pow(2, float64(len(a.rows)-1))
								u, v := last.total[0], last.vari[0]
								mu := u / n
								a.width -= n
								a.total -= u
								muW := a.total / a.width
								a.variance -= v + n*a.width*(mu-muW)*(mu-muW)/(n+a.width)
								last.compress(1)
								if last.idx == 0 {
									a.rows = a.rows[:len(a.rows)-1]
								}
								n0 -= n
								exit = true
								break
							}
						}
					}
				}
			}
		}
	}
	a.detected = change
	return change
}

// TestADWINMatchesRiverTranscription feeds the drift package's ADWIN and a
// literal transcription of River's Cython the same 0/1 error streams.
func TestADWINMatchesRiverTranscription(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for s := 0; s < 40; s++ {
		a, b := drift.NewADWIN(0.002), newRefAdwin()
		p := 0.1 + 0.8*r.Float64()
		for i := 0; i < 6000; i++ {
			if i%1500 == 0 {
				p = 0.05 + 0.9*r.Float64()
			}
			x := 0.0
			if r.Float64() < p {
				x = 1
			}
			if da, db := a.Update(x), b.update(x); da != db {
				t.Fatalf("stream %d row %d: drift package %v, River transcription %v", s, i, da, db)
			}
		}
	}
}

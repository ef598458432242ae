package drift

import (
	"fmt"
	"math"
	"slices"

	"github.com/olops/olops/internal/learn/pyrand"
	"github.com/olops/olops/internal/learn/snap"
)

// PageHinkley is River's two-sided Page-Hinkley test on a fading mean. It
// starts afresh on the update after a drift.
type PageHinkley struct {
	MinInstances int
	Delta        float64
	Threshold    float64
	Alpha        float64
	Mode         string // up, down or both

	N          float64
	Mean       float64
	SumInc     float64
	SumDec     float64
	MinInc     float64
	MaxDec     float64
	DriftFound bool
}

// NewPageHinkley returns a PageHinkley with River's defaults.
func NewPageHinkley() *PageHinkley {
	p := &PageHinkley{MinInstances: 30, Delta: 0.005, Threshold: 50, Alpha: 1 - 0.0001, Mode: "both"}
	p.Reset()
	return p
}

// Reset forgets everything seen.
func (p *PageHinkley) Reset() {
	p.N, p.Mean, p.SumInc, p.SumDec = 0, 0, 0, 0
	p.MinInc, p.MaxDec = math.Inf(1), -1
	p.DriftFound = false
}

// Warning is always false: Page-Hinkley has no warning zone.
func (p *PageHinkley) Warning() bool { return false }

// Update adds x and reports a drift.
func (p *PageHinkley) Update(x float64) bool {
	if p.DriftFound {
		p.Reset()
	}
	p.N++
	p.Mean += (x - p.Mean) / p.N
	dev := x - p.Mean
	p.SumInc = p.Alpha*p.SumInc + dev - p.Delta
	p.SumDec = p.Alpha*p.SumDec + dev + p.Delta
	p.MinInc = min(p.MinInc, p.SumInc)
	p.MaxDec = max(p.MaxDec, p.SumDec)
	if p.N >= float64(p.MinInstances) {
		up := p.SumInc-p.MinInc > p.Threshold
		down := p.MaxDec-p.SumDec > p.Threshold
		switch p.Mode {
		case "up":
			p.DriftFound = up
		case "down":
			p.DriftFound = down
		default:
			p.DriftFound = up || down
		}
	}
	return p.DriftFound
}

// MarshalBinary saves the full state.
func (p *PageHinkley) MarshalBinary() ([]byte, error) { return snap.Encode((*phState)(p)) }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (p *PageHinkley) UnmarshalBinary(b []byte) error {
	var s PageHinkley
	if err := snap.Decode(b, (*phState)(&s), "page_hinkley"); err != nil {
		return err
	}
	*p = s
	return nil
}

// DDM is River's drift.binary.DDM on a 0/1 error stream. It starts afresh
// on the update after a drift.
type DDM struct {
	WarmStart        int
	WarningThreshold float64
	DriftThreshold   float64

	N, P              float64 // running mean of the errors
	PMin, SMin, PSMin float64
	Warn, DriftFound  bool
}

// NewDDM returns a DDM with River's defaults.
func NewDDM() *DDM {
	d := &DDM{WarmStart: 30, WarningThreshold: 2, DriftThreshold: 3}
	d.Reset()
	return d
}

// Reset forgets everything seen.
func (d *DDM) Reset() {
	d.N, d.P = 0, 0
	d.PMin, d.SMin, d.PSMin = math.Inf(1), math.Inf(1), math.Inf(1)
	d.Warn, d.DriftFound = false, false
}

// Warning reports whether the error rate is in the warning zone.
func (d *DDM) Warning() bool { return d.Warn }

// Update adds x (1 error, 0 correct; other values are taken as their
// truth value, as Python's bool) and reports a drift.
func (d *DDM) Update(x float64) bool {
	if d.DriftFound {
		d.Reset()
	}
	if x != 0 {
		x = 1
	}
	d.N++
	d.P += (x - d.P) / d.N
	s := math.Sqrt(d.P * (1 - d.P) / d.N)
	if d.N > float64(d.WarmStart) {
		if d.P+s <= d.PSMin {
			d.PMin, d.SMin = d.P, s
			d.PSMin = d.PMin + d.SMin
		}
		d.Warn = d.P+s > d.PMin+d.WarningThreshold*d.SMin
		if d.P+s > d.PMin+d.DriftThreshold*d.SMin {
			d.DriftFound, d.Warn = true, false
		}
	}
	return d.DriftFound
}

// MarshalBinary saves the full state.
func (d *DDM) MarshalBinary() ([]byte, error) { return snap.Encode((*ddmState)(d)) }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (d *DDM) UnmarshalBinary(b []byte) error {
	var s DDM
	if err := snap.Decode(b, (*ddmState)(&s), "ddm"); err != nil {
		return err
	}
	*d = s
	return nil
}

// KSWIN is River's Kolmogorov-Smirnov windowing detector: once the window
// is full, StatSize values drawn at random from its older part are
// compared with its StatSize newest values by a two-sample KS test
// (SciPy's exact p-value). The draws use CPython's generator, so a seed
// gives River's draws. It starts afresh on the update after a drift.
type KSWIN struct {
	Alpha      float64
	WindowSize int
	StatSize   int
	Seed       int64

	Window     []float64 // oldest first
	PValue     float64
	N          int
	DriftFound bool
	Rng        *pyrand.Python

	idx, pool []int
	a, b, all []float64
}

// NewKSWIN returns a KSWIN with River's defaults and the given seed.
func NewKSWIN(seed int64) *KSWIN {
	k := &KSWIN{Alpha: 0.005, WindowSize: 100, StatSize: 30, Seed: seed}
	k.Reset()
	return k
}

// Reset empties the window and reseeds the generator, as River does.
func (k *KSWIN) Reset() {
	k.Window = k.Window[:0]
	k.PValue, k.N, k.DriftFound = 0, 0, false
	k.Rng = pyrand.NewPython(k.Seed)
}

// Warning is always false: KSWIN has no warning zone.
func (k *KSWIN) Warning() bool { return false }

// Update adds x and reports a drift.
func (k *KSWIN) Update(x float64) bool {
	if k.DriftFound {
		k.Reset()
	}
	k.N++
	if len(k.Window) == k.WindowSize {
		copy(k.Window, k.Window[1:])
		k.Window[len(k.Window)-1] = x
	} else {
		k.Window = append(k.Window, x)
	}
	if len(k.Window) < k.WindowSize {
		return false
	}
	old := k.WindowSize - k.StatSize
	if cap(k.pool) < old {
		k.pool = make([]int, 0, old)
	}
	k.idx = k.Rng.Sample(old, k.StatSize, k.idx, k.pool)
	k.a = k.a[:0]
	for _, i := range k.idx {
		k.a = append(k.a, k.Window[i])
	}
	k.b = append(k.b[:0], k.Window[old:]...)
	var st float64
	st, k.PValue = k.ks2samp()
	if k.PValue <= k.Alpha && st > 0.1 {
		k.DriftFound = true
		// River keeps only the newest values here, but starts afresh on
		// the next update anyway.
		k.Window = append(k.Window[:0], k.b...)
	}
	return k.DriftFound
}

// ks2samp is scipy.stats.ks_2samp(a, b) for samples of equal size with
// the exact two-sided p-value.
func (k *KSWIN) ks2samp() (d, p float64) {
	slices.Sort(k.a)
	slices.Sort(k.b)
	n := len(k.a)
	k.all = append(append(k.all[:0], k.a...), k.b...)
	var minS, maxS float64
	for i, v := range k.all {
		c1 := float64(upperBound(k.a, v)) / float64(n)
		c2 := float64(upperBound(k.b, v)) / float64(len(k.b))
		diff := c1 - c2
		if i == 0 || diff > maxS {
			maxS = diff
		}
		if i == 0 || -diff > minS {
			minS = -diff
		}
	}
	minS = min(max(minS, 0), 1)
	d = max(minS, maxS)
	h := int(math.RoundToEven(d * float64(n)))
	d = float64(h) / float64(n)
	if h == 0 {
		return d, 1
	}
	return d, min(max(probOutsideSquare(n, h), 0), 1)
}

// upperBound is numpy.searchsorted(s, v, side="right").
func upperBound(s []float64, v float64) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := (lo + hi) / 2
		if s[m] <= v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// probOutsideSquare is SciPy's P(D_{n,n} >= h/n), a Horner-like
// evaluation of the alternating binomial series.
func probOutsideSquare(n, h int) float64 {
	p := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := 0; j < h; j++ {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return 2 * p
}

// MarshalBinary saves the full state.
func (k *KSWIN) MarshalBinary() ([]byte, error) { return snap.Encode((*kswinState)(k)) }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (k *KSWIN) UnmarshalBinary(b []byte) error {
	var s KSWIN
	if err := snap.Decode(b, (*kswinState)(&s), "kswin"); err != nil {
		return err
	}
	if s.Rng == nil || s.WindowSize <= s.StatSize || s.StatSize <= 0 {
		return fmt.Errorf("kswin state is damaged (window %d, stat %d)", s.WindowSize, s.StatSize)
	}
	*k = s
	return nil
}

// The state types have no methods, so gob encodes their fields instead of
// calling MarshalBinary again.
type (
	phState    PageHinkley
	ddmState   DDM
	kswinState KSWIN
)

package drift

import (
	"fmt"
	"math"

	"github.com/olops/olops/internal/learn/libm"
	"github.com/olops/olops/internal/learn/snap"
)

// ADWIN is River's ADWIN (a port of the C++ ADWIN of MOA): an adaptive
// window over exponential histograms ("bucket rows"), checked for a cut
// every Clock updates once the window is wider than GracePeriod. As in
// River, the detector starts afresh on the update after a drift.
type ADWIN struct {
	Delta           float64
	Clock           int
	MaxBuckets      int
	MinWindowLength int
	GracePeriod     int

	// rows[0] holds the newest, single-sample buckets; rows[i] buckets of
	// 2^i samples. Within a row, index 0 is the oldest bucket.
	rows     []adwinRow
	total    float64
	variance float64
	width    float64
	tick     int
	drift    bool
	nDetect  int
}

type adwinRow struct {
	N     int
	Total []float64
	Var   []float64
}

// NewADWIN returns an ADWIN with River's defaults and the given delta.
func NewADWIN(delta float64) *ADWIN {
	a := &ADWIN{Delta: delta, Clock: 32, MaxBuckets: 5, MinWindowLength: 5, GracePeriod: 10}
	a.Reset()
	return a
}

func (a *ADWIN) newRow() adwinRow {
	return adwinRow{Total: make([]float64, a.MaxBuckets+1), Var: make([]float64, a.MaxBuckets+1)}
}

// Reset empties the window.
func (a *ADWIN) Reset() {
	if len(a.rows) > 0 {
		a.rows = a.rows[:1]
		clear(a.rows[0].Total)
		clear(a.rows[0].Var)
		a.rows[0].N = 0
	} else {
		a.rows = []adwinRow{a.newRow()}
	}
	a.total, a.variance, a.width = 0, 0, 0
	a.tick, a.drift = 0, false
}

// Width is the current window length.
func (a *ADWIN) Width() float64 { return a.width }

// Estimation is the mean of the window (0 when empty).
func (a *ADWIN) Estimation() float64 {
	if a.width == 0 {
		return 0
	}
	return a.total / a.width
}

// Detections counts the drifts detected since the last reset.
func (a *ADWIN) Detections() int { return a.nDetect }

// Warning is always false: ADWIN has no warning zone.
func (a *ADWIN) Warning() bool { return false }

// Update adds x and reports a drift.
func (a *ADWIN) Update(x float64) bool {
	if a.drift {
		a.Reset()
	}
	a.insert(x)
	a.drift = a.detect()
	if a.drift {
		a.nDetect++
	}
	return a.drift
}

func (r *adwinRow) push(total, v float64) {
	r.Total[r.N] = total
	r.Var[r.N] = v
	r.N++
}

// shift drops the k oldest buckets of the row; the slots past N stay 0.
// It runs on every other update: moving the few live buckets by hand
// beats two calls to copy.
func (r *adwinRow) shift(k int) {
	n := r.N
	t, v := r.Total[:n], r.Var[:n]
	for i := k; i < n; i++ {
		t[i-k], v[i-k] = t[i], v[i]
	}
	for i := max(n-k, 0); i < n; i++ {
		t[i], v[i] = 0, 0
	}
	r.N -= k
}

func (a *ADWIN) insert(x float64) {
	a.rows[0].push(x, 0)
	a.width++
	if a.width > 1 {
		d := x - a.total/(a.width-1)
		a.variance += (a.width - 1) * d * d / a.width
	}
	a.total += x
	a.compress()
}

func (a *ADWIN) compress() {
	for i := 0; i < len(a.rows); i++ {
		r := &a.rows[i]
		if r.N != a.MaxBuckets+1 {
			return
		}
		if i+1 == len(a.rows) {
			a.rows = append(a.rows, a.newRow())
			r = &a.rows[i]
		}
		size := float64(uint64(1) << i)
		mu1, mu2 := r.Total[0]/size, r.Total[1]/size
		t12 := r.Total[0] + r.Total[1]
		v12 := r.Var[0] + r.Var[1] + size*size*(mu1-mu2)*(mu1-mu2)/(size+size)
		next := &a.rows[i+1]
		next.push(t12, v12)
		r.shift(2)
		if next.N <= a.MaxBuckets {
			return
		}
	}
}

// deleteOldest drops the oldest bucket and returns its size.
func (a *ADWIN) deleteOldest() float64 {
	last := len(a.rows) - 1
	r := &a.rows[last]
	n := float64(uint64(1) << last)
	u, v := r.Total[0], r.Var[0]
	mu := u / n
	a.width -= n
	a.total -= u
	muW := a.total / a.width
	a.variance -= v + n*a.width*(mu-muW)*(mu-muW)/(n+a.width)
	r.shift(1)
	if r.N == 0 && last > 0 {
		a.rows = a.rows[:last]
	}
	return n
}

func (a *ADWIN) detect() bool {
	change := false
	a.tick++
	if a.tick%a.Clock != 0 || a.width <= float64(a.GracePeriod) {
		return false
	}
	minLen := float64(a.MinWindowLength)
	for reduce := true; reduce; {
		reduce = false
		n0, n1 := 0.0, a.width
		u0, u1 := 0.0, a.total
		done := false
		// The cut test's terms that depend only on the window, computed once
		// per pass (the window changes only where the pass ends).
		dp := libm.Log(2 * libm.Log(a.width) / a.Delta)
		vw := a.variance / a.width
		// From the oldest row to the newest; as in River, the newest bucket
		// of each row is never a cut point.
		for idx := len(a.rows) - 1; idx >= 0 && !done; idx-- {
			r := &a.rows[idx]
			size := float64(uint64(1) << idx)
			for k := 0; k < r.N-1; k++ {
				n0 += size
				n1 -= size
				u0 += r.Total[k]
				u1 -= r.Total[k]
				if n1 >= minLen && n0 >= minLen && a.cut(n0, n1, u0/n0-u1/n1, dp, vw) {
					reduce, change = true, true
					if a.width > 0 {
						a.deleteOldest()
						done = true
						break
					}
				}
			}
		}
	}
	return change
}

// cut is the Hoeffding test between the two sub-windows; dp is
// ln(2 ln(width) / delta) and vw the window's variance over its width.
func (a *ADWIN) cut(n0, n1, deltaMean, dp, vw float64) bool {
	minLen := float64(a.MinWindowLength)
	m := 1/(n0-minLen+1) + 1/(n1-minLen+1)
	eps := math.Sqrt(2*m*vw*dp) + 2.0/3.0*dp*m
	return math.Abs(deltaMean) > eps
}

type adwinState struct {
	Delta                                  float64
	Clock, MaxBuckets, MinWindowLength, GP int
	Rows                                   []adwinRow
	Total, Variance, Width                 float64
	Tick                                   int
	Drift                                  bool
	NDetect                                int
}

// MarshalBinary saves the full state.
func (a *ADWIN) MarshalBinary() ([]byte, error) {
	return snap.Encode(adwinState{a.Delta, a.Clock, a.MaxBuckets, a.MinWindowLength, a.GracePeriod,
		a.rows, a.total, a.variance, a.width, a.tick, a.drift, a.nDetect})
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (a *ADWIN) UnmarshalBinary(data []byte) error {
	var s adwinState
	if err := snap.Decode(data, &s, "adwin"); err != nil {
		return err
	}
	if s.Clock <= 0 || s.MaxBuckets <= 0 || len(s.Rows) == 0 {
		return fmt.Errorf("adwin state is damaged (clock %d, max_buckets %d, %d rows)", s.Clock, s.MaxBuckets, len(s.Rows))
	}
	for i := range s.Rows {
		// gob drops trailing zero values of nothing, but empty slices come back nil.
		if len(s.Rows[i].Total) != s.MaxBuckets+1 {
			t := make([]float64, s.MaxBuckets+1)
			v := make([]float64, s.MaxBuckets+1)
			copy(t, s.Rows[i].Total)
			copy(v, s.Rows[i].Var)
			s.Rows[i].Total, s.Rows[i].Var = t, v
		}
	}
	*a = ADWIN{Delta: s.Delta, Clock: s.Clock, MaxBuckets: s.MaxBuckets, MinWindowLength: s.MinWindowLength,
		GracePeriod: s.GP, rows: s.Rows, total: s.Total, variance: s.Variance, width: s.Width,
		tick: s.Tick, drift: s.Drift, nDetect: s.NDetect}
	return nil
}

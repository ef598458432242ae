package linear

import (
	"fmt"
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/snap"
)

// PA holds the state shared by River's passive-aggressive models.
type PA struct {
	W              []float64
	Intercept      float64
	C              float64
	Mode           int // 0: PA, 1: PA-I, 2: PA-II
	Eps            float64
	LearnIntercept bool
}

var paParams = []string{"C", "mode", "learn_intercept"}
var paRegParams = []string{"C", "mode", "eps", "learn_intercept"}

func newPA(model string, params map[string]any, known []string) (PA, error) {
	p := PA{C: 1, Mode: 1, Eps: 0.1, LearnIntercept: true}
	if err := checkKnown(model, params, known); err != nil {
		return p, err
	}
	if err := p.set(model, params); err != nil {
		return p, err
	}
	return p, nil
}

func (p *PA) set(model string, params map[string]any) error {
	mode := float64(p.Mode)
	li := 0.0
	if p.LearnIntercept {
		li = 1
	}
	for _, q := range []struct {
		name string
		dst  *float64
	}{{"C", &p.C}, {"mode", &mode}, {"eps", &p.Eps}, {"learn_intercept", &li}} {
		if err := numParam(params, q.name, q.dst); err != nil {
			return fmt.Errorf("%s: %w", model, err)
		}
	}
	if mode != 0 && mode != 1 && mode != 2 {
		return fmt.Errorf("%s: mode must be 0, 1 or 2, not %v", model, mode)
	}
	if p.C <= 0 || p.Eps < 0 {
		return fmt.Errorf("%s: C must be > 0 and eps >= 0", model)
	}
	p.Mode, p.LearnIntercept = int(mode), li != 0
	return nil
}

func (p *PA) dot(x *learn.Row) float64 {
	s := 0.0
	for i, xi := range x.X {
		if i >= len(p.W) {
			break
		}
		if xi == xi {
			s += xi * p.W[i]
		}
	}
	return s + p.Intercept
}

// tau is River's step size for the mode, from the loss and |x|².
func (p *PA) tau(x *learn.Row, loss float64) float64 {
	s := 0.0
	for _, xi := range x.X {
		if xi == xi {
			s += xi * xi
		}
	}
	// River squares utils.math.norm, itself a square root.
	norm := math.Sqrt(s)
	norm *= norm
	switch p.Mode {
	case 0:
		if norm > 0 {
			return loss / norm
		}
		return 0
	case 1:
		if norm > 0 {
			return min(p.C, loss/norm)
		}
		return 0
	}
	return loss / (norm + 0.5/p.C)
}

func (p *PA) step(x *learn.Row, step float64) {
	p.W = grow(p.W, len(x.X))
	for i, xi := range x.X {
		if xi == xi {
			p.W[i] += step * xi
		}
	}
	if p.LearnIntercept {
		p.Intercept += step
	}
}

func (p *PA) params() map[string]any {
	return map[string]any{"C": p.C, "mode": p.Mode, "learn_intercept": p.LearnIntercept, "intercept": p.Intercept, "n_weights": len(p.W)}
}

func (p *PA) patch(model string, params map[string]any, mutable []string) error {
	if err := checkKnown(model, params, mutable); err != nil {
		return err
	}
	c := *p
	if err := c.set(model, params); err != nil {
		return err
	}
	p.C, p.Eps = c.C, c.Eps
	return nil
}

// PAClassifier is River's PAClassifier (hinge loss, class 1 = True).
type PAClassifier struct{ PA }

// NewPAClassifier returns River's PAClassifier: C=1, mode 1, intercept learned.
func NewPAClassifier(params map[string]any) (*PAClassifier, error) {
	p, err := newPA("pa", params, paParams)
	if err != nil {
		return nil, err
	}
	return &PAClassifier{p}, nil
}

// PredictProba returns [1-p, p] with p = sigmoid(w·x + b).
func (c *PAClassifier) PredictProba(x *learn.Row, dst []float64) []float64 {
	p := sigmoid(c.dot(x))
	return append(dst[:0], 1-p, p)
}

// Learn takes one passive-aggressive step on (x, y).
func (c *PAClassifier) Learn(x *learn.Row, y int) {
	yt := -1.0
	if y != 0 {
		yt = 1
	}
	loss := max(1-yt*c.dot(x), 0) // hinge with threshold 1
	c.step(x, c.tau(x, loss)*yt)
}

// Params reports the hyperparameters.
func (c *PAClassifier) Params() map[string]any { return c.params() }

// Patch changes C at run time.
func (c *PAClassifier) Patch(params map[string]any) error {
	return c.patch("pa", params, []string{"C"})
}

// MarshalBinary saves the full state.
func (c *PAClassifier) MarshalBinary() ([]byte, error) {
	type plain PAClassifier // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(c))
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (c *PAClassifier) UnmarshalBinary(b []byte) error {
	type plain PAClassifier
	*c = PAClassifier{}
	return snap.Decode(b, (*plain)(c), "linear model")
}

func (c *PAClassifier) clone() binary {
	n := *c
	n.W = append([]float64(nil), c.W...)
	return &n
}

// PARegressor is River's PARegressor (epsilon-insensitive hinge loss).
type PARegressor struct{ PA }

// NewPARegressor returns River's PARegressor: C=1, mode 1, eps 0.1.
func NewPARegressor(params map[string]any) (*PARegressor, error) {
	p, err := newPA("pa-regressor", params, paRegParams)
	if err != nil {
		return nil, err
	}
	return &PARegressor{p}, nil
}

// Predict returns w·x + b.
func (r *PARegressor) Predict(x *learn.Row) (float64, bool) { return r.dot(x), true }

// Learn takes one passive-aggressive step on (x, y). River 0.21 computes
// the loss with EpsilonInsensitiveHinge, which maps y to 2y-1 first (a
// leftover of its classification losses); it is kept so that scores match
// River's.
func (r *PARegressor) Learn(x *learn.Row, y float64) {
	pred := r.dot(x)
	loss := max(math.Abs(pred-(2*y-1))-r.Eps, 0)
	r.step(x, r.tau(x, loss)*sign(y-pred))
}

// Params reports the hyperparameters.
func (r *PARegressor) Params() map[string]any {
	p := r.params()
	p["eps"] = r.Eps
	return p
}

// Patch changes C or eps at run time.
func (r *PARegressor) Patch(params map[string]any) error {
	return r.patch("pa-regressor", params, []string{"C", "eps"})
}

// MarshalBinary saves the full state.
func (r *PARegressor) MarshalBinary() ([]byte, error) {
	type plain PARegressor // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(r))
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (r *PARegressor) UnmarshalBinary(b []byte) error {
	type plain PARegressor
	*r = PARegressor{}
	return snap.Decode(b, (*plain)(r), "linear model")
}

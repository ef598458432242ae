// Package linear holds River's linear models: LogisticRegression,
// LinearRegression and Perceptron (generalised linear models trained by an
// optimizer), the passive-aggressive PAClassifier and PARegressor, and
// OneVsRest for multiclass tasks. Weights are dense slices indexed by the
// schema index; they grow when new features appear. A missing feature
// (NaN) contributes nothing to a prediction and gets no gradient, as a key
// absent from River's dict would. Predict and learn do not allocate once
// the weights have grown.
package linear

import (
	"fmt"
	"math"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/libm"
)

// Losses of a GLM.
const (
	LossLog     = "log"
	LossHinge   = "hinge"
	LossSquared = "squared"
)

// GLM is River's generalised linear model (linear_model.base.GLM): the
// loss gradient at the raw prediction, clipped, moves the intercept with
// its own constant rate and the weights through the optimizer; L2 adds
// l2·w to each present feature's gradient; L1 (only without L2) applies
// River's cumulative penalty after the step.
type GLM struct {
	W             []float64
	Intercept     float64
	InterceptInit float64
	InterceptLR   float64
	L1, L2        float64
	Clip          float64
	Loss          string
	Threshold     float64 // hinge margin
	Opt           *Optimizer
	CumL1         []float64
	MaxCumL1      float64

	loss uint8 // Loss as a number (lossLog...), set on first use
}

const (
	lossUnset uint8 = iota
	lossLog
	lossHinge
	lossSquared
)

func newGLM(loss string, opt *Optimizer) GLM {
	return GLM{Loss: loss, Opt: opt, InterceptLR: 0.01, Clip: 1e12}
}

// raw is w·x + intercept over the present features.
func (m *GLM) raw(x *learn.Row) float64 {
	s := 0.0
	xs, w := x.X, m.W
	if len(xs) > len(w) {
		xs = xs[:len(w)]
	}
	w = w[:len(xs)]
	for i, xi := range xs {
		if xi == xi { // not NaN
			s += w[i] * xi
		}
	}
	return s + m.Intercept
}

func (m *GLM) gradient(y, pred float64) float64 {
	if m.loss == lossUnset {
		switch m.Loss {
		case LossLog:
			m.loss = lossLog
		case LossHinge:
			m.loss = lossHinge
		default:
			m.loss = lossSquared
		}
	}
	switch m.loss {
	case lossLog:
		yt := 1.0
		if y == 0 {
			yt = -1
		}
		z := pred * yt
		if z > 18 {
			return libm.Exp(-z) * -yt
		}
		if z < -18 {
			return -yt
		}
		return -yt / (libm.Exp(z) + 1)
	case lossHinge:
		yt := y*2 - 1
		if yt*pred <= m.Threshold {
			return -yt
		}
		return 0
	default: // squared
		return 2 * (pred - y)
	}
}

func (m *GLM) growTo(n int) {
	if len(m.W) >= n {
		return
	}
	m.W = grow(m.W, n)
	m.Opt.grow(n)
	if m.L1 != 0 {
		m.CumL1 = grow(m.CumL1, n)
	}
}

// learn is River's GLM.learn_one with weight 1.
func (m *GLM) learn(x *learn.Row, y float64) {
	if len(m.W) < len(x.X) {
		m.growTo(len(x.X))
	}
	pred := m.raw(x)
	lg := m.gradient(y, pred)
	// River's clamp; two compares are what max(-c, min(c, lg)) gives for
	// c > 0, NaN and signed zeros included, without their NaN handling.
	if lg > m.Clip {
		lg = m.Clip
	} else if lg < -m.Clip {
		lg = -m.Clip
	}
	m.Intercept -= m.InterceptLR * lg
	o := m.Opt
	o.begin()
	w := m.W
	// A zero gradient (a perceptron's right answer) moves no weight under
	// plain SGD: w - lr·(0·x) is w again, bit for bit, when every x is
	// finite, which a finite prediction guarantees, and no weight is -0,
	// which only L1's clipping makes.
	if lg != 0 || o.code != codeSGD || m.L1 != 0 || m.L2 != 0 || math.IsInf(pred, 0) || pred != pred {
		o.step(w, x.X, lg, m.L2)
	}
	o.end()
	if m.L1 != 0 && m.L2 == 0 {
		m.CumL1 = grow(m.CumL1, len(w))
		m.MaxCumL1 += m.L1 * o.Rate()
		for j, xj := range x.X {
			if xj != xj {
				continue
			}
			wj := w[j]
			switch {
			case wj > 0:
				w[j] = max(0, wj-(m.MaxCumL1+m.CumL1[j]))
			case wj < 0:
				w[j] = min(0, wj+(m.MaxCumL1-m.CumL1[j]))
			}
			m.CumL1[j] += w[j] - wj
		}
	}
}

// sigmoid is River's utils.math.sigmoid: clamped to 0 and 1 beyond ±30.
func sigmoid(x float64) float64 {
	if x < -30 {
		return 0
	}
	if x > 30 {
		return 1
	}
	return 1 / (1 + libm.Exp(-x))
}

// glmParams are the hyperparameter names a GLM takes (River's names, plus
// the optimizer's own under their River names).
var glmParams = []string{"optimizer", "lr", "l1", "l2", "intercept_init", "intercept_lr", "clip_gradient", "beta_1", "beta_2", "eps", "alpha", "beta", "ftrl_l1", "ftrl_l2"}

// glmMutable are the parameters Patch may change while the model runs.
var glmMutable = []string{"lr", "l1", "l2", "intercept_lr", "clip_gradient"}

// configure applies params over m's defaults.
func (m *GLM) configure(model string, params map[string]any, known []string) error {
	if err := checkKnown(model, params, known); err != nil {
		return err
	}
	if v, ok := params["optimizer"]; ok {
		kind, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: parameter \"optimizer\" must be one of sgd, adam, adagrad, ftrl, not %v", model, v)
		}
		o, err := NewOptimizer(kind, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", model, err)
		}
		m.Opt = o
	}
	lr := m.Opt.Rate()
	for _, p := range []struct {
		name string
		dst  *float64
	}{
		{"lr", &lr}, {"l1", &m.L1}, {"l2", &m.L2}, {"intercept_init", &m.InterceptInit},
		{"intercept_lr", &m.InterceptLR}, {"clip_gradient", &m.Clip},
		{"beta_1", &m.Opt.Beta1}, {"beta_2", &m.Opt.Beta2}, {"eps", &m.Opt.Eps},
		{"alpha", &lr}, {"beta", &m.Opt.Beta}, {"ftrl_l1", &m.Opt.L1}, {"ftrl_l2", &m.Opt.L2},
	} {
		if err := numParam(params, p.name, p.dst); err != nil {
			return fmt.Errorf("%s: %w", model, err)
		}
	}
	m.Opt.SetRate(lr)
	m.Intercept = m.InterceptInit
	if m.L1 != 0 && m.L2 != 0 {
		return fmt.Errorf("%s: l1 and l2 cannot both be set (River supports one penalty at a time)", model)
	}
	if m.L1 < 0 || m.L2 < 0 || lr <= 0 || m.Clip <= 0 {
		return fmt.Errorf("%s: lr and clip_gradient must be > 0, l1 and l2 >= 0", model)
	}
	return nil
}

// params reports the current hyperparameters and a weights summary.
func (m *GLM) params() map[string]any {
	p := map[string]any{
		"optimizer": m.Opt.Kind, "lr": m.Opt.Rate(), "l1": m.L1, "l2": m.L2,
		"intercept_init": m.InterceptInit, "intercept_lr": m.InterceptLR,
		"clip_gradient": m.Clip, "loss": m.Loss,
		"intercept": m.Intercept, "n_weights": len(m.W),
	}
	switch m.Opt.Kind {
	case Adam:
		p["beta_1"], p["beta_2"], p["eps"] = m.Opt.Beta1, m.Opt.Beta2, m.Opt.Eps
	case AdaGrad:
		p["eps"] = m.Opt.Eps
	case FTRL:
		p["beta"], p["ftrl_l1"], p["ftrl_l2"] = m.Opt.Beta, m.Opt.L1, m.Opt.L2
	}
	return p
}

// patch changes mutable hyperparameters; on error nothing changes.
func (m *GLM) patch(model string, params map[string]any, mutable []string) error {
	for k := range params {
		ok := false
		for _, n := range mutable {
			ok = ok || n == k
		}
		if !ok {
			return fmt.Errorf("%s: parameter %q cannot be changed at run time (mutable: %v)", model, k, mutable)
		}
	}
	c := *m
	opt := *m.Opt
	c.Opt = &opt
	lr := opt.Rate()
	for _, p := range []struct {
		name string
		dst  *float64
	}{{"lr", &lr}, {"l1", &c.L1}, {"l2", &c.L2}, {"intercept_lr", &c.InterceptLR}, {"clip_gradient", &c.Clip}} {
		if err := numParam(params, p.name, p.dst); err != nil {
			return fmt.Errorf("%s: %w", model, err)
		}
	}
	if c.L1 != 0 && c.L2 != 0 {
		return fmt.Errorf("%s: l1 and l2 cannot both be set (River supports one penalty at a time)", model)
	}
	if c.L1 < 0 || c.L2 < 0 || lr <= 0 || c.Clip <= 0 {
		return fmt.Errorf("%s: lr and clip_gradient must be > 0, l1 and l2 >= 0", model)
	}
	m.L1, m.L2, m.InterceptLR, m.Clip = c.L1, c.L2, c.InterceptLR, c.Clip
	m.Opt.SetRate(lr)
	return nil
}

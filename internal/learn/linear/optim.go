package linear

import (
	"fmt"
	"math"
	"strings"
)

// Optimizer kinds (River's optim.SGD, Adam, AdaGrad, FTRLProximal).
const (
	SGD     = "sgd"
	Adam    = "adam"
	AdaGrad = "adagrad"
	FTRL    = "ftrl"
)

// Optimizer updates the weights of the features present in a sample from
// their gradients. It is one concrete struct (not an interface) so that the
// hot path has no dynamic dispatch and its state encodes as plain slices.
// Per-feature state grows with the weight vector. Only the features
// present in a sample are stepped, as with River's dict-based optimizers.
// (River 0.21 steps Adam over its whole moment vectors, which also decays
// the moments of absent features and overwrites their weights; that
// departure from "a missing feature gets no gradient" is not copied. On
// samples with no missing features the two agree.)
type Optimizer struct {
	Kind        string
	LR          float64 // SGD, Adam, AdaGrad
	Beta1       float64 // Adam
	Beta2       float64 // Adam
	Eps         float64 // Adam, AdaGrad
	Alpha       float64 // FTRL
	Beta        float64 // FTRL
	L1          float64 // FTRL
	L2          float64 // FTRL
	NIterations int

	M, V []float64 // Adam moments; AdaGrad keeps its squared sums in M
	Z, N []float64 // FTRL

	stepLR float64 // this step's rate (Adam's bias-corrected rate)
	code   uint8   // Kind as a number, set by begin: no string compare per feature
}

const (
	codeUnset uint8 = iota
	codeSGD
	codeAdam
	codeAdaGrad
	codeFTRL
)

func kindCode(kind string) uint8 {
	switch kind {
	case Adam:
		return codeAdam
	case AdaGrad:
		return codeAdaGrad
	case FTRL:
		return codeFTRL
	}
	return codeSGD
}

// NewOptimizer returns an optimizer with River's defaults for kind; lr > 0
// overrides the default rate (alpha for FTRL).
func NewOptimizer(kind string, lr float64) (*Optimizer, error) {
	o := &Optimizer{Kind: strings.ToLower(kind)}
	switch o.Kind {
	case SGD, "":
		o.Kind, o.LR = SGD, 0.01
	case Adam:
		o.LR, o.Beta1, o.Beta2, o.Eps = 0.1, 0.9, 0.999, 1e-8
	case AdaGrad:
		o.LR, o.Eps = 0.1, 1e-8
	case FTRL, "ftrl_proximal", "ftrlproximal":
		o.Kind, o.Alpha, o.Beta, o.L1, o.L2 = FTRL, 0.05, 1, 0, 1
	default:
		return nil, fmt.Errorf("unknown optimizer %q (known: sgd, adam, adagrad, ftrl)", kind)
	}
	if lr > 0 {
		o.SetRate(lr)
	}
	return o, nil
}

// SetRate changes the learning rate (alpha for FTRL).
func (o *Optimizer) SetRate(lr float64) {
	if o.Kind == FTRL {
		o.Alpha = lr
	} else {
		o.LR = lr
	}
}

// Rate is River's optimizer.learning_rate (alpha for FTRL, which River
// does not define).
func (o *Optimizer) Rate() float64 {
	if o.Kind == FTRL {
		return o.Alpha
	}
	return o.LR
}

func (o *Optimizer) grow(n int) {
	switch o.Kind {
	case Adam:
		o.M = grow(o.M, n)
		o.V = grow(o.V, n)
	case AdaGrad:
		o.M = grow(o.M, n)
	case FTRL:
		o.Z = grow(o.Z, n)
		o.N = grow(o.N, n)
	}
}

func grow(s []float64, n int) []float64 {
	for len(s) < n {
		s = append(s, 0)
	}
	return s
}

// begin prepares one step (River computes Adam's corrected rate once per
// step from the iteration count before it is incremented).
func (o *Optimizer) begin() {
	if o.code != codeSGD { // SGD, the common case, has nothing to prepare
		o.prepare()
	}
}

func (o *Optimizer) prepare() {
	if o.code == codeUnset {
		o.code = kindCode(o.Kind)
	}
	if o.code == codeAdam {
		t := float64(o.NIterations + 1)
		lr := o.LR * math.Pow(1-math.Pow(o.Beta2, t), 0.5)
		o.stepLR = lr / (1 - math.Pow(o.Beta1, t))
	}
}

// step applies the gradient lg·x_i (+ l2·w_i) of every present feature.
// One loop per optimizer keeps the per-feature work branch-free.
func (o *Optimizer) step(w []float64, x []float64, lg, l2 float64) {
	switch o.code {
	case codeSGD:
		lr := o.LR
		w = w[:len(x)] // the weights have grown to x: no bounds checks below
		if l2 == 0 {
			for i, xi := range x {
				if xi == xi {
					w[i] -= lr * (lg * xi)
				}
			}
			return
		}
		for i, xi := range x {
			if xi == xi {
				w[i] -= lr * (lg*xi + l2*w[i])
			}
		}
	default:
		for i, xi := range x {
			if xi != xi {
				continue
			}
			g := lg * xi
			if l2 != 0 {
				g += l2 * w[i]
			}
			o.update(w, i, g)
		}
	}
}

// update applies the gradient g of feature i to w[i].
func (o *Optimizer) update(w []float64, i int, g float64) {
	switch o.code {
	case codeSGD:
		w[i] -= o.LR * g
	case codeAdam:
		o.M[i] = o.Beta1*o.M[i] + (1-o.Beta1)*g
		o.V[i] = o.Beta2*o.V[i] + (1-o.Beta2)*g*g
		w[i] -= o.stepLR * o.M[i] / (math.Pow(o.V[i], 0.5) + o.Eps)
	case codeAdaGrad:
		o.M[i] += g * g
		w[i] -= o.LR / math.Pow(o.M[i]+o.Eps, 0.5) * g
	case codeFTRL:
		// River first sets the weight from z and n, then folds the
		// gradient into z and n using that new weight.
		z, n := o.Z[i], o.N[i]
		if math.Abs(z) > o.L1 {
			w[i] = -1 / ((o.Beta+math.Pow(n, 0.5))/o.Alpha + o.L2) * (z - sign(z)*o.L1)
		}
		s := (math.Pow(n+g*g, 0.5) - math.Pow(n, 0.5)) / o.Alpha
		o.Z[i] = z + g - s*w[i]
		o.N[i] = n + g*g
	}
}

// end finishes a step.
func (o *Optimizer) end() { o.NIterations++ }

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

package linear

import (
	"fmt"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/snap"
)

// Classifier is a binary GLM: LogisticRegression (log loss) or Perceptron
// (hinge loss at threshold 0, SGD rate 1, intercept rate 1). Class 1 is
// River's True.
type Classifier struct {
	Name string
	GLM
}

// NewLogisticRegression returns River's LogisticRegression with params
// over its defaults: SGD(0.01), log loss, intercept rate 0.01, clip 1e12.
func NewLogisticRegression(params map[string]any) (*Classifier, error) {
	opt, _ := NewOptimizer(SGD, 0.01)
	c := &Classifier{Name: "LogisticRegression", GLM: newGLM(LossLog, opt)}
	if err := c.configure("logreg", params, glmParams); err != nil {
		return nil, err
	}
	return c, nil
}

// perceptronParams: River's Perceptron fixes its optimizer and rates.
var perceptronParams = []string{"l2", "clip_gradient"}

// NewPerceptron returns River's Perceptron: a GLM with hinge loss at
// threshold 0, SGD(1) and intercept rate 1.
func NewPerceptron(params map[string]any) (*Classifier, error) {
	opt, _ := NewOptimizer(SGD, 1)
	c := &Classifier{Name: "Perceptron", GLM: newGLM(LossHinge, opt)}
	c.InterceptLR = 1
	if err := c.configure("perceptron", params, perceptronParams); err != nil {
		return nil, err
	}
	return c, nil
}

// PredictProba returns [1-p, p] with p = sigmoid(w·x + b).
func (c *Classifier) PredictProba(x *learn.Row, dst []float64) []float64 {
	p := sigmoid(c.raw(x))
	return append(dst[:0], 1-p, p)
}

// Learn takes one step on (x, y), y being 0 or 1.
func (c *Classifier) Learn(x *learn.Row, y int) {
	c.learn(x, float64(min(y, 1)))
}

// Params reports the hyperparameters and a weights summary.
func (c *Classifier) Params() map[string]any { return c.params() }

// Patch changes hyperparameters at run time (lr, l1, l2, intercept_lr,
// clip_gradient; Perceptron: l2, clip_gradient).
func (c *Classifier) Patch(params map[string]any) error {
	if c.Name == "Perceptron" {
		return c.patch("perceptron", params, perceptronParams)
	}
	return c.patch("logreg", params, glmMutable)
}

// MarshalBinary saves the full state.
func (c *Classifier) MarshalBinary() ([]byte, error) {
	type plain Classifier // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(c))
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (c *Classifier) UnmarshalBinary(b []byte) error {
	type plain Classifier
	*c = Classifier{}
	return snap.Decode(b, (*plain)(c), "linear model")
}

func (c *Classifier) clone() binary {
	b, err := c.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("clone %s: %v", c.Name, err))
	}
	n := &Classifier{}
	if err := n.UnmarshalBinary(b); err != nil {
		panic(fmt.Sprintf("clone %s: %v", c.Name, err))
	}
	return n
}

// Regressor is River's LinearRegression: a GLM with squared loss.
type Regressor struct {
	GLM
}

// NewLinearRegression returns River's LinearRegression with params over
// its defaults: SGD(0.01), squared loss, intercept rate 0.01, clip 1e12.
func NewLinearRegression(params map[string]any) (*Regressor, error) {
	opt, _ := NewOptimizer(SGD, 0.01)
	r := &Regressor{GLM: newGLM(LossSquared, opt)}
	if err := r.configure("linreg", params, glmParams); err != nil {
		return nil, err
	}
	return r, nil
}

// Predict returns w·x + b (0 before any learning, as River does).
func (r *Regressor) Predict(x *learn.Row) (float64, bool) { return r.raw(x), true }

// Learn takes one step on (x, y).
func (r *Regressor) Learn(x *learn.Row, y float64) { r.learn(x, y) }

// Params reports the hyperparameters and a weights summary.
func (r *Regressor) Params() map[string]any { return r.params() }

// Patch changes hyperparameters at run time.
func (r *Regressor) Patch(params map[string]any) error {
	return r.patch("linreg", params, glmMutable)
}

// MarshalBinary saves the full state.
func (r *Regressor) MarshalBinary() ([]byte, error) {
	type plain Regressor // no MarshalBinary: gob encodes the fields
	return snap.Encode((*plain)(r))
}

// UnmarshalBinary restores a state saved by MarshalBinary.
func (r *Regressor) UnmarshalBinary(b []byte) error {
	type plain Regressor
	*r = Regressor{}
	return snap.Decode(b, (*plain)(r), "linear model")
}

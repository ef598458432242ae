// Package synth generates River's synthetic streams, seeded and
// repeatable: SEA, STAGGER, Agrawal, rotating Hyperplane and RandomRBF,
// alone or as River's ConceptDriftStream mixing two concepts of the same
// generator. The generators draw from the same Mersenne Twister River
// uses: random.Random for SEA and Hyperplane, NumPy's RandomState for
// STAGGER, Agrawal, RandomRBF and the drift mixing (the NumPy-based
// versions of those classes; later River releases moved them to
// random.Random). The tests check the rows River's docstrings print.
//
// Feature names: River numbers the features of SEA, Hyperplane and
// RandomRBF 0, 1, 2...; olops names them x0, x1, x2... STAGGER's are size,
// color and shape and Agrawal's salary, commission, age, elevel, car,
// zipcode, hvalue, hyears and loan, as in River; all values are numbers
// (STAGGER's and Agrawal's codes are River's integers). Labels are "0"
// and "1" for binary streams and class indices for multiclass ones.
package synth

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/learn"
	"github.com/olops/olops/internal/learn/libm"
	"github.com/olops/olops/internal/learn/param"
	"github.com/olops/olops/internal/learn/pyrand"
	"github.com/olops/olops/internal/learn/stream"
)

// Options configure a stream.
type Options struct {
	Seed int64
	// Rows is the number of rows before io.EOF; 0 means endless.
	Rows int
	// DriftAt > 0 makes the stream River's ConceptDriftStream: each row
	// comes from the second concept with probability
	// 1/(1+exp(-4(t-DriftAt)/DriftWidth)), t the 1-based row number.
	DriftAt int
	// DriftWidth is the width of the change; 0 means 1 (abrupt).
	DriftWidth int
	// Variant picks SEA's variant (0-3), STAGGER's classification
	// function (0-2) or Agrawal's (0-9). The concept after a drift is the
	// next one (modulo their number); Hyperplane and RandomRBF drift to
	// the generator seeded with Seed+1.
	Variant int
	// Params holds generator parameters under River's names: noise (sea),
	// balance_classes (stagger, agrawal), perturbation (agrawal),
	// drift_variant (sea, stagger, agrawal: the concept after the drift,
	// instead of the next one),
	// n_features, n_drift_features, mag_change, noise_percentage, sigma
	// (hyperplane), n_classes, n_features, n_centroids (rbf).
	Params map[string]any
}

// Names lists the generators.
func Names() []string { return []string{"sea", "stagger", "agrawal", "hyperplane", "rbf"} }

var paramNames = map[string][]string{
	"sea":        {"noise", "drift_variant"},
	"stagger":    {"balance_classes", "drift_variant"},
	"agrawal":    {"balance_classes", "perturbation", "drift_variant"},
	"hyperplane": {"n_features", "n_drift_features", "mag_change", "noise_percentage", "sigma"},
	"rbf":        {"n_classes", "n_features", "n_centroids"},
}

var variants = map[string]int{"sea": 4, "stagger": 3, "agrawal": 10}

// generator yields one row: it fills x (feature values in Names order) and
// returns the class.
type generator interface {
	next(x []float64) int
}

// New returns a seeded stream and its task.
func New(name string, o Options) (stream.Source, learn.Task, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "randomrbf" || name == "random_rbf" {
		name = "rbf"
	}
	known, ok := paramNames[name]
	if !ok {
		return nil, "", fmt.Errorf("unknown synthetic stream %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if bad := param.Unknown(o.Params, func(k string) bool { return slices.Contains(known, k) }); len(bad) > 0 {
		return nil, "", fmt.Errorf("%s has no parameter %q (known: %s)", name, bad[0], strings.Join(known, ", "))
	}
	if o.Rows < 0 || o.DriftAt < 0 || o.DriftWidth < 0 {
		return nil, "", fmt.Errorf("rows, drift position and drift width must not be negative (got %d, %d, %d)", o.Rows, o.DriftAt, o.DriftWidth)
	}
	if o.Seed < 0 || o.Seed > math.MaxUint32-1 {
		return nil, "", fmt.Errorf("seed %d out of range: use 0 to %d (River's NumPy seeds are 32-bit)", o.Seed, uint32(math.MaxUint32-1))
	}
	if nv, ok := variants[name]; ok && (o.Variant < 0 || o.Variant >= nv) {
		return nil, "", fmt.Errorf("%s variant %d out of range: use 0 to %d", name, o.Variant, nv-1)
	}
	if _, has := variants[name]; !has && o.Variant != 0 {
		return nil, "", fmt.Errorf("%s has no variants: drift comes from a new seed", name)
	}
	p := params{name: name, m: o.Params}
	first, features, task := build(name, o.Seed, o.Variant, &p)
	if p.err != nil {
		return nil, "", p.err
	}
	s := &source{rows: o.Rows, names: features, first: first, task: task}
	if o.DriftAt > 0 {
		nv := variants[name]
		seed, variant := o.Seed, o.Variant
		if nv > 0 {
			variant = (variant + 1) % nv
			if _, ok := o.Params["drift_variant"]; ok {
				variant = p.int("drift_variant", variant)
				if p.err != nil {
					return nil, "", p.err
				}
				if variant < 0 || variant >= nv {
					return nil, "", fmt.Errorf("%s drift_variant %d out of range: use 0 to %d", name, variant, nv-1)
				}
			}
		} else {
			seed++
		}
		s.second, _, _ = build(name, seed, variant, &p)
		s.mix = pyrand.NewNumPy(o.Seed)
		s.position = float64(o.DriftAt)
		s.width = float64(max(o.DriftWidth, 1))
	}
	s.x = make([]float64, len(features))
	s.sample.Features = make(map[string]any, len(features))
	return s, task, nil
}

func build(name string, seed int64, variant int, p *params) (generator, []string, learn.Task) {
	switch name {
	case "sea":
		return newSEA(seed, variant, p.float("noise", 0, 0, 1)), []string{"x0", "x1", "x2"}, learn.Binary
	case "stagger":
		return newSTAGGER(seed, variant, p.bool("balance_classes")), []string{"size", "color", "shape"}, learn.Binary
	case "agrawal":
		return newAgrawal(seed, variant, p.bool("balance_classes"), p.float("perturbation", 0, 0, 1)), agrawalNames, learn.Binary
	case "hyperplane":
		nf := p.int("n_features", 10)
		nd := p.int("n_drift_features", 2)
		if nf < 2 || nd < 0 || nd > nf {
			p.fail("n_features must be at least 2 and n_drift_features between 0 and n_features")
			nf, nd = 10, 2
		}
		g := newHyperplane(seed, nf, nd, p.float("mag_change", 0, 0, 1), p.float("noise_percentage", 0.05, 0, 1), p.float("sigma", 0.1, 0, 1))
		return g, xNames(nf), learn.Binary
	default:
		nc := p.int("n_classes", 2)
		nf := p.int("n_features", 10)
		nk := p.int("n_centroids", 50)
		if nc < 2 || nf < 1 || nk < 1 {
			p.fail("n_classes must be at least 2, n_features and n_centroids at least 1")
			nc, nf, nk = 2, 10, 50
		}
		task := learn.Binary
		if nc > 2 {
			task = learn.Multiclass
		}
		return newRBF(seed, seed, nc, nf, nk), xNames(nf), task
	}
}

func xNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "x" + strconv.Itoa(i)
	}
	return out
}

type source struct {
	rows     int
	i        int
	names    []string
	first    generator
	second   generator
	mix      *pyrand.NumPy
	position float64
	width    float64
	task     learn.Task
	x        []float64
	sample   stream.Sample
}

var labels = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// Next returns the next row; the Sample is reused by the following call.
func (s *source) Next() (*stream.Sample, error) {
	if s.rows > 0 && s.i >= s.rows {
		return nil, io.EOF
	}
	s.i++
	g := s.first
	if s.second != nil {
		// River's ConceptDriftStream draws the choice before each row.
		p := 1 / (1 + libm.Exp(-4*(float64(s.i)-s.position)/s.width))
		if !(s.mix.Rand() > p) {
			g = s.second
		}
	}
	y := g.next(s.x)
	for j, n := range s.names {
		s.sample.Features[n] = s.x[j]
	}
	if y < len(labels) {
		s.sample.Label = labels[y]
	} else {
		s.sample.Label = strconv.Itoa(y)
	}
	s.sample.Line = s.i
	return &s.sample, nil
}

// Columns lists the feature names in order.
func (s *source) Columns() []string { return slices.Clone(s.names) }

type params struct {
	name string
	m    map[string]any
	err  error
}

func (p *params) fail(msg string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %s", p.name, msg)
	}
}

func (p *params) num(key string) (float64, bool) {
	v, ok := p.m[key]
	if !ok || v == nil {
		return 0, false
	}
	if f, ok := param.Float(v); ok {
		return f, true
	}
	if s, ok := v.(string); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, true
		}
	}
	p.fail(fmt.Sprintf("parameter %q = %v is not a number", key, v))
	return 0, false
}

func (p *params) float(key string, def, lo, hi float64) float64 {
	f, ok := p.num(key)
	if !ok {
		return def
	}
	if !(f >= lo && f <= hi) {
		p.fail(fmt.Sprintf("parameter %q = %v out of range [%v, %v]", key, f, lo, hi))
		return def
	}
	return f
}

func (p *params) int(key string, def int) int {
	f, ok := p.num(key)
	if !ok {
		return def
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e6 {
		p.fail(fmt.Sprintf("parameter %q = %v is not a reasonable integer", key, f))
		return def
	}
	return int(f)
}

func (p *params) bool(key string) bool {
	v, ok := p.m[key]
	if !ok || v == nil {
		return false
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		b, err := strconv.ParseBool(t)
		if err == nil {
			return b
		}
	}
	p.fail(fmt.Sprintf("parameter %q = %v is not true or false", key, v))
	return false
}

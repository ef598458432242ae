package eval

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/olops/olops/internal/learn/metrics"
)

// Bound is one metric's threshold in a Gate.
type Bound struct {
	Metric string
	Value  float64
}

// Gate is a quality gate such as "accuracy=0.85,f1=0.8": each metric must
// reach its value; for lower-is-better metrics (mae, rmse, logloss) the
// value is a ceiling instead.
type Gate []Bound

// ParseGate reads "name=value,name=value".
func ParseGate(s string) (Gate, error) {
	var g Gate
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("gate %q: write metric=value, e.g. accuracy=0.85", part)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return nil, fmt.Errorf("gate %q: %q is not a number", part, val)
		}
		g = append(g, Bound{Metric: name, Value: v})
	}
	if len(g) == 0 {
		return nil, fmt.Errorf("empty gate: write metric=value[,metric=value], e.g. accuracy=0.85")
	}
	return g, nil
}

// Check returns an error naming every bound the metrics miss, or a metric
// the gate asks for that was not computed.
func (g Gate) Check(m map[string]float64) error {
	var fails []string
	for _, b := range g {
		v, ok := m[b.Metric]
		switch {
		case !ok:
			fails = append(fails, fmt.Sprintf("%s was not computed (computed: %s)", b.Metric, names(m)))
		case metrics.LowerIsBetter(b.Metric) && !(v <= b.Value):
			fails = append(fails, fmt.Sprintf("%s %.4f > %g (lower is better)", b.Metric, v, b.Value))
		case !metrics.LowerIsBetter(b.Metric) && !(v >= b.Value):
			fails = append(fails, fmt.Sprintf("%s %.4f < %g", b.Metric, v, b.Value))
		}
	}
	if len(fails) > 0 {
		return fmt.Errorf("quality gate failed: %s", strings.Join(fails, "; "))
	}
	return nil
}

func names(m map[string]float64) string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	if len(n) == 0 {
		return "none"
	}
	slices.Sort(n)
	return strings.Join(n, ", ")
}

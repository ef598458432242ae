package tree

import (
	"math"

	"github.com/olops/olops/internal/learn"
)

// Branch kinds (River's NumericBinaryBranch, NominalBinaryBranch,
// NominalMultiwayBranch).
const (
	numericBinary uint8 = iota
	nominalBinary
	nominalMultiway
)

// node is a tree node: a leaf when Leaf is set, else a branch. Branch
// fields are exported for gob.
//
// The fields a walk reads come first, to share a cache line (gob matches
// fields by name, so their order is free).
type node[L any] struct {
	Leaf *L

	Kind      uint8
	Feature   int
	Threshold float64 // numericBinary: x <= Threshold goes to child 0
	Children  []*node[L]
	Cat       string   // nominalBinary: x == Cat goes to child 0
	Cats      []string // nominalMultiway: child i takes Cats[i]
	Depth     int
	// Stats is the class distribution at split time (classification).
	Stats dist
	// Ada is the adaptive tree's per-branch state (HAT only).
	Ada *adaBranch[L]
}

func present(x *learn.Row, f int) bool {
	if f >= len(x.X) {
		return false
	}
	if !math.IsNaN(x.X[f]) {
		return true
	}
	return f < len(x.C) && x.C[f] != ""
}

// catOf returns the categorical value of feature f, "" when missing.
func catOf(x *learn.Row, f int) string {
	if f < len(x.C) {
		return x.C[f]
	}
	return ""
}

// branchNo is the child x goes to, or -1 when x cannot be routed (feature
// missing, or a category the multiway branch never saw: River's KeyError).
func (n *node[L]) branchNo(x *learn.Row) int {
	switch n.Kind {
	case numericBinary:
		if n.Feature >= len(x.X) || math.IsNaN(x.X[n.Feature]) {
			return -1
		}
		if x.X[n.Feature] <= n.Threshold {
			return 0
		}
		return 1
	case nominalBinary:
		v := catOf(x, n.Feature)
		if v == "" {
			return -1
		}
		if v == n.Cat {
			return 0
		}
		return 1
	default:
		v := catOf(x, n.Feature)
		if v == "" {
			return -1
		}
		for i, c := range n.Cats {
			if c == v {
				return i
			}
		}
		return -1
	}
}

// mostCommon is River's most_common_path: the heaviest child (binary: the
// left one on a tie; multiway: the first heaviest).
func (n *node[L]) mostCommon(weight func(*node[L]) float64) int {
	if n.Kind != nominalMultiway {
		if weight(n.Children[0]) < weight(n.Children[1]) {
			return 1
		}
		return 0
	}
	best, bw := 0, math.Inf(-1)
	for i, c := range n.Children {
		if w := weight(c); w > bw {
			best, bw = i, w
		}
	}
	return best
}

// walk follows x from n. With untilLeaf it takes the most common path
// where x cannot be routed and always ends at a leaf; without, it stops at
// the branch that cannot route x. It returns the last node, its parent and
// the parent's branch index (nil, -1 at the root).
func walk[L any](n *node[L], x *learn.Row, untilLeaf bool, weight func(*node[L]) float64) (last, parent *node[L], pb int) {
	pb = -1
	for n.Leaf == nil {
		var b int
		if f := n.Feature; n.Kind == numericBinary && f < len(x.X) && x.X[f] == x.X[f] {
			// branchNo's common case, inlined: a present number.
			if !(x.X[f] <= n.Threshold) {
				b = 1
			}
		} else {
			b = n.branchNo(x)
		}
		if b < 0 {
			if !untilLeaf {
				return n, parent, pb
			}
			b = n.mostCommon(weight)
		}
		parent, pb, n = n, b, n.Children[b]
	}
	return n, parent, pb
}

// leaves appends every leaf under n, left to right.
func leaves[L any](n *node[L], out []*node[L]) []*node[L] {
	if n == nil {
		return out
	}
	if n.Leaf != nil {
		return append(out, n)
	}
	for _, c := range n.Children {
		out = leaves(c, out)
	}
	return out
}

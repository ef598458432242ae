package server

import (
	"slices"
	"strconv"
	"strings"
)

// A fast path for the common request shape: one flat JSON object with
// "features" (an object of numbers, plain strings, booleans and nulls),
// "label" and "id". It builds the canonical sample directly, without the
// map and reflection of encoding/json. Anything else — escapes, non-ASCII
// text, nesting, other keys, duplicates, bad syntax — makes it give up,
// and the caller decodes with encoding/json, which also words the errors.
// FuzzFastMatchesSlow checks that both paths agree.

type fastValue struct {
	kind byte // 0 absent, 'n' null, 'f' number, 's' string, 'b' boolean
	num  float64
	str  string
}

type fastKV struct {
	name string
	v    fastValue
}

type fastReq struct {
	features    []fastKV
	hasFeatures bool
	label       fastValue
	id          string
	hasID       bool
	buf         *fastBuf
}

type fastParser struct {
	b   []byte
	i   int
	buf *fastBuf
}

// fastBuf is reused from line to line of one stream: the parser's
// feature list, the strings of the last line (a line that repeats a name
// or value at the same position gets the same string, without an
// allocation) and a slab the samples are cut from.
type fastBuf struct {
	kvs  []fastKV
	prev []string // strings of the last line, by position
	cur  []string
	slab []kv
	// The last sorted sample's names in input order, and where each of
	// its sorted features came from in it.
	inNames []string
	perm    []int
	tmp     sample
}

// intern returns b as a string, the last line's string at the same
// position when it is equal.
func (f *fastBuf) intern(b []byte) string {
	n := len(f.cur)
	var s string
	if n < len(f.prev) && f.prev[n] == string(b) {
		s = f.prev[n]
	} else {
		s = string(b)
	}
	f.cur = append(f.cur, s)
	return s
}

// endLine makes this line's strings the ones to reuse.
func (f *fastBuf) endLine() {
	f.prev, f.cur = f.cur, f.prev[:0]
}

// take returns an empty sample of capacity n cut from the slab.
func (f *fastBuf) take(n int) sample {
	if cap(f.slab)-len(f.slab) < n {
		f.slab = make([]kv, 0, max(4096, n))
	}
	x := f.slab[len(f.slab) : len(f.slab) : len(f.slab)+n]
	f.slab = f.slab[:len(f.slab)+n]
	return x
}

func (p *fastParser) ws() {
	// Most requests have no white space between tokens.
	if p.i < len(p.b) && p.b[p.i] > ' ' {
		return
	}
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) next(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a plain string: no escapes, control or non-ASCII bytes.
func (p *fastParser) str() (string, bool) {
	b, ok := p.raw()
	if !ok {
		return "", false
	}
	if p.buf != nil {
		return p.buf.intern(b), true
	}
	return string(b), true
}

// raw reads a plain string's bytes (an object key, only compared).
func (p *fastParser) raw() ([]byte, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			p.i = j + 1
			return p.b[start:j], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return nil, false
}

// number reads a JSON number (the grammar is checked here because
// strconv.ParseFloat accepts more).
func (p *fastParser) number() (float64, bool) {
	n, ok := scanNumber(p.b, p.i)
	if !ok {
		return 0, false
	}
	f, ok := n.exact()
	if !ok {
		var err error
		if f, err = strconv.ParseFloat(string(p.b[p.i:n.end]), 64); err != nil {
			return 0, false
		}
	}
	p.i = n.end
	return f, true
}

// numScan is a JSON number's digits, gathered while its grammar is
// checked, so that most numbers need no second pass (see exact).
type numScan struct {
	mant        uint64 // the first 19 digits, as an integer
	digits      int
	frac        int // digits after the point
	neg, hasExp bool
	end         int
}

// scanNumber checks the JSON number at b[i:].
func scanNumber(b []byte, i int) (numScan, bool) {
	var n numScan
	n.neg = i < len(b) && b[i] == '-'
	if n.neg {
		i++
	}
	digits := func() int {
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n.digits < 19 {
				n.mant = n.mant*10 + uint64(b[i]-'0')
			}
			n.digits++
			i++
		}
		return i - d
	}
	switch {
	case i < len(b) && b[i] == '0':
		n.digits++
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		digits()
	default:
		return n, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if n.frac = digits(); n.frac == 0 {
			return n, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		n.hasExp = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return n, false
		}
	}
	n.end = i
	return n, true
}

// pow10 are the powers of ten that float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exact converts a number without an exponent whose digits, read as an
// integer, are at most 2^53, exactly as ParseFloat does: the digits and
// the power of ten are both exact in a float64, so one correctly rounded
// division gives the correctly rounded result (Clinger's fast path).
// Other numbers return false.
func (n numScan) exact() (float64, bool) {
	if n.hasExp || n.digits == 0 || n.digits > 19 || n.mant > 1<<53 || n.frac > 22 {
		return 0, false
	}
	f := float64(n.mant)
	if n.frac > 0 {
		f /= pow10[n.frac]
	}
	if n.neg {
		f = -f
	}
	return f, true
}

func (p *fastParser) lit(s string) bool {
	if strings.HasPrefix(string(p.b[p.i:min(len(p.b), p.i+len(s))]), s) {
		p.i += len(s)
		return true
	}
	return false
}

// scalar reads a number, plain string, boolean or null.
func (p *fastParser) scalar() (fastValue, bool) {
	p.ws()
	if p.i >= len(p.b) {
		return fastValue{}, false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		s, ok := p.str()
		return fastValue{kind: 's', str: s}, ok
	case c == 't':
		return fastValue{kind: 'b', num: 1}, p.lit("true")
	case c == 'f':
		return fastValue{kind: 'b'}, p.lit("false")
	case c == 'n':
		return fastValue{kind: 'n'}, p.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		f, ok := p.number()
		return fastValue{kind: 'f', num: f}, ok
	}
	return fastValue{}, false
}

// parseFast parses b when it has the simple shape; allowID and
// allowLabel say which keys besides "features" the request type has.
func parseFast(b []byte, allowID, allowLabel bool, buf *fastBuf) (fastReq, bool) {
	p := fastParser{b: b, buf: buf}
	r := fastReq{buf: buf}
	var kvs []fastKV
	if buf != nil {
		defer func() { buf.kvs = r.features[:0] }()
		buf.cur = buf.cur[:0]
		kvs = buf.kvs
		defer buf.endLine()
	}
	if !p.next('{') {
		return r, false
	}
	seenLabel := false
	for first := true; ; first = false {
		if p.next('}') {
			if !first {
				return r, false // a trailing comma
			}
			break
		}
		if !first && !p.next(',') {
			return r, false
		}
		k, ok := p.raw()
		if !ok || !p.next(':') {
			return r, false
		}
		switch key := string(k); {
		case key == "features" && !r.hasFeatures:
			r.hasFeatures = true
			if !p.next('{') {
				return r, false
			}
			r.features = kvs[:0]
			for ffirst := true; ; ffirst = false {
				if p.next('}') {
					if !ffirst {
						return r, false
					}
					break
				}
				if !ffirst && !p.next(',') {
					return r, false
				}
				name, ok := p.str()
				if !ok || !p.next(':') {
					return r, false
				}
				v, ok := p.scalar()
				if !ok {
					return r, false
				}
				r.features = append(r.features, fastKV{name: name, v: v})
				p.ws()
				if p.i < len(p.b) && p.b[p.i] == '}' {
					p.i++
					break
				}
			}
		case key == "label" && allowLabel && !seenLabel:
			seenLabel = true
			v, ok := p.scalar()
			if !ok {
				return r, false
			}
			r.label = v
		case key == "id" && allowID && !r.hasID:
			v, ok := p.scalar()
			if !ok || (v.kind != 's' && v.kind != 'n') {
				return r, false
			}
			r.id, r.hasID = v.str, true
		default:
			return r, false
		}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			break
		}
	}
	p.ws()
	if p.i != len(p.b) || !r.hasFeatures {
		return r, false
	}
	return r, true
}

// sampleOf makes the canonical sample (the target and dropped columns
// left out); ok is false for duplicate names, which the slow path merges.
func (r *fastReq) sampleOf(skip func(string) bool) (sample, bool) {
	var x sample
	if r.buf != nil {
		x = r.buf.take(len(r.features))
	} else {
		x = make(sample, 0, len(r.features))
	}
	for _, f := range r.features {
		if f.v.kind == 'n' || (skip != nil && skip(f.name)) {
			continue
		}
		val := value{Num: f.v.num}
		if f.v.kind == 's' {
			val = value{Str: f.v.str, IsStr: true}
		}
		x = append(x, kv{Name: f.name, V: val})
	}
	if r.buf == nil || !r.buf.sortLike(x) {
		if r.buf != nil {
			r.buf.inNames = r.buf.inNames[:0]
			for _, f := range x {
				r.buf.inNames = append(r.buf.inNames, f.Name)
			}
		}
		slices.SortFunc(x, func(a, b kv) int { return strings.Compare(a.Name, b.Name) })
		for i := 1; i < len(x); i++ {
			if x[i].Name == x[i-1].Name {
				if r.buf != nil {
					r.buf.inNames = r.buf.inNames[:0]
				}
				return nil, false
			}
		}
		if r.buf != nil {
			r.buf.rememberOrder(x)
		}
	}
	// A duplicate of a skipped or null feature also merges differently.
	if len(x) != len(r.features) {
		seen := make(map[string]bool, len(r.features))
		for _, f := range r.features {
			if seen[f.name] {
				return nil, false
			}
			seen[f.name] = true
		}
	}
	return x, true
}

// sortLike sorts x as the last sorted sample when its names came in the
// same order (a stream's lines mostly do), and reports whether it did.
// Such names have no duplicates: the last sample was checked.
func (f *fastBuf) sortLike(x sample) bool {
	if len(x) != len(f.inNames) {
		return false
	}
	for i := range x {
		if x[i].Name != f.inNames[i] {
			return false
		}
	}
	f.tmp = append(f.tmp[:0], x...)
	for i, j := range f.perm {
		x[i] = f.tmp[j]
	}
	return true
}

// rememberOrder records where each name of sorted x was in the input
// (f.inNames, without duplicates).
func (f *fastBuf) rememberOrder(x sample) {
	f.perm = f.perm[:0]
	for _, kv := range x {
		f.perm = append(f.perm, slices.Index(f.inNames, kv.Name))
	}
}

// labelOf is the request's label, or the target among the features;
// present is false when there is none. Non-empty strings, numbers and
// booleans are labels (as in labelString).
func (r *fastReq) labelOf(target string) (label string, present, ok bool) {
	v := r.label
	if v.kind == 0 || v.kind == 'n' {
		v = fastValue{}
		for _, f := range r.features {
			if f.name == target {
				v = f.v
			}
		}
	}
	switch v.kind {
	case 's':
		return v.str, true, v.str != ""
	case 'f':
		return strconv.FormatFloat(v.num, 'f', -1, 64), true, true
	case 'b':
		return strconv.FormatBool(v.num == 1), true, true
	}
	return "", false, true
}

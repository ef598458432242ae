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
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
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
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		if c == '"' {
			p.i = j + 1
			return string(p.b[start:j]), true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	return "", false
}

// number reads a JSON number (the grammar is checked here because
// strconv.ParseFloat accepts more).
func (p *fastParser) number() (float64, bool) {
	b, i := p.b, p.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b[start:i]), 64)
	if err != nil {
		return 0, false
	}
	p.i = i
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
func parseFast(b []byte, allowID, allowLabel bool, kvs []fastKV) (fastReq, bool) {
	p := fastParser{b: b}
	var r fastReq
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
		key, ok := p.str()
		if !ok || !p.next(':') {
			return r, false
		}
		switch {
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
	x := make(sample, 0, len(r.features))
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
	slices.SortFunc(x, func(a, b kv) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(x); i++ {
		if x[i].Name == x[i-1].Name {
			return nil, false
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

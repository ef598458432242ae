package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/olops/olops/internal/api"
)

// The decoders take untrusted bytes: they must never panic, and whatever
// they accept must be usable (canonical features, known statuses).

func checkRefusal(t *testing.T, e *reqError) {
	t.Helper()
	if e == nil {
		return
	}
	if e.body.Error == "" {
		t.Fatal("a refusal without a message")
	}
	if e.status != http.StatusBadRequest && e.status != http.StatusUnprocessableEntity {
		t.Fatalf("decoder refused with status %d", e.status)
	}
}

func FuzzDecodePredict(f *testing.F) {
	for _, s := range []string{`{"features":{"a":1,"b":"x","c":true,"d":null}}`, `{"instances":[{"a":1},{}]}`, `{"id":"x","features":{}}`, `{"features":{"a":[1]}}`, `[]`, `{`, ``, `{"features":{"a":1e400}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodePredict(b)
		checkRefusal(t, e)
		if e != nil {
			return
		}
		inst := req.Instances
		if inst == nil {
			inst = []api.Features{req.Features}
		}
		for _, in := range inst {
			x, aerr := canonical(in, nil)
			if aerr != nil {
				if aerr.Field == "" || aerr.Error == "" {
					t.Fatalf("feature error without field: %+v", aerr)
				}
				continue
			}
			if !slices.IsSortedFunc(x, func(a, b kv) int { return strings.Compare(a.Name, b.Name) }) {
				t.Fatal("canonical features are not sorted")
			}
		}
	})
}

func FuzzDecodeLearn(f *testing.F) {
	for _, s := range []string{`{"features":{"a":1},"label":1}`, `{"id":"p-1","label":"yes"}`, `{"features":{"a":"x"},"label":{"v":1}}`, `{"features":{}, "label": null}`, `{"features":{"a":1},"label":1} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeLearn(b)
		checkRefusal(t, e)
		if e != nil {
			return
		}
		if _, e := labelOf(req.Label, req.Features, "y"); e != nil {
			checkRefusal(t, e)
		}
		x, aerr := canonical(req.Features, nil)
		if aerr != nil {
			return
		}
		// What is accepted survives the log encoding exactly.
		ev := event{X: x, Label: "l", Time: 42}
		got, err := decodeEvent(ev.appendTo(nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(got.X) != len(x) || got.Label != "l" || got.Time != 42 {
			t.Fatalf("event round trip: %+v -> %+v", ev, got)
		}
		for i := range x {
			if got.X[i].Name != x[i].Name || got.X[i].V.IsStr != x[i].V.IsStr || got.X[i].V.Str != x[i].V.Str ||
				(got.X[i].V.Num != x[i].V.Num && !(got.X[i].V.Num != got.X[i].V.Num)) {
				t.Fatalf("feature %d: %+v -> %+v", i, x[i], got.X[i])
			}
		}
	})
}

func FuzzDecodeStreamLine(f *testing.F) {
	for _, s := range []string{`{"features":{"a":1},"label":1}`, `{"features":{"a":1}}`, `{bad`, `{"features":null}`, `{"label":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, e := decodeStreamLine(b)
		checkRefusal(t, e)
	})
}

func FuzzDecodeInfer(f *testing.F) {
	for _, s := range []string{
		`{"inputs":[{"name":"a","shape":[2],"datatype":"FP64","data":[1,2]}]}`,
		`{"inputs":[{"name":"a","shape":[2,1],"datatype":"FP64","data":[[1],[2]]},{"name":"c","shape":[2],"datatype":"BYTES","data":["x","y"]}]}`,
		`{"inputs":[{"name":"a","shape":[-1],"datatype":"FP64","data":[]}]}`,
		`{"inputs":[]}`, `{"inputs":[{"name":"a","shape":[1],"datatype":"BOOL","data":[true]}],"outputs":[{"name":"proba"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, rows, e := decodeInfer(b)
		checkRefusal(t, e)
		if e != nil {
			return
		}
		if len(req.Inputs) == 0 {
			t.Fatal("accepted a request without inputs")
		}
		for _, r := range rows {
			if len(r) > len(req.Inputs) {
				t.Fatalf("row %v has more features than inputs", r)
			}
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	ev := event{X: sample{{Name: "a", V: value{Num: 1.5}}, {Name: "c", V: value{Str: "x", IsStr: true}}}, Label: "1", Time: 7}
	f.Add(ev.appendTo(nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEvent(b)
		if err != nil {
			return
		}
		// Whatever decodes survives a round trip unchanged.
		again, err := decodeEvent(e.appendTo(nil))
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v", err)
		}
		if fmt.Sprintf("%v %q %d %+v", again.X, again.Label, again.Time, again.Served) != fmt.Sprintf("%v %q %d %+v", e.X, e.Label, e.Time, e.Served) {
			t.Fatalf("round trip changed the event: %+v -> %+v", e, again)
		}
	})
}

func TestReadLineLimits(t *testing.T) {
	in := "short\n" + strings.Repeat("x", 100) + "\nlast"
	br := bufioReader(in, 16)
	var got []string
	var longs []bool
	for range 5 {
		line, long, err := readLine(br, 20, nil)
		got = append(got, string(line))
		longs = append(longs, long)
		if err != nil {
			break
		}
	}
	if len(got) != 3 || got[0] != "short" || !longs[1] || got[2] != "last" || longs[2] {
		t.Fatalf("lines %q long %v", got, longs)
	}
}

// FuzzFastMatchesSlow: whatever the fast parser accepts, encoding/json
// accepts too, with the same features and label.
func FuzzFastMatchesSlow(f *testing.F) {
	for _, s := range []string{
		`{"features":{"a":1,"b":"x","c":true,"d":null},"label":1}`,
		`{"features":{"a":-0.5e3,"y":"yes"}}`,
		`{"label":"no","features":{}}`,
		`{"features":{"a":1,"a":2},"label":1}`,
		`{"features":{"a":01},"label":1}`,
		`{"features":{"a":1.},"label":1}`,
		` { "features" : { "a" : 1 } , "label" : false } `,
		`{"features":{"a":1},"label":""}`,
		`{"features":{"a":1},"id":"x"}`,
		`{"features":{"y":null},"label":null}`,
	} {
		f.Add([]byte(s))
	}
	skip := func(n string) bool { return n == "y" || n == "drop" }
	f.Fuzz(func(t *testing.T, b []byte) {
		r, ok := parseFast(b, false, true, nil)
		if !ok {
			return
		}
		x, ok := r.sampleOf(skip)
		if !ok {
			return
		}
		// With a stream's buffer (interned strings, the last line's
		// order): the same sample, the second time too.
		var buf fastBuf
		for range 2 {
			buf.slab = buf.slab[:0]
			br, ok := parseFast(b, false, true, &buf)
			if !ok {
				t.Fatalf("%q: refused with a buffer", b)
			}
			bx, ok := br.sampleOf(skip)
			if !ok || fmt.Sprint(bx) != fmt.Sprint(x) {
				t.Fatalf("%q: with a buffer %v (%v), without %v", b, bx, ok, x)
			}
		}
		label, present, lok := r.labelOf("y")
		sl, e := decodeStreamLine(b)
		if e != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused: %v", b, e)
		}
		sx, aerr := canonical(sl.Features, skip)
		if aerr != nil {
			t.Fatalf("fast path accepted %q, canonical refused: %v", b, aerr.Error)
		}
		if fmt.Sprint(sx) != fmt.Sprint(x) {
			t.Fatalf("%q: fast %v, slow %v", b, x, sx)
		}
		slowPresent := !(sl.Label == nil && sl.Features["y"] == nil)
		if slowPresent != present {
			t.Fatalf("%q: label present fast %v, slow %v", b, present, slowPresent)
		}
		if !present {
			return
		}
		sLabel, rerr := labelOf(sl.Label, sl.Features, "y")
		if (rerr == nil) != lok || (lok && sLabel != label) {
			t.Fatalf("%q: label fast %q (ok %v), slow %q (%v)", b, label, lok, sLabel, rerr)
		}
	})
}

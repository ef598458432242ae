package stream

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t testing.TB, name, content string, gz bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	data := []byte(content)
	if gz {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readAll(t *testing.T, c *CSV) []Sample {
	t.Helper()
	var out []Sample
	for i := 0; i < 10000; i++ {
		s, err := c.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		f := map[string]any{}
		for k, v := range s.Features {
			f[k] = v
		}
		out = append(out, Sample{Features: f, Label: s.Label, Line: s.Line})
	}
	t.Fatal("no EOF")
	return nil
}

func TestCSVTypesAndMissing(t *testing.T) {
	for _, gz := range []bool{false, true} {
		path := writeFile(t, "d.csv", "a,b,color,y\n1,2.5,red,yes\n,3,,no\n4,-1e2,blue,yes\n", gz)
		c, err := OpenCSV(path, CSVOptions{Target: "y"})
		if err != nil {
			t.Fatal(err)
		}
		got := readAll(t, c)
		c.Close()
		if len(got) != 3 {
			t.Fatalf("gz=%v: %d samples, want 3", gz, len(got))
		}
		if got[0].Features["a"] != 1.0 || got[0].Features["b"] != 2.5 || got[0].Features["color"] != "red" || got[0].Label != "yes" || got[0].Line != 2 {
			t.Errorf("gz=%v: first sample %+v", gz, got[0])
		}
		if _, ok := got[1].Features["a"]; ok {
			t.Errorf("empty cell should be missing: %+v", got[1].Features)
		}
		if _, ok := got[1].Features["color"]; ok {
			t.Errorf("empty categorical should be missing: %+v", got[1].Features)
		}
		if got[2].Features["b"] != -100.0 {
			t.Errorf("b = %v, want -100", got[2].Features["b"])
		}
		if !c.Numeric("a") || c.Numeric("color") || c.Target().Numeric || c.Target().Distinct != 2 {
			t.Errorf("typing: a %v color %v target %+v", c.Numeric("a"), c.Numeric("color"), c.Target())
		}
	}
}

func TestCSVDropAndErrors(t *testing.T) {
	path := writeFile(t, "d.csv", "a,b,y\n1,2,0\n3,4,1\n", false)
	c, err := OpenCSV(path, CSVOptions{Target: "y", Drop: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	s := readAll(t, c)
	if _, ok := s[0].Features["b"]; ok || len(s[0].Features) != 1 {
		t.Errorf("dropped column present: %+v", s[0].Features)
	}
	if _, err := OpenCSV(path, CSVOptions{Target: "nope"}); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("unknown target: %v", err)
	}
	if _, err := OpenCSV(path, CSVOptions{Target: "y", Drop: []string{"zz"}}); err == nil {
		t.Error("unknown drop column accepted")
	}
	if _, err := OpenCSV(path, CSVOptions{}); err == nil {
		t.Error("missing target accepted")
	}
	if _, err := OpenCSV(filepath.Join(t.TempDir(), "none.csv"), CSVOptions{Target: "y"}); err == nil {
		t.Error("missing file accepted")
	}
}

// brokenFile has a short row on line 4 and a bad number on line 6 in a
// column that is numeric in the other 20 rows.
func brokenFile(t *testing.T) string {
	var b strings.Builder
	b.WriteString("x,y\n1,0\n2,1\n3\n")
	b.WriteString("4,0\nabc,1\n")
	for i := 0; i < 20; i++ {
		b.WriteString("5,1\n")
	}
	return writeFile(t, "bad.csv", b.String(), false)
}

func TestCSVBrokenRowsStop(t *testing.T) {
	c, err := OpenCSV(brokenFile(t), CSVOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var le *LineError
	for i := 0; i < 3; i++ {
		_, err = c.Next()
	}
	if !errors.As(err, &le) || le.Line != 4 || !strings.Contains(err.Error(), "1 fields, the header has 2") {
		t.Fatalf("short row: %v", err)
	}
	c.Next()
	_, err = c.Next()
	if !errors.As(err, &le) || le.Line != 6 || !strings.Contains(err.Error(), `column "x" is numeric: "abc"`) {
		t.Fatalf("bad number: %v", err)
	}
}

func TestCSVSkipBad(t *testing.T) {
	c, err := OpenCSV(brokenFile(t), CSVOptions{Target: "y", SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := readAll(t, c)
	if len(s) != 23 || c.Skipped() != 2 {
		t.Fatalf("%d samples, %d skipped; want 23 and 2", len(s), c.Skipped())
	}
}

func TestCSVEmptyTarget(t *testing.T) {
	c, err := OpenCSV(writeFile(t, "e.csv", "x,y\n1,\n", false), CSVOptions{Target: "y"})
	if err != nil {
		t.Fatal(err)
	}
	var le *LineError
	if _, err := c.Next(); !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("empty target: %v", err)
	}
}

// FuzzCSV feeds arbitrary bytes: OpenCSV and Next must never panic, and
// every error from Next is a *LineError or io.EOF ends the stream.
func FuzzCSV(f *testing.F) {
	f.Add([]byte("a,b,y\n1,2,0\n"))
	f.Add([]byte("a,y\n\"1,0\n"))
	f.Add([]byte("y\n\n\n1\n"))
	f.Add([]byte("a,y\n1,2,3\nx,1\n1e400,0\n"))
	f.Add([]byte("\ufeffa,y\nNaN,1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, skip := range []bool{false, true} {
			c, err := OpenCSV(path, CSVOptions{Target: "y", SkipBad: skip})
			if err != nil {
				continue
			}
			for i := 0; i <= len(data)+1; i++ {
				s, err := c.Next()
				if err == io.EOF {
					break
				}
				var le *LineError
				if err != nil {
					if skip || !errors.As(err, &le) {
						t.Fatalf("skip=%v: unexpected error %v", skip, err)
					}
					continue
				}
				if s.Label == "" {
					t.Fatal("sample with an empty label")
				}
				for k, v := range s.Features {
					if x, ok := v.(float64); ok && (x != x || x > 1e308 || x < -1e308) {
						t.Fatalf("feature %q = %v", k, x)
					}
				}
			}
			c.Close()
		}
	})
}

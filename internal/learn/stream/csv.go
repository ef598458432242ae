package stream

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// CSVOptions say how a CSV file becomes samples.
type CSVOptions struct {
	Target  string   // the label column (required)
	Drop    []string // columns never used as features
	SkipBad bool     // skip and count broken rows instead of stopping
}

// LineError is a broken row: its line in the file and what is wrong.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// TargetInfo describes the target column, from the scan of the whole file.
type TargetInfo struct {
	Numeric  bool     // every non-empty value parses as a finite number
	Distinct int      // distinct non-empty values, counted up to MaxLabels+1
	Labels   []string // the first MaxLabels distinct values, in order of appearance
}

// MaxLabels bounds TargetInfo.Labels.
const MaxLabels = 100

// CSV reads a CSV file (optionally gzip-compressed, detected by its magic
// bytes) with a header row. Columns are typed by a first pass over the
// file: a column is numeric when its non-empty values parse as finite
// numbers, allowing a few broken cells (at most 10% of them), which are then
// reported as broken rows rather than turning the whole column into text.
// Empty cells are missing and left out of the sample.
type CSV struct {
	path    string
	opts    CSVOptions
	f       *os.File
	r       *csv.Reader
	cols    []string
	numeric []bool
	use     []bool // column is a feature
	target  int
	info    TargetInfo
	sample  Sample
	skipped int
}

// OpenCSV scans the file once to type its columns and opens it for Next.
func OpenCSV(path string, o CSVOptions) (*CSV, error) {
	if o.Target == "" {
		return nil, errors.New("no target column: name the label column (--target)")
	}
	c := &CSV{path: path, opts: o}
	if err := c.scan(); err != nil {
		return nil, err
	}
	if err := c.open(); err != nil {
		return nil, err
	}
	c.sample.Features = make(map[string]any, len(c.cols))
	return c, nil
}

func (c *CSV) open() error {
	f, err := os.Open(c.path)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	var rd io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", c.path, err)
		}
		rd = gz
	}
	r := csv.NewReader(rd)
	r.FieldsPerRecord = -1 // checked per row, to report the line
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		f.Close()
		return fmt.Errorf("%s is empty: a CSV file needs a header row", c.path)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: header: %w", c.path, err)
	}
	if c.cols == nil {
		c.cols = make([]string, len(header))
		for i, h := range header {
			c.cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		}
	}
	c.f, c.r = f, r
	return nil
}

func parseNum(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// scan types the columns and describes the target.
func (c *CSV) scan() error {
	if err := c.open(); err != nil {
		return err
	}
	defer c.f.Close()
	c.target = -1
	seen := map[string]bool{}
	for i, name := range c.cols {
		if name == "" {
			return fmt.Errorf("%s: header column %d has no name", c.path, i+1)
		}
		if seen[name] {
			return fmt.Errorf("%s: header names column %q twice", c.path, name)
		}
		seen[name] = true
		if name == c.opts.Target {
			c.target = i
		}
	}
	if c.target < 0 {
		return fmt.Errorf("%s has no column %q (columns: %s)", c.path, c.opts.Target, strings.Join(c.cols, ", "))
	}
	for _, d := range c.opts.Drop {
		if !seen[d] {
			return fmt.Errorf("%s has no column %q to drop (columns: %s)", c.path, d, strings.Join(c.cols, ", "))
		}
	}
	n := len(c.cols)
	good, bad := make([]int, n), make([]int, n)
	labels := map[string]bool{}
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			break
		}
		if err != nil || len(rec) != n {
			// Broken rows are reported by Next; typing ignores them.
			var pe *csv.ParseError
			if err != nil && !errors.As(err, &pe) {
				return fmt.Errorf("%s: %w", c.path, err)
			}
			continue
		}
		for i, v := range rec {
			if v == "" {
				continue
			}
			if _, ok := parseNum(v); ok {
				good[i]++
			} else {
				bad[i]++
			}
		}
		if v := rec[c.target]; v != "" && len(labels) <= MaxLabels && !labels[v] {
			labels[v] = true
			if len(c.info.Labels) < MaxLabels {
				c.info.Labels = append(c.info.Labels, v)
			}
		}
	}
	c.numeric = make([]bool, n)
	c.use = make([]bool, n)
	for i := range c.cols {
		c.numeric[i] = good[i] > 0 && bad[i]*10 <= good[i]+bad[i]
		c.use[i] = i != c.target
	}
	for _, d := range c.opts.Drop {
		for i, name := range c.cols {
			if name == d {
				c.use[i] = false
			}
		}
	}
	c.info.Numeric = good[c.target] > 0 && bad[c.target] == 0
	c.info.Distinct = len(labels)
	return nil
}

// Columns returns the header.
func (c *CSV) Columns() []string { return c.cols }

// Numeric reports whether column name was typed numeric.
func (c *CSV) Numeric(name string) bool {
	for i, n := range c.cols {
		if n == name {
			return c.numeric[i]
		}
	}
	return false
}

// Column is a feature column of a CSV file.
type Column struct {
	Name    string
	Numeric bool
}

// FeatureColumns returns the feature columns (not the target, not the
// dropped ones) in file order. A pipeline that registers them in this
// order before the first sample sums its features in the same order as
// River, whose samples are dicts in column order.
func (c *CSV) FeatureColumns() []Column {
	var out []Column
	for i, name := range c.cols {
		if c.use[i] {
			out = append(out, Column{Name: name, Numeric: c.numeric[i]})
		}
	}
	return out
}

// Target describes the target column.
func (c *CSV) Target() TargetInfo { return c.info }

// Skipped is the number of broken rows skipped so far (with SkipBad).
func (c *CSV) Skipped() int { return c.skipped }

// Close closes the file.
func (c *CSV) Close() error {
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}

// Next returns the next sample, io.EOF at the end, or a *LineError for a
// broken row (unless SkipBad). The Sample and its map are reused by the
// next call.
func (c *CSV) Next() (*Sample, error) {
	if c.f == nil {
		return nil, errors.New("read from a closed CSV file")
	}
	for {
		s, err := c.next()
		var le *LineError
		if err != nil && c.opts.SkipBad && errors.As(err, &le) {
			c.skipped++
			continue
		}
		return s, err
	}
}

func (c *CSV) next() (*Sample, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &LineError{Line: pe.Line, Err: pe.Err}
		}
		return nil, fmt.Errorf("%s: %w", c.path, err)
	}
	line, _ := c.r.FieldPos(0)
	if len(rec) != len(c.cols) {
		return nil, &LineError{Line: line, Err: fmt.Errorf("%d fields, the header has %d", len(rec), len(c.cols))}
	}
	s := &c.sample
	clear(s.Features)
	s.Line = line
	s.Label = rec[c.target]
	if s.Label == "" {
		return nil, &LineError{Line: line, Err: fmt.Errorf("no value in target column %q", c.cols[c.target])}
	}
	for i, v := range rec {
		if !c.use[i] || v == "" {
			continue
		}
		if !c.numeric[i] {
			s.Features[c.cols[i]] = strings.Clone(v)
			continue
		}
		f, ok := parseNum(v)
		if !ok {
			return nil, &LineError{Line: line, Err: fmt.Errorf("column %q is numeric: %q is not a number", c.cols[i], v)}
		}
		s.Features[c.cols[i]] = f
	}
	s.Label = strings.Clone(s.Label)
	return s, nil
}

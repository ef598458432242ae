// Package stream reads samples in order: a CSV file (plain or gzip) or any
// other Source, such as the synthetic streams of package synth.
package stream

// Sample is one row of a stream: named raw feature values (float64 or
// string; a missing value is absent) and the target's raw text.
type Sample struct {
	Features map[string]any
	Label    string
	Line     int // 1-based line in the file, or the row number for generated streams
}

// Source yields samples in order; Next returns io.EOF at the end. The
// Sample's map may be reused by the next call.
type Source interface {
	Next() (*Sample, error)
}

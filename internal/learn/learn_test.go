package learn

import (
	"testing"
	"unsafe"
)

// TestFloatsFillCacheLines holds Floats to what the engine's speed relies
// on: the array starts on a 64-byte boundary, whatever was allocated
// before it, and has room for the capacity asked.
func TestFloatsFillCacheLines(t *testing.T) {
	var keep [][]byte
	for n := 1; n <= 300; n++ {
		keep = append(keep, make([]byte, n%97)) // move the allocator along
		s := Floats(n, n+n/2+1)
		if len(s) != n || cap(s) < n+n/2+1 || cap(s)%8 != 0 {
			t.Fatalf("Floats(%d, %d): len %d cap %d", n, n+n/2+1, len(s), cap(s))
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(s))); p%64 != 0 {
			t.Fatalf("Floats(%d, ...) starts at %#x, not on a 64-byte boundary", n, p)
		}
	}
	_ = keep
}

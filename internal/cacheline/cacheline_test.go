package cacheline

import (
	"testing"
	"unsafe"
)

func TestSizes(t *testing.T) {
	if got := unsafe.Sizeof(Uint64{}); got != Size {
		t.Errorf("unsafe.Sizeof(Uint64{}) = %d, want %d", got, Size)
	}
	if got := unsafe.Sizeof(Pad{}); got != Size {
		t.Errorf("unsafe.Sizeof(Pad{}) = %d, want %d", got, Size)
	}
	var a [4]Uint64
	for i := range a {
		a[i].Add(uint64(i + 1))
	}
	for i := range a {
		if got := a[i].Load(); got != uint64(i+1) {
			t.Errorf("a[%d].Load() = %d, want %d", i, got, i+1)
		}
	}
}

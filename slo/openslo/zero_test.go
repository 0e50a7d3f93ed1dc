package openslo_test

import (
	"testing"

	"github.com/sloguard/sloguard/slo/openslo"
)

// TestZeroValues checks what the type docs say of the zero values.
func TestZeroValues(t *testing.T) {
	var e openslo.Error
	if got, want := e.Error(), ":0: document 0"; got != want || e.Unwrap() != nil {
		t.Errorf("zero Error: Error() = %q, Unwrap() = %v, want %q, nil", got, e.Unwrap(), want)
	}
	if slos, err := openslo.Decode(openslo.File{}); len(slos) != 0 || err != nil {
		t.Errorf("Decode(File{}) = %v, %v, want no SLOs and no error", slos, err)
	}
}

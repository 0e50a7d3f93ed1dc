package openslo_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/sloguard/sloguard/slo/openslo"
)

// FuzzDecode checks that Decode never panics, that every problem it reports
// is an *Error with a position, and that what it accepts the engine accepts
// and Encode writes back in a form Decode reads again.
func FuzzDecode(f *testing.F) {
	for _, path := range []string{"testdata/checkout.yaml", "testdata/invalid.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := openslo.Decode(openslo.File{Name: "f.yaml", Data: data})
		if err != nil {
			j, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("Decode error %T is not a joined list", err)
			}
			for _, e := range j.Unwrap() {
				var pe *openslo.Error
				if !errors.As(e, &pe) || pe.File != "f.yaml" || pe.Doc < 1 {
					t.Fatalf("Decode problem %v (%T) has no position", e, e)
				}
				if !errors.Is(e, openslo.ErrInvalid) && !errors.Is(e, openslo.ErrUnsupported) {
					t.Fatalf("Decode problem %v wraps neither ErrInvalid nor ErrUnsupported", e)
				}
			}
			return
		}
		for _, s := range slos {
			if err := s.Objective.Validate(); err != nil {
				t.Fatalf("Decode accepted an invalid objective: %v", err)
			}
		}
		var buf bytes.Buffer
		if err := openslo.Encode(&buf, slos...); err != nil {
			return // some valid objectives OpenSLO can not express (e.g. sub-minute lookbacks)
		}
		back, err := openslo.Decode(openslo.File{Name: "encoded", Data: buf.Bytes()})
		if err != nil || len(back) != len(slos) {
			t.Fatalf("Decode(Encode()) = %d SLOs, %v; want %d\n%s", len(back), err, len(slos), buf.String())
		}
	})
}

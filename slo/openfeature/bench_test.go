package openfeature_test

import (
	"context"
	"testing"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/sloguard/sloguard/slo/openfeature"
)

// BenchmarkBooleanEvaluation measures the provider's own cost around a
// wrapped provider that costs nothing: an ungated flag, a gated flag whose
// gate is open (both one map lookup, plus one atomic load when gated) and
// one whose gate is closed (which builds the flag metadata).
func BenchmarkBooleanEvaluation(b *testing.B) {
	eng := newEngine(b)
	p, err := openfeature.NewProvider(&fakeProvider{}, eng, openfeature.WithGatedFlag("gated", "risky", false))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	flat := of.FlattenedContext{}
	run := func(b *testing.B, flag string, want bool) {
		b.Run("serial", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.BooleanEvaluation(ctx, flag, false, flat).Value != want {
					b.Fatal("wrong value")
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if p.BooleanEvaluation(ctx, flag, false, flat).Value != want {
						b.Error("wrong value")
						return
					}
				}
			})
		})
	}
	b.Run("ungated", func(b *testing.B) { run(b, "plain", true) })
	b.Run("open", func(b *testing.B) { run(b, "gated", true) })
	closeGate(b, eng, t0)
	b.Run("closed", func(b *testing.B) { run(b, "gated", false) })
}

package slo

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sloguard/sloguard/budget"
)

func sampleSnapshot(t testing.TB) []byte {
	t.Helper()
	l, err := budget.NewLedger(time.Hour, time.Minute, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 50 {
		l.Add(budget.Outcome(1+i%3), uint64(i*i))
		l.Advance(base.Add(time.Duration(i) * 13 * time.Second))
	}
	ls, _ := l.Snapshot()
	f := snapshotFile{written: base.Add(time.Hour), objectives: []objectiveSnapshot{
		{name: "checkout-availability", fingerprint: 42, ledger: ls},
		{name: "b", fingerprint: 1 << 63, ledger: ls},
	}}
	return f.appendBinary(nil)
}

func TestSnapshotCodecRoundTrip(t *testing.T) {
	data := sampleSnapshot(t)
	f, err := decodeSnapshot(data)
	if err != nil {
		t.Fatalf("decodeSnapshot = %v", err)
	}
	if again := f.appendBinary(nil); string(again) != string(data) {
		t.Errorf("appendBinary(decodeSnapshot(x)) differs from x")
	}
	if len(f.objectives) != 2 || f.objectives[1].fingerprint != 1<<63 || f.objectives[0].name != "checkout-availability" {
		t.Errorf("decoded objectives = %+v", f.objectives)
	}
}

// FuzzDecodeSnapshot: any input decodes or fails with ErrSnapshot, never
// panics, and what decodes encodes to the same meaning.
func FuzzDecodeSnapshot(f *testing.F) {
	valid := sampleSnapshot(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte("sloguard"))
	empty := snapshotFile{written: time.Unix(0, 0)}.appendBinary(nil)
	f.Add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSnapshot(data)
		if err != nil {
			if !errorsIs(err) {
				t.Fatalf("decodeSnapshot error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		again, err := decodeSnapshot(s.appendBinary(nil))
		if err != nil {
			t.Fatalf("decodeSnapshot(appendBinary(s)) = %v", err)
		}
		if !reflect.DeepEqual(normal(again), normal(s)) {
			t.Fatalf("round trip changed the snapshot:\n%+v\n%+v", s, again)
		}
	})
}

func normal(f snapshotFile) snapshotFile {
	f.written = f.written.UTC()
	for i := range f.objectives {
		f.objectives[i].ledger.Time = f.objectives[i].ledger.Time.UTC()
	}
	return f
}

func errorsIs(err error) bool { return errors.Is(err, ErrSnapshot) }

// BenchmarkSnapshot measures one snapshot of a 30-day objective with the
// default rules, full buckets: what the evaluator encodes every interval,
// and what a restart decodes.
func BenchmarkSnapshot(b *testing.B) {
	spec := Objective{Name: "checkout-availability", Target: 0.999}.withDefaults().Spec()
	l, err := budget.NewLedger(spec.Period, spec.Windows()...)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 * 24 * 60 {
		l.Add(budget.Good, uint64(1000+i%7))
		l.Add(budget.Bad, uint64(i%3))
		l.Advance(now.Add(time.Duration(i) * time.Minute))
	}
	ls, _ := l.Snapshot()
	f := snapshotFile{written: ls.Time, objectives: []objectiveSnapshot{{name: "checkout-availability", ledger: ls}}}
	data := f.appendBinary(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, _ := l.Snapshot()
			snapshotFile{written: s.Time, objectives: []objectiveSnapshot{{name: "x", ledger: s}}}.appendBinary(nil)
		}
		b.ReportMetric(float64(len(data)), "file-bytes")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeSnapshot(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package slo

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
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
	f.history = historySnapshot{
		load: []loadSample{
			{time: base.UnixNano(), level: 1.5, scale: 2.25, scaleKnown: true, admitted: [4]uint32{1, 2, 3, 4}, rejected: [4]uint32{0, 0, 5, 1 << 31}},
			{time: base.Add(time.Minute).UnixNano(), admitted: [4]uint32{math.MaxUint32}},
		},
		objs: []objectiveHistory{
			{name: "checkout-availability", samples: []objSample{{state: budget.StatePage, remaining: 0.25, burn: 14.5, good: 9, bad: 1, shed: 3}, {state: absent}}},
			{name: "b", samples: []objSample{{}, {state: budget.StateOK, remaining: -0.5, good: math.MaxUint32}}},
		},
	}
	f.events = []Event{
		{Time: base, Kind: StateChanged, Objective: "b", From: budget.StateOK, To: budget.StatePage, Remaining: 0.5,
			Burns: []WindowBurn{{Window: 5 * time.Minute, Burn: 20}, {Window: time.Hour, Burn: 15}}},
		{Time: base.Add(time.Second), Kind: SheddingChanged, FromLevel: 0.5, Level: 1.5},
		{Time: base.Add(2 * time.Second), Kind: BreakerChanged, Dependency: "payments", BreakerFrom: BreakerClosed, BreakerTo: BreakerOpen},
		{Time: base.Add(3 * time.Second), Kind: GateChanged, Gate: "recommendations", Enabled: true, Reason: "budget back"},
		{Time: base.Add(4 * time.Second), Kind: FreezeChanged, Frozen: true, Reason: "exhausted", Objective: "b", Remaining: math.Inf(-1)},
	}
	return f.appendBinary(nil)
}

// asVersion1 rewrites a version-2 snapshot of no history and no events as
// version 1 wrote it: the same without the three empty trailing sections.
func asVersion1(t testing.TB, v2 []byte) []byte {
	t.Helper()
	body := v2[:len(v2)-4]
	if string(body[len(body)-3:]) != "\x00\x00\x00" {
		t.Fatalf("asVersion1: the snapshot has a history or events")
	}
	b := append([]byte(nil), body[:len(body)-3]...)
	binary.LittleEndian.PutUint16(b[len(snapshotMagic):], 1)
	binary.LittleEndian.PutUint32(b[len(snapshotMagic)+2:], uint32(len(b)-headerLen))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// TestSnapshotVersion1 checks that a snapshot of format version 1 still
// decodes: its ledgers as written, no history, no events.
func TestSnapshotVersion1(t *testing.T) {
	f, err := decodeSnapshot(sampleSnapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	f.history, f.events = historySnapshot{}, nil
	v1 := asVersion1(t, f.appendBinary(nil))
	got, err := decodeSnapshot(v1)
	if err != nil {
		t.Fatalf("decodeSnapshot(version 1) = %v", err)
	}
	if !reflect.DeepEqual(normal(got), normal(f)) {
		t.Errorf("decodeSnapshot(version 1) = %+v, want %+v", got, f)
	}
	if len(got.history.load) != 0 || len(got.events) != 0 {
		t.Errorf("decodeSnapshot(version 1) has a history of %d samples and %d events, want none", len(got.history.load), len(got.events))
	}
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
	if len(f.history.load) != 2 || f.history.load[0].rejected[3] != 1<<31 || len(f.history.objs) != 2 ||
		f.history.objs[0].samples[0].burn != 14.5 || f.history.objs[0].samples[1].state != absent {
		t.Errorf("decoded history = %+v", f.history)
	}
	if len(f.events) != 5 || f.events[0].Burns[1].Burn != 15 || f.events[2].Dependency != "payments" ||
		!f.events[3].Enabled || !math.IsInf(f.events[4].Remaining, -1) {
		t.Errorf("decoded events = %+v", f.events)
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
	f.Add(asVersion1(f, empty))
	if noHistory, err := decodeSnapshot(valid); err == nil {
		noHistory.history, noHistory.events = historySnapshot{}, nil
		f.Add(asVersion1(f, noHistory.appendBinary(nil)))
	}
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
	for i := range f.events {
		f.events[i].Time = f.events[i].Time.UTC()
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
	// The same with a full day of history at the default resolution (720
	// samples, two minutes apart), as an engine with one objective and
	// shedding keeps it.
	day := f
	oh := objectiveHistory{name: "checkout-availability"}
	for i := range 720 {
		at := ls.Time.Add(time.Duration(i-720) * 2 * time.Minute)
		day.history.load = append(day.history.load, loadSample{time: at.UnixNano(), level: float32(i%40) / 10,
			admitted: [4]uint32{uint32(6000 + i%13), uint32(30000 + i%17), uint32(12000 + i%7), uint32(12000 + i%11)},
			rejected: [4]uint32{0, 0, uint32(i % 500), uint32(i % 3000)}})
		oh.samples = append(oh.samples, objSample{state: budget.StateOK, remaining: 1 - float32(i)/2000, burn: float32(i%50) / 10,
			good: uint32(60000 + i%19), bad: uint32(i % 60), shed: uint32(i % 3500)})
	}
	day.history.objs = []objectiveHistory{oh}
	dataDay := day.appendBinary(nil)
	b.Logf("snapshot of a 30-day objective: %d bytes; with a day of history: %d bytes", len(data), len(dataDay))
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
	b.Run("encode-day", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			day.appendBinary(nil)
		}
		b.ReportMetric(float64(len(dataDay)), "file-bytes")
	})
	b.Run("decode-day", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeSnapshot(dataDay); err != nil {
				b.Fatal(err)
			}
		}
	})
}

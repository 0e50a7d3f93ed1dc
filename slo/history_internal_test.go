package slo

import (
	"testing"
	"time"
	"unsafe"
)

// TestHistoryMemory measures what one objective holds with the default
// history: its ledger and its samples, within issue 9's 64 KiB; and the
// sizes the documentation states.
func TestHistoryMemory(t *testing.T) {
	eng, err := New([]Objective{{Name: "a", Target: 0.999, Period: 30 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if got := unsafe.Sizeof(objSample{}); got != 24 {
		t.Errorf("objSample is %d bytes, want 24 as documented", got)
	}
	if got := unsafe.Sizeof(loadSample{}); got != 56 {
		t.Errorf("loadSample is %d bytes, want 56 as documented", got)
	}
	h := eng.history
	samples := cap(h.objs[0].buf) * int(unsafe.Sizeof(objSample{}))
	ledger := eng.recs[0].ledger.Bytes()
	t.Logf("per objective: ledger %d B, history %d B (%d samples), total %d B (%.1f KiB)",
		ledger, samples, cap(h.objs[0].buf), ledger+samples, float64(ledger+samples)/1024)
	if samples != 1440*24 {
		t.Errorf("history of one objective = %d B, want 1440 × 24", samples)
	}
	if total := ledger + samples; total > 64<<10 {
		t.Errorf("ledger and history of one objective = %d B, want at most 64 KiB", total)
	}
}

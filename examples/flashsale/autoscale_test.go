package main

import (
	"math"
	"testing"
	"time"
)

func TestNeedOf(t *testing.T) {
	tests := []struct {
		name, exposition string
		want             float64 // NaN: absent
	}{
		{"absent", "# TYPE sloguard_faults_total counter\nsloguard_faults_total 0\n", math.NaN()},
		{"one", "# TYPE sloguard_scale_need_ratio gauge\nsloguard_scale_need_ratio{otel_scope_name=\"x\"} 2.5\n", 2.5},
		{"summed", "# TYPE sloguard_scale_need_ratio gauge\nsloguard_scale_need_ratio{pod=\"a\"} 2.5\nsloguard_scale_need_ratio{pod=\"b\"} 0.5\n", 3},
	}
	for _, tt := range tests {
		got, err := needOf([]byte(tt.exposition))
		if err != nil || !(got == tt.want || math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("%s: needOf = %v, %v, want %v, nil", tt.name, got, err, tt.want)
		}
	}
	if _, err := needOf([]byte("not { an exposition")); err == nil {
		t.Errorf("needOf(garbage) = nil error, want one")
	}
}

func TestPoolResize(t *testing.T) {
	p := newElasticPool(2, 6, nil)
	if got := p.resize(5); got != 5 {
		t.Fatalf("resize(5) = %d, want 5", got)
	}
	// Five connections: five acquire at once, the sixth does not.
	for i := range 5 {
		select {
		case p.slots <- struct{}{}:
		default:
			t.Fatalf("connection %d of 5 not free", i+1)
		}
	}
	select {
	case p.slots <- struct{}{}:
		t.Fatal("a sixth connection was free")
	default:
	}
	// Shrinking to 2 with all 5 busy waits for them to come free.
	if got := p.resize(2); got != 5 {
		t.Errorf("resize(2) with 5 busy = %d, want 5 for now", got)
	}
	for range 3 {
		<-p.slots // three requests end
	}
	if got := p.resize(2); got != 2 {
		t.Errorf("resize(2) after 3 ended = %d, want 2", got)
	}
	if got := p.resize(100); got != 6 {
		t.Errorf("resize(100) = %d, want the most, 6", got)
	}
}

// TestAutoscalerStep checks the HPA-like decisions with time as an
// argument: nothing on an absent signal or within the tolerance, up after
// the provisioning delay, by the replicas the signal measures while it
// settles, down after the stabilisation window, within the bounds.
func TestAutoscalerStep(t *testing.T) {
	cfg := defaultConfig()
	cfg.Conns, cfg.MaxReplicas, cfg.Provision, cfg.ScaleDownWindow = 2, 8, 3*time.Second, 4*time.Second
	a := newAutoscaler("", newElasticPool(2, 16, nil), nil, cfg)
	s := time.Second
	steps := []struct {
		at            time.Duration
		need          float64
		ready, target int
	}{
		{1 * s, math.NaN(), 1, 1}, // absent: nothing
		{2 * s, 1.08, 1, 1},       // within 10%
		{3 * s, 2.4, 1, 3},        // ceil(1 × 2.4), ready in 3s
		{4 * s, 2.5, 1, 3},        // still 3
		{6 * s, 2.5, 3, 3},        // arrived; the signal still measures 1: ceil(1 × 2.5)
		{7 * s, 0.5, 3, 3},        // settling: not down
		{8 * s, 3.4, 3, 4},        // up while settling: ceil(1 × 3.4), ready at 11s
		{9 * s, 1.3, 3, 4},        // settled: ceil(3 × 1.3)
		{10 * s, 9, 3, 8},         // the most
		{11 * s, 9, 4, 8},         // the one asked at 8s
		{13 * s, 1, 8, 8},         // the rest
		{16 * s, 1, 8, 8},         // settled, within 10%: 8
		{17 * s, 0.2, 8, 8},       // the window remembers 8
		{20 * s, 0.2, 8, 8},       // 8 at 16s is within 4s
		{21 * s, 0.2, 2, 2},       // the window's highest: ceil(8 × 0.2)
		{22 * s, 9, 2, 8},         // up at once
	}
	for _, st := range steps {
		a.step(st.at, st.need, nil)
		need, ready, target := a.state()
		if ready != st.ready || target != st.target || !(need == st.need || math.IsNaN(need) && math.IsNaN(st.need)) {
			t.Errorf("at %v with need %v: ready %d, target %d, need %v; want %d, %d", st.at, st.need, ready, target, need, st.ready, st.target)
		}
		if got := cap(a.db.slots) - a.db.reserved; got != ready*cfg.Conns {
			t.Errorf("at %v: the pool has %d connections, want %d", st.at, got, ready*cfg.Conns)
		}
	}
}

package demo

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/slo"
)

func newEngine(t *testing.T) *slo.Engine {
	t.Helper()
	eng, err := slo.New([]slo.Objective{
		{Name: "availability", Target: 0.999, Period: time.Hour},
		{Name: "latency", Target: 0.99, Latency: 300 * time.Millisecond, Period: time.Hour},
	}, slo.WithLogger(slog.New(slog.DiscardHandler)), slo.WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		t.Fatalf("slo.New() = %v", err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

func TestPreload(t *testing.T) {
	end := time.Unix(1_000_000, 0)
	tests := []struct {
		name string
		cfg  Config
		want uint64 // good events in each objective
	}{
		{"fractional rate", Config{RPS: 2.5, History: 10 * time.Second, Period: time.Hour}, 25},
		{"capped at the period", Config{RPS: 3, History: time.Hour, Period: 20 * time.Second}, 60},
		{"none", Config{RPS: 200, History: 0, Period: time.Hour}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := newEngine(t)
			Preload(eng, tt.cfg, 5*time.Millisecond, end)
			st := eng.Status()
			if tt.want > 0 && !st.Time.Equal(end) {
				t.Errorf("Status().Time = %v, want the end %v", st.Time, end)
			}
			for _, o := range st.Objectives {
				if o.Totals.Good != tt.want || o.Totals.Bad != 0 {
					t.Errorf("%s: Totals = %+v, want %d good and none bad", o.Objective.Name, o.Totals, tt.want)
				}
			}
		})
	}
}

func TestAwaitEvaluation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		t0 := time.Now()
		eng.Tick(t0) // not after t0
		done := make(chan struct{})
		go func() {
			AwaitEvaluation(t.Context(), eng, t0, 100*time.Millisecond)
			close(done)
		}()
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case <-done:
			t.Fatalf("AwaitEvaluation returned before an evaluation after t")
		default:
		}
		eng.Tick(t0.Add(time.Millisecond))
		time.Sleep(25 * time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Errorf("AwaitEvaluation still waits a poll after an evaluation after t")
		}
	})
}

func TestAwaitEvaluationCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng := newEngine(t)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		AwaitEvaluation(ctx, eng, start, 100*time.Millisecond)
		if d := time.Since(start); d != time.Second {
			t.Errorf("AwaitEvaluation returned after %v, want when ctx is done after 1s", d)
		}
	})
}

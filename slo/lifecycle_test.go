package slo_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// The tests in this file run the evaluation loop inside a synctest bubble:
// time is fake, and the bubble fails if a goroutine outlives the test.

func TestStartClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 2 * time.Second
		eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}}, options(slo.WithInterval(interval))...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		start := time.Now()
		record(t, eng, "a", budget.Good, 0, 3)
		for i := range 2 {
			if err := eng.Start(); err != nil {
				t.Fatalf("Start() #%d = %v, want nil", i+1, err)
			}
		}
		synctest.Wait()
		// Evaluated at once.
		st := eng.Status()
		if !st.Time.Equal(start) || objectiveStatus(t, st, "a").Totals.Good != 3 {
			t.Errorf("Status() right after Start = Time %v, Totals %+v, want %v, 3 good", st.Time, objectiveStatus(t, st, "a").Totals, start)
		}
		// Then every interval, with the clock.
		for i := 1; i <= 3; i++ {
			record(t, eng, "a", budget.Bad, 0, 1)
			time.Sleep(interval)
			synctest.Wait()
			st := eng.Status()
			want := budget.Counts{Good: 3, Bad: uint64(i)}
			if got := objectiveStatus(t, st, "a").Totals; !st.Time.Equal(start.Add(time.Duration(i)*interval)) || got != want {
				t.Errorf("Status() after %v = Time %v, Totals %+v, want %v, %+v",
					time.Duration(i)*interval, st.Time, got, start.Add(time.Duration(i)*interval), want)
			}
		}
		// Half an interval changes nothing.
		time.Sleep(interval / 2)
		synctest.Wait()
		if got, want := eng.Status().Time, start.Add(3*interval); !got.Equal(want) {
			t.Errorf("Status().Time half an interval later = %v, want %v", got, want)
		}

		for i := range 2 {
			if err := eng.Close(); err != nil {
				t.Errorf("Close() #%d = %v, want nil", i+1, err)
			}
		}
		if err := eng.Start(); !errors.Is(err, slo.ErrClosed) {
			t.Errorf("Start() after Close = %v, want ErrClosed", err)
		}
		last := eng.Status().Time
		record(t, eng, "a", budget.Good, 0, 1) // still safe
		time.Sleep(10 * interval)
		synctest.Wait()
		if got := eng.Status().Time; !got.Equal(last) {
			t.Errorf("Status().Time 10 intervals after Close = %v, want %v: the loop must be stopped", got, last)
		}
	})
}

func TestCloseWithoutStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}}, options()...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		for i := range 2 {
			if err := eng.Close(); err != nil {
				t.Errorf("Close() #%d without Start = %v, want nil", i+1, err)
			}
		}
		if err := eng.Start(); !errors.Is(err, slo.ErrClosed) {
			t.Errorf("Start() after Close = %v, want ErrClosed", err)
		}
		time.Sleep(time.Minute)
		if st := eng.Status(); !st.Time.IsZero() {
			t.Errorf("Status().Time = %v, want zero: never evaluated", st.Time)
		}
	})
}

// TestCloseWaits checks that Close lets the dispatcher finish delivering:
// here an event handler that takes half of Close's grace.
func TestCloseWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var handled atomic.Bool
		eng, err := slo.New([]slo.Objective{{Name: "a", Target: 0.999}}, options(
			slo.WithEventHandler(func(slo.Event) {
				time.Sleep(slo.CloseGrace / 2)
				handled.Store(true)
			}))...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		record(t, eng, "a", budget.Good, 0, 1)
		start := time.Now()
		if err := eng.Start(); err != nil {
			t.Fatalf("Start() = %v, want nil", err)
		}
		synctest.Wait() // the dispatcher is in the handler
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
		if !handled.Load() || time.Since(start) != slo.CloseGrace/2 {
			t.Errorf("Close() returned after %v, handler done %v; want right after the handler (%v)",
				time.Since(start), handled.Load(), slo.CloseGrace/2)
		}
		if !slo.DispatcherDone(eng) {
			t.Error("the dispatcher goroutine runs on after Close")
		}
	})
}

// TestConcurrentRecording records from many goroutines while the loop runs
// and a reader collects metrics; with -race it checks the hot path, the
// loop and the metrics callback against each other, and that no event is
// lost.
func TestConcurrentRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		eng, err := slo.New([]slo.Objective{
			{Name: "a", Target: 0.999},
			{Name: "b", Target: 0.99, Latency: 10 * time.Millisecond},
		}, options(slo.WithMeterProvider(mp), slo.WithInterval(100*time.Millisecond))...)
		if err != nil {
			t.Fatalf("New error: %v", err)
		}
		if err := eng.Start(); err != nil {
			t.Fatalf("Start() = %v, want nil", err)
		}
		ra, _ := eng.Recorder("a")
		rb, _ := eng.Recorder("b")

		const goroutines, perGoroutine = 8, 2000
		outcomes := []budget.Outcome{budget.Good, budget.Bad, budget.Shed, budget.Neutral}
		var recording sync.WaitGroup
		for g := range goroutines {
			recording.Go(func() {
				o := outcomes[g%len(outcomes)]
				for i := range perGoroutine {
					ra.Record(o, 0)
					rb.Record(o, time.Duration(i%2)*time.Second) // half the good ones slow
					if i%100 == 0 {
						time.Sleep(30 * time.Millisecond) // let the loop run in between
					}
				}
			})
		}
		stop := make(chan struct{})
		var reading sync.WaitGroup
		reading.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(70 * time.Millisecond):
				}
				var rm metricdata.ResourceMetrics
				if err := reader.Collect(context.Background(), &rm); err != nil {
					t.Errorf("Collect error: %v", err)
				}
				_ = eng.Status()
				_ = eng.Events()
			}
		})
		recording.Wait()
		close(stop)
		reading.Wait()
		time.Sleep(100 * time.Millisecond) // one more evaluation
		synctest.Wait()

		per := uint64(goroutines / len(outcomes) * perGoroutine)
		wantA := budget.Counts{Good: per, Bad: per, Shed: per}
		// "b" is a latency objective: the slow half of the good and of the
		// neutral events count as bad.
		wantB := budget.Counts{Good: per / 2, Bad: per + per/2 + per/2, Shed: per}
		st := eng.Status()
		for _, tt := range []struct {
			name    string
			want    budget.Counts
			neutral uint64
		}{{"a", wantA, per}, {"b", wantB, per / 2}} {
			o := objectiveStatus(t, st, tt.name)
			if o.Totals != tt.want || o.Neutral != tt.neutral {
				t.Errorf("%q: Totals, Neutral = %+v, %d, want %+v, %d", tt.name, o.Totals, o.Neutral, tt.want, tt.neutral)
			}
			if o.Report.Period != tt.want {
				t.Errorf("%q: Report.Period = %+v, want %+v: every event folded into the ledger", tt.name, o.Report.Period, tt.want)
			}
		}
		if err := eng.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	})
}

package otelsdk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
	"github.com/sloguard/sloguard/slo/otelsdk"
)

// t0 is the start of the simulated time that the tests pass to Tick.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const payments = "payments"

// objectives are a service's availability and latency objectives and a
// client-side objective of its payments dependency.
var objectives = []slo.Objective{
	{Name: "api-availability", Target: 0.999},
	{Name: "api-latency", Target: 0.99, Latency: 100 * time.Millisecond},
	{Name: "payments-availability", Target: 0.999, Dependency: payments},
}

// newEngine returns an engine of objectives with shedding, a breaker and
// two gates, exporting to mp, closed at the end of the test.
func newEngine(t testing.TB, mp *sdkmetric.MeterProvider) *slo.Engine {
	t.Helper()
	eng, err := slo.New(objectives,
		slo.WithMeterProvider(mp),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithShedding(slo.ShedPolicy{}),
		slo.WithBreakers(slo.BreakerPolicy{OpenTimeout: time.Hour}), // real time: stays open for the test
		slo.WithGate("half", slo.GatePolicy{MinRemaining: 0.5}),
		slo.WithGate("paging", slo.GatePolicy{ClosedOnPage: true}),
	)
	if err != nil {
		t.Fatalf("slo.New: %v", err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return eng
}

// newMeterProvider returns an SDK MeterProvider with a ManualReader made
// with opts, shut down at the end of the test.
func newMeterProvider(t testing.TB, opts ...sdkmetric.ManualReaderOption) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader(opts...)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, reader
}

// drive runs traffic through eng in simulated seconds from t0: a calm
// phase that makes the scale signal known, then an outage that spends the
// budgets (shedding, a gate closed, releases frozen) and opens the
// payments breaker.
func drive(t testing.TB, eng *slo.Engine) {
	t.Helper()
	rt, err := eng.Route(slo.Critical, "api-availability", "api-latency")
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	eng.Tick(now)
	for range 3 {
		for range 10 {
			tk, _, ok := rt.Admit(slo.Critical)
			if !ok {
				t.Fatal("Admit rejected a request on an idle service")
			}
			tk.Done(budget.Good)
		}
		now = now.Add(time.Second)
		eng.Tick(now)
	}
	for range 5 {
		record(t, eng, "api-availability", budget.Bad, 100)
		record(t, eng, "api-latency", budget.Good, 100)
		now = now.Add(time.Second)
		eng.Tick(now)
		for _, c := range []slo.Criticality{slo.Sheddable, slo.SheddablePlus, slo.Critical, slo.CriticalPlus} {
			for range 100 {
				rt.Admit(c) // admitted requests stay in flight: the service is busy, and sheds
			}
		}
	}
	b, err := eng.Breaker(payments)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if done, err := b.Allow(); err == nil {
			done(budget.Bad, time.Millisecond)
		}
	}
	eng.Tick(now.Add(time.Second))
}

// record records n events of outcome o in the named objective.
func record(t testing.TB, eng *slo.Engine, name string, o budget.Outcome, n int) {
	t.Helper()
	r, err := eng.Recorder(name)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		r.Record(o, time.Millisecond)
	}
}

// points returns the data points of sms, one line each with everything
// but the timestamps, sorted: what the two paths must agree on.
func points(sms []metricdata.ScopeMetrics) []string {
	var out []string
	for _, sm := range sms {
		for _, m := range sm.Metrics {
			head := fmt.Sprintf("%s %s unit=%q description=%q", sm.Scope.Name, m.Name, m.Unit, m.Description)
			out = append(out, dataPoints(head, m.Data)...)
		}
	}
	slices.Sort(out)
	return out
}

// dataPoints returns the data points of data, each line starting with head.
func dataPoints(head string, data metricdata.Aggregation) []string {
	var out []string
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		kind := fmt.Sprintf("sum[int64] %v monotonic=%v", d.Temporality, d.IsMonotonic)
		for _, p := range d.DataPoints {
			out = append(out, fmt.Sprintf("%s %s {%s} %d", head, kind, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out = append(out, fmt.Sprintf("%s gauge[int64] {%s} %d", head, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out = append(out, fmt.Sprintf("%s gauge[float64] {%s} %v", head, p.Attributes.Encoded(attribute.DefaultEncoder()), p.Value))
		}
	default:
		out = append(out, fmt.Sprintf("%s unexpected %T", head, data))
	}
	return out
}

// collect collects reader once.
func collect(t testing.TB, reader *sdkmetric.ManualReader) []metricdata.ScopeMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("ManualReader.Collect: %v", err)
	}
	return rm.ScopeMetrics
}

// names returns the names of the metrics of sms with data points.
func names(sms []metricdata.ScopeMetrics) []string {
	var out []string
	for _, sm := range sms {
		for _, m := range sm.Metrics {
			if len(dataPoints("", m.Data)) > 0 {
				out = append(out, m.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// allNames are the names of all of sloguard's metrics, sorted.
var allNames = slices.Sorted(slices.Values([]string{
	metrics.Events, metrics.Remaining, metrics.BurnRate, metrics.State, metrics.Target, metrics.Faults,
	metrics.ControlBurn, metrics.ShedLevel, metrics.ShedRejected, metrics.BreakerState,
	metrics.GateEnabled, metrics.ReleaseFrozen, metrics.ScaleNeed, metrics.ScaleDemand,
}))

// newProducer returns the Producer of eng and a ManualReader that
// collects through it.
func newProducer(t testing.TB, eng *slo.Engine) (*otelsdk.Producer, *sdkmetric.ManualReader) {
	t.Helper()
	p, err := otelsdk.New(eng)
	if err != nil {
		t.Fatalf("otelsdk.New: %v", err)
	}
	_, reader := newMeterProvider(t, sdkmetric.WithProducer(p))
	return p, reader
}

// TestSamePoints checks that the instrument path and the Producer export
// the same metrics and data points from an engine in every state that a
// metric depends on, and that New takes the engine's callback away from
// its MeterProvider, so that nothing is exported twice.
func TestSamePoints(t *testing.T) {
	mp, instReader := newMeterProvider(t)
	eng := newEngine(t, mp)
	drive(t, eng)
	inst := collect(t, instReader)
	if got := names(inst); !slices.Equal(got, allNames) {
		t.Fatalf("instrument path exports %v, want every metric %v: drive misses a state", got, allNames)
	}
	st := eng.Status()
	if st.Shedding.Level == 0 || !st.Scale.Known || !st.Release.Frozen || st.Breakers[0].State != slo.BreakerOpen {
		t.Fatalf("Status: shed level %v, scale known %v, frozen %v, breaker %v; want shedding, known, frozen, open",
			st.Shedding.Level, st.Scale.Known, st.Release.Frozen, st.Breakers[0].State)
	}

	_, prodReader := newProducer(t, eng)
	prod := collect(t, prodReader)
	want, got := points(inst), points(prod)
	if !slices.Equal(got, want) {
		t.Errorf("Producer's points differ from the instrument path's:\n%s", diff(got, want))
	}
	if left := names(collect(t, instReader)); len(left) > 0 {
		t.Errorf("MeterProvider still exports %v after otelsdk.New, want nothing", left)
	}
}

// diff returns the lines only in got (+) and only in want (-).
func diff(got, want []string) string {
	var b strings.Builder
	for _, l := range got {
		if !slices.Contains(want, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	return b.String()
}

// TestPrometheus checks that the Producer, through the OpenTelemetry
// Prometheus exporter, serves the same sloguard_* series as the
// instrument path, and the instrument path none after New.
func TestPrometheus(t *testing.T) {
	instExp, instReg := newPrometheus(t)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(instExp))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	eng := newEngine(t, mp)
	drive(t, eng)
	want := scrape(t, instReg)
	if !slices.Contains(want, "# TYPE "+metrics.PrometheusEvents+" counter") {
		t.Fatalf("instrument path serves no %s:\n%s", metrics.PrometheusEvents, strings.Join(want, "\n"))
	}

	p, err := otelsdk.New(eng)
	if err != nil {
		t.Fatalf("otelsdk.New: %v", err)
	}
	prodExp, prodReg := newPrometheus(t, otelprom.WithProducer(p))
	prodMP := sdkmetric.NewMeterProvider(sdkmetric.WithReader(prodExp))
	t.Cleanup(func() { _ = prodMP.Shutdown(context.Background()) })
	if got := scrape(t, prodReg); !slices.Equal(got, want) {
		t.Errorf("Producer through the Prometheus exporter serves other series than the instrument path:\n%s", diff(got, want))
	}
	if left := scrape(t, instReg); len(left) > 0 {
		t.Errorf("instrument path still serves after otelsdk.New:\n%s", strings.Join(left, "\n"))
	}
}

// newPrometheus returns an OpenTelemetry Prometheus exporter made with
// opts and the registry it serves from.
func newPrometheus(t *testing.T, opts ...otelprom.Option) (*otelprom.Exporter, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(append(opts, otelprom.WithRegisterer(reg))...)
	if err != nil {
		t.Fatalf("prometheus.New: %v", err)
	}
	return exp, reg
}

// scrape serves GET /metrics from reg and returns the lines of the
// sloguard_* series, with their HELP and TYPE comments, in the order
// served.
func scrape(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d, want 200", rec.Code)
	}
	var lines []string
	for l := range strings.Lines(rec.Body.String()) {
		series := strings.TrimPrefix(strings.TrimPrefix(l, "# HELP "), "# TYPE ")
		if strings.HasPrefix(series, "sloguard_") {
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
	}
	return lines
}

// TestNew checks that New refuses what it cannot take over: a nil engine,
// a closed one, and one taken over before, so that no series is exported
// twice.
func TestNew(t *testing.T) {
	mp, _ := newMeterProvider(t)
	if _, err := otelsdk.New(nil); !errors.Is(err, otelsdk.ErrInvalidEngine) {
		t.Errorf("New(nil) = %v, want ErrInvalidEngine", err)
	}
	eng := newEngine(t, mp)
	newProducer(t, eng)
	if _, err := otelsdk.New(eng); !errors.Is(err, otelsdk.ErrInvalidEngine) {
		t.Errorf("New a second time = %v, want ErrInvalidEngine", err)
	}
	closed := newEngine(t, mp)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := otelsdk.New(closed); !errors.Is(err, otelsdk.ErrInvalidEngine) || !errors.Is(err, slo.ErrClosed) {
		t.Errorf("New of a closed engine = %v, want ErrInvalidEngine and slo.ErrClosed", err)
	}
	if sms, err := new(otelsdk.Producer).Produce(context.Background()); sms != nil || !errors.Is(err, otelsdk.ErrInvalidEngine) {
		t.Errorf("Produce of the zero Producer = %v, %v, want nil and ErrInvalidEngine", sms, err)
	}
}

// TestAfterClose checks that Produce returns nothing once the engine is
// closed, and that recording then changes nothing.
func TestAfterClose(t *testing.T) {
	mp, _ := newMeterProvider(t)
	eng := newEngine(t, mp)
	p, reader := newProducer(t, eng)
	drive(t, eng)
	if got := names(collect(t, reader)); !slices.Equal(got, allNames) {
		t.Fatalf("before Close the Producer exports %v, want %v", got, allNames)
	}
	if err := eng.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	record(t, eng, "api-availability", budget.Good, 1)
	if sms, err := p.Produce(context.Background()); sms != nil || err != nil {
		t.Errorf("Produce after Close = %v, %v, want nil, nil", sms, err)
	}
	if got := collect(t, reader); len(got) != 0 {
		t.Errorf("ManualReader.Collect after Close = %v, want no scope", got)
	}
}

// TestTimes checks the timestamps of the Producer's data points: every
// point starts when the engine started and is stamped with the time of
// the collection.
func TestTimes(t *testing.T) {
	mp, _ := newMeterProvider(t)
	before := time.Now()
	eng := newEngine(t, mp)
	after := time.Now()
	p, _ := newProducer(t, eng)
	start := time.Now()
	sms, err := p.Produce(context.Background())
	end := time.Now()
	if err != nil || len(sms) != 1 {
		t.Fatalf("Produce = %d scopes, %v, want 1, nil", len(sms), err)
	}
	var first time.Time
	for _, m := range sms[0].Metrics {
		for _, tp := range times(m.Data) {
			if first.IsZero() {
				first = tp.start
			}
			if tp.start.Before(before.Round(0)) || tp.start.After(after) || !tp.start.Equal(first) {
				t.Errorf("%s starts at %v, want one start within New, [%v, %v]", m.Name, tp.start, before, after)
			}
			if tp.time.Before(start.Round(0)) || tp.time.After(end) {
				t.Errorf("%s at %v, want within Produce, [%v, %v]", m.Name, tp.time, start, end)
			}
		}
	}
}

// timestamps are a data point's start time and time.
type timestamps struct{ start, time time.Time }

// times returns the timestamps of the data points of data.
func times(data metricdata.Aggregation) []timestamps {
	var out []timestamps
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, timestamps{p.StartTime, p.Time})
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out = append(out, timestamps{p.StartTime, p.Time})
		}
	case metricdata.Gauge[float64]:
		for _, p := range d.DataPoints {
			out = append(out, timestamps{p.StartTime, p.Time})
		}
	}
	return out
}

// TestConcurrent runs Produce, Tick and recording at once, for the race
// detector, and checks that every collection is whole.
func TestConcurrent(t *testing.T) {
	mp, _ := newMeterProvider(t)
	eng := newEngine(t, mp)
	p, _ := newProducer(t, eng)
	r, err := eng.Recorder("api-availability")
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range rounds {
			eng.Tick(t0.Add(time.Duration(i) * time.Second))
		}
	})
	wg.Go(func() {
		for range rounds * 10 {
			r.Record(budget.Good, time.Millisecond)
		}
	})
	for range 2 {
		wg.Go(func() {
			for range rounds {
				sms, err := p.Produce(context.Background())
				if err != nil || len(sms) != 1 || len(sms[0].Metrics) < 4 {
					t.Errorf("Produce = %v, %v, want one scope with at least 4 metrics", sms, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestAllocs checks that a collection's allocations do not grow with the
// number of objectives: the Producer sizes its slices from the previous
// collection.
func TestAllocs(t *testing.T) {
	allocs := func(n int) float64 {
		objs := make([]slo.Objective, n)
		for i := range objs {
			objs[i] = slo.Objective{Name: fmt.Sprintf("obj-%d", i), Target: 0.999}
		}
		mp, _ := newMeterProvider(t)
		eng, err := slo.New(objs, slo.WithMeterProvider(mp))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = eng.Close() })
		for _, o := range objs {
			record(t, eng, o.Name, budget.Good, 10)
		}
		eng.Tick(t0)
		p, _ := newProducer(t, eng)
		ctx := context.Background()
		_, _ = p.Produce(ctx)
		return testing.AllocsPerRun(10, func() { _, _ = p.Produce(ctx) })
	}
	if one, many := allocs(1), allocs(100); many != one {
		t.Errorf("Produce allocates %v times with 100 objectives, %v with 1; want the same", many, one)
	}
}

// TestGrowth checks a collection with more data points than the previous
// one (series that appear with traffic): each metric outgrows the room
// the Producer made for it without overwriting the next metric's.
func TestGrowth(t *testing.T) {
	mp, _ := newMeterProvider(t)
	eng := newEngine(t, mp)
	_, reader := newProducer(t, eng)
	before := collect(t, reader) // before traffic: no burn rates, scale signal or control burn
	drive(t, eng)
	grown := points(collect(t, reader))
	if again := points(collect(t, reader)); !slices.Equal(grown, again) {
		t.Errorf("collection that grew differs from the next one:\n%s", diff(grown, again))
	}
	if len(grown) <= len(points(before)) {
		t.Errorf("%d data points after traffic, %d before: want more", len(grown), len(points(before)))
	}
}

// TestOwnership checks that every collection is memory of its own, which
// its reader may keep and write into: a later Produce changes nothing of
// an earlier one; and a reader that collects into one ResourceMetrics
// again, after an SDK scope started recording, collects the same as into
// a new one. The SDK's pipeline then puts its scope where the Producer's
// was and reuses that memory (the Metrics and, for a counter, the data
// points of sloguard.events) before the Producer is called. This is why
// the Producer allocates each collection rather than pooling them.
func TestOwnership(t *testing.T) {
	mp, _ := newMeterProvider(t)
	eng := newEngine(t, mp)
	p, err := otelsdk.New(eng)
	if err != nil {
		t.Fatalf("otelsdk.New: %v", err)
	}
	readerMP, reader := newMeterProvider(t, sdkmetric.WithProducer(p))
	drive(t, eng)
	ctx := context.Background()

	first, err := p.Produce(ctx)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	want := points(first)
	record(t, eng, "api-availability", budget.Good, 7)
	if _, err := p.Produce(ctx); err != nil {
		t.Fatalf("Produce: %v", err)
	}
	if got := points(first); !slices.Equal(got, want) {
		t.Errorf("a later Produce changed an earlier collection:\n%s", diff(got, want))
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatalf("ManualReader.Collect: %v", err)
	}
	if len(rm.ScopeMetrics) != 1 || rm.ScopeMetrics[0].Scope.Name != metrics.Scope {
		t.Fatalf("first collection has scopes %v, want only %s", scopes(rm.ScopeMetrics), metrics.Scope)
	}
	counter, err := readerMP.Meter("other").Int64Counter("other.requests")
	if err != nil {
		t.Fatal(err)
	}
	counter.Add(ctx, 42)
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatalf("ManualReader.Collect: %v", err)
	}
	if got, want := scopes(rm.ScopeMetrics), []string{"other", metrics.Scope}; !slices.Equal(got, want) {
		t.Fatalf("second collection has scopes %v, want %v", got, want)
	}
	if got, want := points(rm.ScopeMetrics), points(collect(t, reader)); !slices.Equal(got, want) {
		t.Errorf("collecting into the first collection's memory differs from collecting into new memory:\n%s", diff(got, want))
	}
}

// scopes returns the scope names of sms, in order.
func scopes(sms []metricdata.ScopeMetrics) []string {
	var out []string
	for _, sm := range sms {
		out = append(out, sm.Scope.Name)
	}
	return out
}

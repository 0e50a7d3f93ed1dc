package otelsdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sloguard/sloguard/internal/series"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// ErrInvalidEngine is wrapped by every error New returns: a nil engine, a
// closed one (the error wraps slo.ErrClosed too), or one whose metrics
// another Producer took over.
var ErrInvalidEngine = errors.New("otelsdk: invalid engine")

// Producer is an Engine's metrics as an OpenTelemetry SDK metric Producer,
// for a reader (see the package documentation, Usage).
//
// A Producer is safe for concurrent use. Make one with New: the zero
// Producer has no engine, and its Produce returns an error that wraps
// ErrInvalidEngine.
type Producer struct {
	src   series.Source
	start time.Time // src.Start in UTC: a time without a location pointer to copy into every point
	scope instrumentation.Scope
	// sizes are the data points of each metric in the largest collection
	// so far: the capacity of the next, so that its slices do not grow.
	sizes [series.Count]atomic.Int64
	// collections holds *collection scratch between Produce calls: only
	// the data points are handed out, never the collection.
	collections sync.Pool
}

var _ sdkmetric.Producer = (*Producer)(nil)

// New takes the metrics of e over and returns their Producer: it
// unregisters e's callback from the MeterProvider of slo.WithMeterProvider,
// so that each series reaches OpenTelemetry once, through the Producer.
// New fails for a nil or closed engine, and for an engine whose metrics a
// Producer took over before.
func New(e *slo.Engine) (*Producer, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil", ErrInvalidEngine)
	}
	src, err := series.TakeOver(e)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEngine, err)
	}
	return &Producer{src: src, start: src.Start.UTC(), scope: instrumentation.Scope{Name: metrics.Scope}}, nil
}

// Produce returns the engine's metrics, in one ScopeMetrics of scope
// metrics.Scope. After the engine's Close it returns none, as the
// instrument path exports none. Produce does no I/O and ignores ctx.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	if p.src.Collect == nil {
		return nil, fmt.Errorf("%w: a Producer not made by New", ErrInvalidEngine)
	}
	c := p.newCollection()
	defer p.release(c)
	if !p.src.Collect(c) {
		return nil, nil
	}
	p.remember(c)
	ms := c.metrics()
	if len(ms) == 0 {
		return nil, nil
	}
	return []metricdata.ScopeMetrics{{Scope: p.scope, Metrics: ms}}, nil
}

// collection is the data points of one Produce, by metric.
type collection struct {
	start, now time.Time
	int64s     [series.Count][]metricdata.DataPoint[int64]
	float64s   [series.Count][]metricdata.DataPoint[float64]
}

var _ series.Sink = (*collection)(nil)

// newCollection returns an empty collection with room for as many data
// points of each metric as the largest collection so far.
func (p *Producer) newCollection() *collection {
	c, _ := p.collections.Get().(*collection)
	if c == nil {
		c = new(collection)
	}
	c.start, c.now = p.start, time.Now().UTC()
	p.allocate(c)
	return c
}

// allocate gives each metric of c room for as many data points as in the
// largest collection so far, carved from one new array of each type, so
// that two allocations hold every data point. The arrays are new every
// time: a reader reuses the memory of what it collected for its next
// collection, what producers returned included, so nothing returned may
// be shared with a later Produce.
func (p *Producer) allocate(c *collection) {
	var sizes [series.Count]int
	var ints, floats int
	for id, d := range series.Table {
		sizes[id] = int(p.sizes[id].Load())
		if d.Kind == series.FloatGauge {
			floats += sizes[id]
		} else {
			ints += sizes[id]
		}
	}
	intBuf := make([]metricdata.DataPoint[int64], ints)
	floatBuf := make([]metricdata.DataPoint[float64], floats)
	for id, d := range series.Table {
		if d.Kind == series.FloatGauge {
			c.float64s[id] = carve(&floatBuf, sizes[id])
		} else {
			c.int64s[id] = carve(&intBuf, sizes[id])
		}
	}
}

// release forgets the data points of c, which now belong to the caller
// of Produce, and keeps c for the next collection.
func (p *Producer) release(c *collection) {
	clear(c.int64s[:])
	clear(c.float64s[:])
	p.collections.Put(c)
}

// carve returns an empty slice with capacity n from the start of *buf,
// and leaves the rest in *buf. An append beyond n copies the slice
// elsewhere rather than overwrite the next one.
func carve[T any](buf *[]T, n int) []T {
	s := (*buf)[:0:n]
	*buf = (*buf)[n:]
	return s
}

func (c *collection) Int64(m series.Metric, v int64, a *series.Attrs) {
	p := push(&c.int64s[m])
	p.Attributes, p.StartTime, p.Time, p.Value = a.Set, c.start, c.now, v
}

func (c *collection) Float64(m series.Metric, v float64, a *series.Attrs) {
	p := push(&c.float64s[m])
	p.Attributes, p.StartTime, p.Time, p.Value = a.Set, c.start, c.now, v
}

// push appends a zero element to *s and returns it, for the caller to set
// field by field: copying a whole data point into place costs a bulk write
// barrier while the garbage collector marks.
func push[T any](s *[]T) *T {
	var zero T
	*s = append(*s, zero)
	return &(*s)[len(*s)-1]
}

// remember records the size of each metric of c if it is the largest so
// far. Concurrent calls may lose a size: it is a capacity hint, and a lost
// one costs the next collection one growth.
func (p *Producer) remember(c *collection) {
	for id := range series.Table {
		if n := int64(c.size(series.Metric(id))); n > p.sizes[id].Load() {
			p.sizes[id].Store(n)
		}
	}
}

// size returns the number of data points of metric m.
func (c *collection) size(m series.Metric) int { return len(c.int64s[m]) + len(c.float64s[m]) }

// metrics returns the collection's metrics in the order of series.Table,
// leaving out those without data points, as the SDK does.
func (c *collection) metrics() []metricdata.Metrics {
	n := 0
	for id := range series.Table {
		if c.size(series.Metric(id)) > 0 {
			n++
		}
	}
	ms := make([]metricdata.Metrics, 0, n)
	for id, d := range series.Table {
		if c.size(series.Metric(id)) == 0 {
			continue
		}
		ms = append(ms, metricdata.Metrics{Name: d.Name, Description: d.Description, Unit: d.Unit, Data: c.data(series.Metric(id), d.Kind)})
	}
	return ms
}

// data returns the aggregation of metric m, of kind k: counters are
// cumulative monotonic sums from the engine's start, the others gauges.
func (c *collection) data(m series.Metric, k series.Kind) metricdata.Aggregation {
	switch k {
	case series.Counter:
		return metricdata.Sum[int64]{DataPoints: c.int64s[m], Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
	case series.IntGauge:
		return metricdata.Gauge[int64]{DataPoints: c.int64s[m]}
	default:
		return metricdata.Gauge[float64]{DataPoints: c.float64s[m]}
	}
}

package promfleet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/internal/options"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/metrics"
)

// ErrInvalidOption is wrapped by every error about an invalid option.
var ErrInvalidOption = errors.New("promfleet: invalid option")

// Source reads fleet-wide counts from a Prometheus-compatible query API.
// It is safe for concurrent use.
//
// The zero Source is not usable: use New.
type Source struct {
	api      v1.API
	metric   string
	selector string
}

var _ slo.FleetSource = (*Source)(nil)

type config struct {
	rt           http.RoundTripper
	headers      http.Header
	service      string
	serviceLabel string
	selector     string
	metric       string
	errs         []error
}

// Option configures a Source.
//
// The zero (nil) Option is an error of New, wrapping ErrInvalidOption.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// selectorRE matches a list of PromQL label matchers: name op "value", …
var selectorRE = regexp.MustCompile(`^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*,?\s*$`)

// WithService picks the service's series by the value of the service label
// (see WithServiceLabel), as the rules of package promrules do: with
// WithService("checkout"), the matcher job="checkout".
//
// By default, none: every series of the metric with the objective's name.
func WithService(name string) Option {
	return optionFunc(func(c *config) {
		if name == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: empty service name", ErrInvalidOption))
			return
		}
		c.service = name
	})
}

// WithServiceLabel sets the label whose value WithService matches:
// "service_name" when the exporter copies the OpenTelemetry resource's
// service.name onto every series instead of a job label.
//
// By default, "job", which Prometheus sets from the scrape configuration
// and from service.name when metrics arrive through OTLP.
func WithServiceLabel(label string) Option {
	return optionFunc(func(c *config) {
		if !model.LegacyValidation.IsValidLabelName(label) {
			c.errs = append(c.errs, fmt.Errorf("%w: service label %q is not a Prometheus label name", ErrInvalidOption, label))
			return
		}
		c.serviceLabel = label
	})
}

// WithSelector adds PromQL label matchers that pick the service's series
// out of the backend, such as `job="checkout"` or
// `job="checkout", namespace="shop"`, without braces. They must not name
// the objective or outcome labels, nor the instance (replicas are summed).
//
// By default, none.
func WithSelector(matchers string) Option {
	return optionFunc(func(c *config) {
		if !selectorRE.MatchString(matchers) {
			c.errs = append(c.errs, fmt.Errorf("%w: selector %q is not a list of label matchers such as job=\"checkout\"", ErrInvalidOption, matchers))
			return
		}
		for _, l := range []string{metrics.AttrObjective, metrics.AttrOutcome, "instance"} {
			if regexp.MustCompile(`(^|,)\s*` + l + `\s*[=!]`).MatchString(matchers) {
				c.errs = append(c.errs, fmt.Errorf("%w: selector %q names the %s label, which the source sets or sums", ErrInvalidOption, matchers, l))
			}
		}
		c.selector = strings.TrimSuffix(strings.TrimSpace(matchers), ",")
	})
}

// WithMetric sets the name of the event counter in the backend, for
// exporters or remote-write pipelines that name it otherwise.
//
// By default, metrics.PrometheusEvents.
func WithMetric(name string) Option {
	return optionFunc(func(c *config) {
		if !model.LegacyValidation.IsValidMetricName(name) {
			c.errs = append(c.errs, fmt.Errorf("%w: metric name %q", ErrInvalidOption, name))
			return
		}
		c.metric = name
	})
}

// WithRoundTripper sets the HTTP transport of the queries, for example one
// that adds credentials.
//
// By default, the Prometheus client's (http.DefaultTransport's settings).
func WithRoundTripper(rt http.RoundTripper) Option {
	return optionFunc(func(c *config) {
		if rt == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: nil RoundTripper", ErrInvalidOption))
			return
		}
		c.rt = rt
	})
}

// WithHeader adds a header to every query, such as Mimir's and Cortex's
// tenant, X-Scope-OrgID, or an Authorization header. It may be given
// several times.
//
// By default, no header is added.
func WithHeader(key, value string) Option {
	return optionFunc(func(c *config) {
		if key == "" {
			c.errs = append(c.errs, fmt.Errorf("%w: empty header name", ErrInvalidOption))
			return
		}
		if c.headers == nil {
			c.headers = http.Header{}
		}
		c.headers.Add(key, value)
	})
}

// New returns a Source that queries the Prometheus HTTP API at address, the
// base URL before /api/v1 (for Mimir, including its /prometheus prefix).
func New(address string, opts ...Option) (*Source, error) {
	cfg := config{metric: metrics.PrometheusEvents, serviceLabel: "job"}
	options.Apply(opts, &cfg.errs, ErrInvalidOption, "option", func(o Option) { o.apply(&cfg) })
	if address == "" {
		cfg.errs = append(cfg.errs, fmt.Errorf("%w: empty address", ErrInvalidOption))
	}
	if len(cfg.errs) > 0 {
		return nil, errors.Join(cfg.errs...)
	}
	selector := cfg.selector
	if cfg.service != "" {
		m := cfg.serviceLabel + "=" + strconv.Quote(cfg.service)
		selector = strings.Join(slices.DeleteFunc([]string{m, selector}, func(s string) bool { return s == "" }), ", ")
	}
	rt := cfg.rt
	if rt == nil {
		rt = api.DefaultRoundTripper
	}
	if len(cfg.headers) > 0 {
		rt = &headerTransport{base: rt, headers: cfg.headers}
	}
	c, err := api.NewClient(api.Config{Address: address, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	return &Source{api: v1.NewAPI(c), metric: cfg.metric, selector: selector}, nil
}

// headerTransport adds headers to every request.
type headerTransport struct {
	base    http.RoundTripper
	headers http.Header
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, vs := range t.headers {
		req.Header[http.CanonicalHeaderKey(k)] = slices.Clone(vs)
	}
	return t.base.RoundTrip(req)
}

// Query returns the PromQL query that Read sends for the given objectives
// over window w.
func (s *Source) Query(objectives []string, w time.Duration) string {
	names := make([]string, len(objectives))
	for i, n := range objectives {
		names[i] = regexp.QuoteMeta(n)
	}
	matchers := []string{
		metrics.AttrObjective + "=~" + strconv.Quote(strings.Join(names, "|")),
		metrics.AttrOutcome + `=~"good|bad|shed"`,
	}
	if s.selector != "" {
		matchers = append(matchers, s.selector)
	}
	return fmt.Sprintf("sum by (%s, %s) (increase(%s{%s}[%s]))",
		metrics.AttrObjective, metrics.AttrOutcome, s.metric, strings.Join(matchers, ", "), promRange(w))
}

// promRange formats w as a PromQL range, rounded up to the millisecond,
// PromQL's finest unit: "5m", "30d", "90061001ms".
func promRange(w time.Duration) string {
	if r := w % time.Millisecond; r != 0 {
		w += time.Millisecond - r
	}
	return budget.FormatWindow(max(w, time.Millisecond))
}

// Read queries the counts of every objective of q over each of its
// windows, one query per distinct window length, all at q.Time.
func (s *Source) Read(ctx context.Context, q slo.FleetQuery) ([]slo.FleetCounts, error) {
	byWindow := map[time.Duration][]string{}
	var windows []time.Duration
	for _, o := range q.Objectives {
		for _, w := range o.Windows {
			if _, ok := byWindow[w]; !ok {
				windows = append(windows, w)
			}
			byWindow[w] = append(byWindow[w], o.Name)
		}
	}
	slices.Sort(windows)
	var out []slo.FleetCounts
	for _, w := range windows {
		names := byWindow[w]
		query := s.Query(names, w)
		val, _, _, err := s.api.Query(ctx, query, q.Time)
		if err != nil {
			return nil, fmt.Errorf("promfleet: %s: %w", query, err)
		}
		vec, ok := val.(model.Vector)
		if !ok {
			return nil, fmt.Errorf("promfleet: %s: result of type %s, want a vector", query, val.Type())
		}
		counts := make(map[string]*slo.FleetCounts, len(names))
		for _, n := range names {
			counts[n] = &slo.FleetCounts{Objective: n, Window: w}
		}
		for _, smp := range vec {
			c := counts[string(smp.Metric[metrics.AttrObjective])]
			if c == nil {
				continue
			}
			v := float64(smp.Value)
			switch string(smp.Metric[metrics.AttrOutcome]) {
			case "good":
				c.Good = v
			case "bad":
				c.Bad = v
			case "shed":
				c.Shed = v
			}
		}
		for _, n := range names {
			out = append(out, *counts[n])
		}
	}
	return out, nil
}

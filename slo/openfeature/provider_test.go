package openfeature_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/open-feature/go-sdk/openfeature/memprovider"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/openfeature"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newEngine returns an engine, not started, with one objective and the gates
// "risky" (closed once half the budget is spent) and "other" (never closed
// in these tests: it watches nothing that fails).
func newEngine(tb testing.TB) *slo.Engine {
	tb.Helper()
	eng, err := slo.New([]slo.Objective{
		{Name: "checkout", Target: 0.99, Period: time.Hour, Rules: []budget.Rule{}, MinEvents: 1},
		{Name: "search", Target: 0.99, Period: time.Hour, Rules: []budget.Rule{}, MinEvents: 1},
	},
		slo.WithGate("risky", slo.GatePolicy{Objectives: []string{"checkout"}, MinRemaining: 0.5}),
		slo.WithGate("other", slo.GatePolicy{Objectives: []string{"search"}}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		tb.Fatalf("slo.New() = %v", err)
	}
	tb.Cleanup(func() { _ = eng.Close() })
	return eng
}

// closeGate spends checkout's budget at time at, which closes "risky".
func closeGate(tb testing.TB, eng *slo.Engine, at time.Time) {
	tb.Helper()
	rec, err := eng.Recorder("checkout")
	if err != nil {
		tb.Fatal(err)
	}
	for range 10 {
		rec.Record(budget.Bad, time.Millisecond)
	}
	eng.Tick(at)
	if g, _ := eng.Gate("risky"); g.Enabled() {
		tb.Fatalf("gate risky is open after its budget was spent")
	}
}

// openGate moves the engine past the period, when the bad events have left
// it: with no data the objective is unknown, which never closes a gate.
func openGate(tb testing.TB, eng *slo.Engine, at time.Time) {
	tb.Helper()
	eng.Tick(at.Add(2 * time.Hour))
	if g, _ := eng.Gate("risky"); !g.Enabled() {
		tb.Fatalf("gate risky is closed after the period passed")
	}
}

func flag(variants map[string]any, def string) memprovider.InMemoryFlag {
	return memprovider.InMemoryFlag{State: memprovider.Enabled, DefaultVariant: def, Variants: variants}
}

// inMemory serves one flag of each type, all "on" with their risky value,
// and the ungated flag "plain".
func inMemory() *memprovider.InMemoryProvider {
	return memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"bool":   flag(map[string]any{"on": true, "off": false}, "on"),
		"string": flag(map[string]any{"on": "neural", "off": "classic"}, "on"),
		"float":  flag(map[string]any{"on": 0.9, "off": 0.1}, "on"),
		"int":    flag(map[string]any{"on": int64(50), "off": int64(10)}, "on"),
		"object": flag(map[string]any{"on": map[string]any{"model": "v2"}, "off": map[string]any{"model": "v1"}}, "on"),
		"plain":  flag(map[string]any{"on": true, "off": false}, "on"),
	})
}

func gatedOptions() []openfeature.Option {
	return []openfeature.Option{
		openfeature.WithGatedFlag("bool", "risky", false),
		openfeature.WithGatedFlag("string", "risky", "classic"),
		openfeature.WithGatedFlag("float", "risky", 0.1),
		openfeature.WithGatedFlag("int", "risky", 10), // an untyped constant: int, taken as int64
		openfeature.WithGatedFlag("object", "risky", map[string]any{"model": "v1"}),
	}
}

// newClient registers p with a fresh, isolated OpenFeature API (never the
// global one) and returns a client of it. The API is shut down at cleanup.
func newClient(tb testing.TB, p of.FeatureProvider) *of.Client {
	tb.Helper()
	api := isolated.NewAPI()
	tb.Cleanup(func() {
		if err := api.Shutdown(context.Background()); err != nil {
			tb.Errorf("api.Shutdown() = %v", err)
		}
	})
	if err := api.SetProviderAndWait(context.Background(), p); err != nil {
		tb.Fatalf("SetProviderAndWait() = %v", err)
	}
	return api.NewClient()
}

func newProvider(tb testing.TB, inner of.FeatureProvider, eng *slo.Engine, opts ...openfeature.Option) *openfeature.Provider {
	tb.Helper()
	p, err := openfeature.NewProvider(inner, eng, opts...)
	if err != nil {
		tb.Fatalf("NewProvider() = %v", err)
	}
	return p
}

// result is what every typed Details call has in common.
type result struct {
	value   any
	variant string
	reason  of.Reason
	code    of.ErrorCode
	meta    of.FlagMetadata
	err     bool
}

// evaluate evaluates flag with the typed method of its name.
func evaluate(ctx context.Context, c *of.Client, flag string) result {
	ec := of.NewEvaluationContext("user-1", nil)
	var (
		value any
		d     of.EvaluationDetails
		err   error
	)
	switch flag {
	case "bool", "plain":
		var r of.BooleanEvaluationDetails
		r, err = c.BooleanValueDetails(ctx, flag, false, ec)
		value, d = r.Value, r.EvaluationDetails
	case "string":
		var r of.StringEvaluationDetails
		r, err = c.StringValueDetails(ctx, flag, "default", ec)
		value, d = r.Value, r.EvaluationDetails
	case "float":
		var r of.FloatEvaluationDetails
		r, err = c.FloatValueDetails(ctx, flag, -1, ec)
		value, d = r.Value, r.EvaluationDetails
	case "int":
		var r of.IntEvaluationDetails
		r, err = c.IntValueDetails(ctx, flag, -1, ec)
		value, d = r.Value, r.EvaluationDetails
	case "object":
		var r of.InterfaceEvaluationDetails
		r, err = c.ObjectValueDetails(ctx, flag, nil, ec)
		value, d = r.Value, r.EvaluationDetails
	}
	return result{value: value, variant: d.Variant, reason: d.Reason, code: d.ErrorCode, meta: d.FlagMetadata, err: err != nil}
}

func TestProvider(t *testing.T) {
	eng := newEngine(t)
	client := newClient(t, newProvider(t, inMemory(), eng, gatedOptions()...))
	ctx := context.Background()

	risky := map[string]any{
		"bool": true, "string": "neural", "float": 0.9, "int": int64(50), "object": map[string]any{"model": "v2"}, "plain": true,
	}
	safe := map[string]any{
		"bool": false, "string": "classic", "float": 0.1, "int": int64(10), "object": map[string]any{"model": "v1"},
	}
	open := func(phase string) {
		t.Helper()
		for flag, want := range risky {
			got := evaluate(ctx, client, flag)
			if got.err || !reflect.DeepEqual(got.value, want) || got.reason != of.StaticReason || got.variant != "on" || len(got.meta) != 0 {
				t.Errorf("%s: %s: got %+v, want the in-memory provider's %v, reason STATIC, variant on, no metadata", phase, flag, got, want)
			}
		}
	}

	open("gate open")

	closeGate(t, eng, t0)
	wantReason := eng.Status().Gates[0].Reason
	if !strings.HasPrefix(wantReason, "checkout has ") {
		t.Fatalf("status reason of gate risky = %q, want \"checkout has …\"", wantReason)
	}
	for flag, want := range safe {
		got := evaluate(ctx, client, flag)
		wantMeta := of.FlagMetadata{openfeature.MetadataGate: "risky", openfeature.MetadataReason: wantReason}
		if got.err || !reflect.DeepEqual(got.value, want) || got.reason != of.DisabledReason ||
			got.variant != openfeature.VariantSafe || !reflect.DeepEqual(got.meta, wantMeta) {
			t.Errorf("gate closed: %s: got %+v, want %v, reason DISABLED, variant %s, metadata %v",
				flag, got, want, openfeature.VariantSafe, wantMeta)
		}
	}
	if got := evaluate(ctx, client, "plain"); got.err || got.value != true || got.reason != of.StaticReason {
		t.Errorf("gate closed: ungated flag plain: got %+v, want the in-memory provider's true, STATIC", got)
	}

	openGate(t, eng, t0)
	open("gate open again")
}

func TestTypeMismatch(t *testing.T) {
	eng := newEngine(t)
	client := newClient(t, newProvider(t, inMemory(), eng,
		openfeature.WithGatedFlag("bool", "risky", "off"), // a string for a bool flag
		openfeature.WithGatedFlag("int", "risky", 0.5),    // a float for an int flag
		openfeature.WithGatedFlag("float", "risky", 3),    // an int serves float evaluations
	))
	ctx := context.Background()

	// While the gate is open, the wrapped provider answers.
	if got := evaluate(ctx, client, "bool"); got.err || got.value != true {
		t.Errorf("gate open: bool = %+v, want the in-memory provider's true", got)
	}

	closeGate(t, eng, t0)
	for _, tt := range []struct {
		flag string
		want any
	}{
		{"bool", false},    // the caller's default
		{"int", int64(-1)}, // the caller's default
	} {
		got := evaluate(ctx, client, tt.flag)
		if !got.err || got.value != tt.want || got.reason != of.ErrorReason || got.code != of.TypeMismatchCode || got.meta[openfeature.MetadataGate] != "risky" {
			t.Errorf("gate closed: %s = %+v, want the default %v with an error, reason ERROR, code TYPE_MISMATCH, gate metadata", tt.flag, got, tt.want)
		}
	}
	if got := evaluate(ctx, client, "float"); got.err || got.value != 3.0 || got.reason != of.DisabledReason {
		t.Errorf("gate closed: float with int safe value = %+v, want 3.0, DISABLED", got)
	}
}

func TestNewProviderErrors(t *testing.T) {
	eng := newEngine(t)
	inner := inMemory()
	tests := []struct {
		name        string
		inner       of.FeatureProvider
		eng         *slo.Engine
		opts        []openfeature.Option
		want        []string
		wantUnknown bool
	}{
		{name: "nil inner", eng: eng, want: []string{"nil inner provider"}},
		{name: "nil engine", inner: inner, want: []string{"nil engine"}},
		{name: "unknown gate", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithGatedFlag("bool", "nope", false)},
			want: []string{`flag "bool"`, `unknown gate "nope"`}, wantUnknown: true},
		{name: "empty key", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithGatedFlag("", "risky", false)},
			want: []string{"flag key is empty"}},
		{name: "duplicate key", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithGatedFlag("bool", "risky", false), openfeature.WithGatedFlag("bool", "other", true)},
			want: []string{`flag "bool": flag is gated twice`}},
		{name: "duplicate of an invalid key", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithGatedFlag("bool", "nope", false), openfeature.WithGatedFlag("bool", "risky", false)},
			want: []string{`unknown gate "nope"`, `flag "bool": flag is gated twice`}, wantUnknown: true},
		{name: "nil safe value", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithGatedFlag("object", "risky", nil)},
			want: []string{"safe value is nil"}},
		{name: "uint64 too large", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithGatedFlag("int", "risky", uint64(1<<63))},
			want: []string{"does not fit an int64"}},
		{name: "poll interval", inner: inner, eng: eng,
			opts: []openfeature.Option{openfeature.WithPollInterval(0)},
			want: []string{"poll interval 0s is not positive"}},
		{name: "nil option", inner: inner, eng: eng,
			opts: []openfeature.Option{nil},
			want: []string{"option 0 is nil"}},
		{name: "everything at once", eng: nil,
			opts: []openfeature.Option{openfeature.WithGatedFlag("", "risky", nil), openfeature.WithPollInterval(-time.Second)},
			want: []string{"nil inner provider", "nil engine", "flag key is empty", "safe value is nil", "poll interval -1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := openfeature.NewProvider(tt.inner, tt.eng, tt.opts...)
			if err == nil || p != nil {
				t.Fatalf("NewProvider() = %v, %v, want nil and an error", p, err)
			}
			if !errors.Is(err, openfeature.ErrInvalidOption) {
				t.Errorf("NewProvider() = %v, want it to wrap ErrInvalidOption", err)
			}
			if got := errors.Is(err, slo.ErrUnknownGate); got != tt.wantUnknown {
				t.Errorf("errors.Is(NewProvider(), slo.ErrUnknownGate) = %v, want %v", got, tt.wantUnknown)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewProvider() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestMetadataAndHooks(t *testing.T) {
	inner := &fakeProvider{hooks: []of.Hook{of.UnimplementedHook{}}}
	p := newProvider(t, inner, newEngine(t))
	if got, want := p.Metadata().Name, "sloguard(fake)"; got != want {
		t.Errorf("Metadata().Name = %q, want %q", got, want)
	}
	if got := p.Hooks(); len(got) != 1 {
		t.Errorf("Hooks() = %v, want the wrapped provider's one hook", got)
	}
}

func TestTrack(t *testing.T) {
	inner := inMemory()
	client := newClient(t, newProvider(t, inner, newEngine(t)))
	client.Track(context.Background(), "checkout", of.NewEvaluationContext("user-1", nil), of.NewTrackingEventDetails(42))
	if got := inner.TrackingEvents("checkout"); len(got) != 1 || got[0].Value != 42 {
		t.Errorf("wrapped provider's TrackingEvents(checkout) = %+v, want one event of value 42", got)
	}
	// A wrapped provider that does not track: nothing happens.
	newProvider(t, &fakeProvider{}, newEngine(t)).Track(context.Background(), "x", of.EvaluationContext{}, of.NewTrackingEventDetails(1))
}

// TestConcurrent evaluates while the gate flips; run with -race.
func TestConcurrent(t *testing.T) {
	eng := newEngine(t)
	client := newClient(t, newProvider(t, inMemory(), eng, gatedOptions()...))
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := evaluate(ctx, client, "bool")
				if got.err || got.value == true && got.reason != of.StaticReason || got.value == false && got.reason != of.DisabledReason {
					t.Errorf("bool = %+v, want true & STATIC or false & DISABLED", got)
					return
				}
			}
		})
	}
	at := t0
	for range 20 {
		closeGate(t, eng, at)
		openGate(t, eng, at)
		at = at.Add(3 * time.Hour)
	}
	close(stop)
	wg.Wait()
}

// fakeProvider answers every flag with its zero value and counts the
// lifecycle calls. It implements ContextAwareStateHandler.
type fakeProvider struct {
	hooks   []of.Hook
	initErr error

	mu        sync.Mutex
	inits     int // guarded by mu
	shutdowns int // guarded by mu
}

func (f *fakeProvider) Metadata() of.Metadata { return of.Metadata{Name: "fake"} }
func (f *fakeProvider) Hooks() []of.Hook      { return f.hooks }
func (f *fakeProvider) BooleanEvaluation(context.Context, string, bool, of.FlattenedContext) of.BoolResolutionDetail {
	return of.BoolResolutionDetail{Value: true, ProviderResolutionDetail: of.ProviderResolutionDetail{Reason: of.StaticReason}}
}
func (f *fakeProvider) StringEvaluation(context.Context, string, string, of.FlattenedContext) of.StringResolutionDetail {
	return of.StringResolutionDetail{}
}
func (f *fakeProvider) FloatEvaluation(context.Context, string, float64, of.FlattenedContext) of.FloatResolutionDetail {
	return of.FloatResolutionDetail{}
}
func (f *fakeProvider) IntEvaluation(context.Context, string, int64, of.FlattenedContext) of.IntResolutionDetail {
	return of.IntResolutionDetail{}
}
func (f *fakeProvider) ObjectEvaluation(context.Context, string, any, of.FlattenedContext) of.InterfaceResolutionDetail {
	return of.InterfaceResolutionDetail{}
}
func (f *fakeProvider) Init(of.EvaluationContext) error {
	panic("Init called; InitWithContext expected")
}
func (f *fakeProvider) Shutdown() { panic("Shutdown called; ShutdownWithContext expected") }
func (f *fakeProvider) InitWithContext(context.Context, of.EvaluationContext) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inits++
	return f.initErr
}
func (f *fakeProvider) ShutdownWithContext(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shutdowns++
	return nil
}
func (f *fakeProvider) counts() (inits, shutdowns int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inits, f.shutdowns
}

// plainStateProvider has the context-free StateHandler only.
type plainStateProvider struct {
	of.NoopProvider
	inits, shutdowns int
}

func (p *plainStateProvider) Init(of.EvaluationContext) error { p.inits++; return nil }
func (p *plainStateProvider) Shutdown()                       { p.shutdowns++ }

func TestLifecycleForwarding(t *testing.T) {
	t.Run("context aware", func(t *testing.T) {
		inner := &fakeProvider{}
		p := newProvider(t, inner, newEngine(t))
		api := isolated.NewAPI()
		if err := api.SetProviderAndWait(context.Background(), p); err != nil {
			t.Fatalf("SetProviderAndWait() = %v", err)
		}
		if err := api.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown() = %v", err)
		}
		if i, s := inner.counts(); i != 1 || s != 1 {
			t.Errorf("wrapped provider initialised %d and shut down %d times, want 1 and 1", i, s)
		}
	})
	t.Run("init error", func(t *testing.T) {
		initErr := &of.ProviderInitError{ErrorCode: of.ProviderFatalCode, Message: "no config"}
		inner := &fakeProvider{initErr: initErr}
		p := newProvider(t, inner, newEngine(t))
		err := p.InitWithContext(context.Background(), of.EvaluationContext{})
		if pe, ok := errors.AsType[*of.ProviderInitError](err); !ok || pe != initErr {
			t.Errorf("InitWithContext() = %v, want the wrapped provider's *ProviderInitError", err)
		}
		p.Shutdown()
		p.Shutdown() // twice is harmless
		if i, s := inner.counts(); i != 1 || s != 2 {
			t.Errorf("wrapped provider initialised %d and shut down %d times, want 1 and 2", i, s)
		}
	})
	t.Run("plain state handler", func(t *testing.T) {
		inner := &plainStateProvider{}
		p := newProvider(t, inner, newEngine(t))
		if err := p.Init(of.EvaluationContext{}); err != nil {
			t.Fatalf("Init() = %v", err)
		}
		p.Shutdown()
		if inner.inits != 1 || inner.shutdowns != 1 {
			t.Errorf("wrapped provider initialised %d and shut down %d times, want 1 and 1", inner.inits, inner.shutdowns)
		}
	})
	t.Run("no state handler", func(t *testing.T) {
		p := newProvider(t, of.NoopProvider{}, newEngine(t))
		if err := p.Init(of.EvaluationContext{}); err != nil {
			t.Fatalf("Init() = %v", err)
		}
		if err := p.ShutdownWithContext(context.Background()); err != nil {
			t.Fatalf("ShutdownWithContext() = %v", err)
		}
	})
}

func ExampleNewProvider() {
	eng, err := slo.New([]slo.Objective{
		{Name: "recommendations", Target: 0.99, Period: time.Hour, Rules: []budget.Rule{}},
	},
		slo.WithGate("risky", slo.GatePolicy{MinRemaining: 0.5}),
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	flags := memprovider.NewInMemoryProvider(map[string]memprovider.InMemoryFlag{
		"new-recommender": {
			State:          memprovider.Enabled,
			DefaultVariant: "on",
			Variants:       map[string]any{"on": true, "off": false},
		},
	})
	p, err := openfeature.NewProvider(flags, eng,
		openfeature.WithGatedFlag("new-recommender", "risky", false),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := of.SetProviderAndWait(p); err != nil {
		fmt.Println(err)
		return
	}
	defer of.Shutdown()
	client := of.NewDefaultClient()
	show := func() {
		d, _ := client.BooleanValueDetails(context.Background(), "new-recommender", false, of.EvaluationContext{})
		fmt.Printf("new-recommender=%v reason=%s variant=%s", d.Value, d.Reason, d.Variant)
		if r, err := d.FlagMetadata.GetString(openfeature.MetadataReason); err == nil {
			fmt.Printf(" why=%q", r)
		}
		fmt.Println()
	}

	fmt.Println(p.Metadata().Name)
	show()

	// 100 requests, 2 failed: the budget of 1 bad request is overspent.
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	rec, _ := eng.Recorder("recommendations")
	for i := range 100 {
		outcome := budget.Good
		if i%50 == 0 {
			outcome = budget.Bad
		}
		rec.Record(outcome, 20*time.Millisecond)
	}
	eng.Tick(start)
	show()

	// Output:
	// sloguard(InMemoryProvider)
	// new-recommender=true reason=STATIC variant=on
	// new-recommender=false reason=DISABLED variant=sloguard-safe why="recommendations has -100.0% of its budget left, at most 50.0%"
}

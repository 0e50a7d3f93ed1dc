package statuspage

import (
	"fmt"
	"html"
	"log/slog"
	"math"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
)

// getPage returns the body of GET / from h.
func getPage(t *testing.T, h *Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Fatalf("GET / = %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestPage(t *testing.T) {
	eng := newEngine(t)
	incident(t, eng, healthy(t, eng, 30))
	h, err := New(eng, WithTitle("shop"))
	if err != nil {
		t.Fatal(err)
	}
	body := getPage(t, h)
	st := eng.Status()

	want := []string{
		"<title>shop · status · releases frozen</title>",
		`<meta http-equiv="refresh" content="10">`,
		"Evaluated <time datetime=\"2025-03-01T12:30:02Z\">2025-03-01 12:30:02 UTC</time>",
		"■ RELEASES FROZEN",
		html.EscapeString(st.Release.Reason),
		"Frozen since 2025-03-01 12:30:00 UTC (2s ago).",
		"✖ EXHAUSTED", "✓ OK",
		"latency ≤ 300 ms", "99.9%", "99%", "30d",
		"<svg", "</svg>", "<polyline", "<title id=\"chart-0-t\">Remaining error budget and burn rate of " + checkout + "</title>",
		"page-6h", "▲ FIRING", "○ quiet", "14.4×",
		"recommendations", "✖ DISABLED", html.EscapeString(checkout + " is in state exhausted"),
		"Load by criticality", `<title id="load-t">Demand and shed requests by criticality</title>`,
		"◆ SHEDDING", "<strong>1.00</strong>", "SHEDDABLE_PLUS", "100%",
		"No outbound dependencies.",
		`<a href="status.json">`, `<a href="release">`,
	}
	for _, o := range st.Objectives {
		want = append(want,
			o.Objective.Name,
			html.EscapeString(o.Objective.Description),
			`<span class="pct">`+percent(o.Report.Remaining)+"</span>",
			count(o.Report.Period.Good),
		)
	}
	for _, ev := range eng.Events() {
		want = append(want, html.EscapeString(ev.String()))
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("GET / lacks %q", w)
		}
	}
	if want := percent(st.Objectives[0].Report.Remaining); want != "-607.4%" {
		t.Errorf("remaining of %s reads %s, want -607.4%%", checkout, want)
	}

	// Newest event first.
	evs := eng.Events()
	first := strings.Index(body, html.EscapeString(evs[len(evs)-1].String()))
	last := strings.Index(body, html.EscapeString(evs[0].String()))
	if first < 0 || last < 0 || first > last {
		t.Errorf("events are not newest first: newest at %d, oldest at %d", first, last)
	}

	// Nothing to run and nothing to fetch.
	lower := strings.ToLower(body)
	for _, bad := range []string{"<script", "javascript:", " on", "src=", "<link", "@import", "url(", "http://", "https://"} {
		if bad == " on" {
			if m := regexp.MustCompile(`<[^>]*\son[a-z]+=`).FindString(lower); m != "" {
				t.Errorf("GET / has an event handler attribute: %s", m)
			}
			continue
		}
		if strings.Contains(lower, bad) {
			t.Errorf("GET / contains %q", bad)
		}
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, "ZgotmplZ") || strings.Contains(body, "Inf") {
		t.Errorf("GET / has a NaN, Inf or a value html/template refused")
	}
}

func TestPageEscapes(t *testing.T) {
	const evil = `<script>alert("x")</script> 'quoted' & <b>`
	eng, err := slo.New([]slo.Objective{{Name: "api", Description: evil, Target: 0.99}},
		slo.WithLogger(slog.New(slog.DiscardHandler)),
		slo.WithMeterProvider(noop.NewMeterProvider()),
		slo.WithGate("beta", slo.GatePolicy{MinRemaining: 0.5}))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	eng.Tick(start)
	h, err := New(eng, WithTitle(evil))
	if err != nil {
		t.Fatal(err)
	}
	body := getPage(t, h)
	if strings.Contains(body, "<script") || strings.Contains(body, `alert("x")`) || strings.Contains(body, "<b>") || strings.Contains(body, "'quoted'") {
		t.Errorf("GET / prints the description or title unescaped:\n%s", body)
	}
	escaped := "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#39;quoted&#39; &amp; &lt;b&gt;"
	if n := strings.Count(body, escaped); n < 3 { // title, heading, description ×2
		t.Errorf("GET / has the escaped text %d times, want at least 3: %q", n, escaped)
	}
}

func TestPageUnevaluated(t *testing.T) {
	h, err := New(newEngine(t))
	if err != nil {
		t.Fatal(err)
	}
	body := getPage(t, h)
	for _, w := range []string{"Not evaluated yet", "✓ RELEASES ALLOWED", "? UNKNOWN", `<span class="pct">unknown</span>`, "No history yet", "No events yet.", "No windows.", "<svg"} {
		if !strings.Contains(body, w) {
			t.Errorf("GET / before any evaluation lacks %q", w)
		}
	}
}

func TestPageBreaker(t *testing.T) {
	eng, err := slo.New([]slo.Objective{
		{Name: "api", Target: 0.99},
		{Name: "payments-calls", Target: 0.99, Dependency: "payments"},
	}, slo.WithLogger(slog.New(slog.DiscardHandler)), slo.WithMeterProvider(noop.NewMeterProvider()))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	b, err := eng.Breaker("payments")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		done, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		done(budget.Bad, 0)
	}
	eng.Tick(time.Now())
	h, err := New(eng)
	if err != nil {
		t.Fatal(err)
	}
	body := getPage(t, h)
	for _, w := range []string{"payments", "○ OPEN", "dependency payments", "breaker payments: closed → open"} {
		if !strings.Contains(body, w) {
			t.Errorf("GET / with an open breaker lacks %q", w)
		}
	}
}

var number = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// checkInside reports coordinates of points outside the chart.
func checkInside(t *testing.T, what, points string, c chartView) {
	t.Helper()
	for p := range strings.FieldsSeq(points) {
		xs, ys, ok := strings.Cut(p, ",")
		x, err1 := strconv.ParseFloat(xs, 64)
		y, err2 := strconv.ParseFloat(ys, 64)
		if !ok || err1 != nil || err2 != nil || x < c.Left || x > c.Right || y < c.RemTop || y > c.BurnBottom {
			t.Errorf("%s point %q is outside the plot", what, p)
		}
	}
}

func TestChart(t *testing.T) {
	at := start
	rules := []statusjson.Rule{{Name: "page-1h", Severity: "page", Long: "1h", Short: "5m", Threshold: 14.4}}
	samples := func(n int, rem, burn func(i int) float64) []statusjson.Sample {
		var s []statusjson.Sample
		for i := range n {
			s = append(s, statusjson.Sample{Time: at.Add(time.Duration(i) * time.Minute), State: "ok", Remaining: rem(i), Burn: burn(i)})
		}
		return s
	}
	tests := []struct {
		name    string
		history []statusjson.Sample
		points  int
		burnTop string // the top label of the burn axis
		ticks   []string
	}{
		{"none", nil, 0, "20×", nil},
		{"one", samples(1, func(int) float64 { return 0.5 }, func(int) float64 { return 2 }), 1, "20×", []string{"12:00"}},
		{"hour", samples(61, func(i int) float64 { return 1 - float64(i)/30 }, func(i int) float64 { return float64(i) }), 61, "100×", []string{"12:00", "12:15", "12:30", "12:45", "13:00"}},
		{"flat", samples(3, func(int) float64 { return 1 }, func(int) float64 { return 0 }), 3, "20×", []string{"12:00", "12:01", "12:02"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChart("c", statusjson.Objective{Name: "x", Rules: rules, History: tt.history})
			if c.Empty != (tt.points == 0) {
				t.Errorf("Empty = %v with %d samples", c.Empty, tt.points)
			}
			if got := len(strings.Fields(c.RemLine)); got != tt.points {
				t.Errorf("remaining line has %d points, want %d", got, tt.points)
			}
			if got := len(strings.Fields(c.BurnLine)); got != tt.points {
				t.Errorf("burn line has %d points, want %d", got, tt.points)
			}
			checkInside(t, "remaining", c.RemLine, c)
			checkInside(t, "area", c.RemArea, c)
			checkInside(t, "burn", c.BurnLine, c)
			if got := c.BurnTicks[len(c.BurnTicks)-1].Label; got != tt.burnTop {
				t.Errorf("burn axis tops at %s, want %s", got, tt.burnTop)
			}
			var ticks []string
			for _, x := range c.XTicks {
				ticks = append(ticks, x.Label)
				if x.X < c.Left || x.X > c.Right {
					t.Errorf("time tick %s at x=%v is outside the plot", x.Label, x.X)
				}
			}
			if strings.Join(ticks, " ") != strings.Join(tt.ticks, " ") {
				t.Errorf("time ticks = %v, want %v", ticks, tt.ticks)
			}
			if tt.points == 1 && (c.RemDot.X != c.Right || c.RemDot.Y != (c.RemTop+c.RemBottom)/2) {
				t.Errorf("one sample at %v, want the right edge at half height", c.RemDot)
			}
			if c.Threshold == nil || c.Threshold.Label != "page 14.4×" {
				t.Errorf("threshold = %+v, want page 14.4×", c.Threshold)
			}
			if strings.Contains(c.Desc, "NaN") || c.Desc == "" {
				t.Errorf("Desc = %q", c.Desc)
			}
		})
	}

	// Overspent budgets stay on the chart, at 0%.
	c := newChart("c", statusjson.Objective{Name: "x", History: samples(2, func(int) float64 { return -5 }, func(int) float64 { return math.MaxFloat64 })})
	checkInside(t, "overspent", c.RemLine+" "+c.BurnLine, c)
	if c.Threshold != nil || c.BurnWindow != "?" {
		t.Errorf("without rules or windows: threshold %+v, window %q", c.Threshold, c.BurnWindow)
	}
	if len(number.FindAllString(c.RemLine, -1)) != 4 {
		t.Errorf("overspent line = %q", c.RemLine)
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{percent(0.971), "97.1%"},
		{percent(-6.0739), "-607.4%"},
		{percent(-0.00001), "0.0%"},
		{percent(1), "100.0%"},
		{percentExact(0.999), "99.9%"},
		{percentExact(0.9995), "99.95%"},
		{percentExact(0.99), "99%"},
		{burn(0), "0×"},
		{burn(0.7234), "0.72×"},
		{burn(14.4), "14.4×"},
		{burn(118.4), "118×"},
		{burn(math.MaxFloat64), "∞×"},
		{count(0), "0"},
		{count(999), "999"},
		{count(1000), "1,000"},
		{count(30880), "30,880"},
		{count(1234567), "1,234,567"},
		{human(0), "0s"},
		{human(45 * time.Second), "45s"},
		{human(5 * time.Minute), "5m"},
		{human(5*time.Minute + 10*time.Second), "5m 10s"},
		{human(2*time.Hour + 30*time.Minute + 59*time.Second), "2h 30m"},
		{human(76 * time.Hour), "3d 4h"},
		{strconv.FormatFloat(niceCeil(14.4), 'f', -1, 64), "20"},
		{strconv.FormatFloat(niceCeil(20), 'f', -1, 64), "20"},
		{strconv.FormatFloat(niceCeil(21), 'f', -1, 64), "25"},
		{strconv.FormatFloat(niceCeil(0.3), 'f', -1, 64), "0.5"},
		{strconv.FormatFloat(niceCeil(600), 'f', -1, 64), "1000"},
		{strconv.FormatFloat(niceCeil(math.Inf(1)), 'f', -1, 64), "1"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestLoadChart(t *testing.T) {
	samples := func(n int, admitted, rejected func(i int) uint64) []statusjson.LoadSample {
		var s []statusjson.LoadSample
		for i := range n {
			ls := statusjson.LoadSample{Time: start.Add(time.Duration(i) * time.Minute), Admitted: map[string]uint64{}, Rejected: map[string]uint64{}}
			for k, lc := range loadCriticalities {
				ls.Admitted[lc.name] = admitted(i) * uint64(k+1)
				ls.Rejected[lc.name] = rejected(i) * uint64(k)
			}
			s = append(s, ls)
		}
		return s
	}
	tests := []struct {
		name      string
		load      []statusjson.LoadSample
		points    int
		demandTop string
		shedTop   string
		desc      string
	}{
		{"none", nil, 0, "1", "1", "No requests"},
		{"no requests", samples(3, func(int) uint64 { return 0 }, func(int) uint64 { return 0 }), 0, "1", "1", "No requests"},
		{"one", samples(1, func(int) uint64 { return 10 }, func(int) uint64 { return 1 }), 1, "50", "5", "CRITICAL_PLUS 10 requests, 0 shed; CRITICAL 21 requests, 1 shed"},
		// SHEDDABLE at the end: 4000 admitted and 1800 shed, of 5800.
		{"hour", samples(61, func(i int) uint64 { return 1000 }, func(i int) uint64 { return uint64(i * 10) }), 61, "10k", "2000",
			"61 samples from 12:00 to 13:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newLoadChart(tt.load)
			if c.Empty != (tt.points == 0) {
				t.Errorf("Empty = %v, want %v", c.Empty, tt.points == 0)
			}
			if len(c.Series) != 4 {
				t.Fatalf("%d series, want one per criticality", len(c.Series))
			}
			for _, s := range c.Series {
				for what, line := range map[string]string{"demand": s.DemandLine, "shed": s.ShedLine} {
					if got := len(strings.Fields(line)); got != tt.points {
						t.Errorf("%s %s line has %d points, want %d", s.Name, what, got, tt.points)
					}
					for p := range strings.FieldsSeq(line) {
						xs, ys, _ := strings.Cut(p, ",")
						x, _ := strconv.ParseFloat(xs, 64)
						y, _ := strconv.ParseFloat(ys, 64)
						top, bottom := c.DemandTop, c.DemandBottom
						if what == "shed" {
							top, bottom = c.ShedTop, c.ShedBottom
						}
						if x < c.Left || x > c.Right || y < top || y > bottom {
							t.Errorf("%s %s point %s is outside its panel", s.Name, what, p)
						}
					}
				}
			}
			if got := c.DemandTicks[2].Label; got != tt.demandTop {
				t.Errorf("demand axis tops at %s, want %s", got, tt.demandTop)
			}
			if got := c.ShedTicks[2].Label; got != tt.shedTop {
				t.Errorf("shed axis tops at %s, want %s", got, tt.shedTop)
			}
			if !strings.Contains(c.Desc, tt.desc) {
				t.Errorf("Desc = %q, want it to hold %q", c.Desc, tt.desc)
			}
		})
	}
	// The highest demand sits at the top of its panel, none at the bottom.
	c := newLoadChart(samples(2, func(i int) uint64 { return uint64(i) * 1250 }, func(int) uint64 { return 0 }))
	if want := fmt.Sprintf("%v,%v %v,%v", c.Left, c.DemandBottom, c.Right, c.DemandTop); c.Series[3].DemandLine != want {
		t.Errorf("SHEDDABLE demand line = %q, want %q", c.Series[3].DemandLine, want)
	}
}

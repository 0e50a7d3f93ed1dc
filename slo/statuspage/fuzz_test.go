package statuspage

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sloguard/sloguard/slo/statuspage/statusjson"
	"golang.org/x/net/html"
)

// hostileDoc returns a status document with every section filled, in which
// every name (objectives, dependencies, gates, breakers, rules, windows,
// states, event kinds) is name and every free text (descriptions, reasons,
// event texts) is text. Its shape does not depend on them: the same
// sections and rows render whatever they are.
func hostileDoc(name, text string) statusjson.Document {
	rem, tte, burn := 0.42, 3600.0, 2.5
	frozen, enabled := true, false
	var hist []statusjson.Sample
	for i := range 5 {
		hist = append(hist, statusjson.Sample{Time: start.Add(time.Duration(i) * time.Minute), State: name, Remaining: 1 - float64(i)/10, Burn: float64(i)})
	}
	return statusjson.Document{
		Time: start.Add(5 * time.Minute),
		Objectives: []statusjson.Objective{{
			Name: name, Description: text, Kind: name, Target: 0.999, PeriodS: 30 * 86400,
			Dependency: name, State: name, Remaining: &rem, TimeToExhaustionS: &tte, ControlBurn: &burn,
			Good: 990, Bad: 10, Shed: 3, Neutral: 1,
			Windows: []statusjson.Window{{Window: name, Good: 99, Bad: 1, Burn: 10, AdmittedBurn: 9}},
			Rules:   []statusjson.Rule{{Name: name, Severity: "page", Long: name, Short: name, Threshold: 14.4, LongBurn: 20, ShortBurn: 1, Firing: true}},
			History: hist,
		}},
		Shed: statusjson.Shed{Enabled: true, Level: 1.5,
			Reject: map[string]float64{name: 1, "SHEDDABLE": 0.5}, Rejected: map[string]uint64{name: 7, "SHEDDABLE": 3}},
		Breakers: []statusjson.Breaker{{Dependency: name, State: "open", Burning: true, RetryAfterS: 30}, {Dependency: name, State: name}},
		Gates:    []statusjson.Gate{{Name: name, Enabled: false, Reason: text}},
		Release:  statusjson.Release{Frozen: true, Reason: text, Since: start, RecoveryS: &tte},
		Events: []statusjson.Event{
			{Time: start, Kind: name, Text: text, Objective: name, From: name, To: name, Remaining: &rem},
			{Time: start, Kind: "freeze_changed", Text: text, Frozen: &frozen, Reason: text},
			{Time: start, Kind: "gate_changed", Text: text, Gate: name, Enabled: &enabled},
		},
	}
}

// render renders the status page of doc.
func render(t testing.TB, title string, doc statusjson.Document) string {
	t.Helper()
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, newPage(title, doc)); err != nil {
		t.Fatalf("rendering the page = %v", err)
	}
	return buf.String()
}

// voidElements have no end tag in HTML.
var voidElements = []string{"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

// markup is what a page is made of apart from its text: every tag with
// its attribute names, in order, and the texts and attribute values.
type markup struct {
	tags   []string // "<p class>", "</p>", "<line x1 x2 y1 y2 class/>"
	texts  []string // unescaped
	values []string // unescaped, as "tag.attr=value"
}

// parseMarkup tokenizes body and checks that it is well formed: every
// element but the void ones is closed, in order, and nothing follows
// </html>.
func parseMarkup(t testing.TB, body string) markup {
	t.Helper()
	var (
		m     markup
		stack []string
	)
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		tok := z.Token()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizing the page = %v", z.Err())
			}
			if len(stack) > 0 {
				t.Fatalf("the page ends with elements open: %v", stack)
			}
			return m
		case html.TextToken:
			m.texts = append(m.texts, tok.Data)
			continue
		case html.CommentToken:
			t.Fatalf("the page has a comment %q", tok.Data)
		case html.DoctypeToken:
			m.tags = append(m.tags, "<!doctype "+tok.Data+">")
			continue
		}
		tag := "<"
		if tt == html.EndTagToken {
			tag += "/"
		}
		tag += tok.Data
		for _, a := range tok.Attr {
			tag += " " + a.Key
			m.values = append(m.values, tok.Data+"."+a.Key+"="+a.Val)
		}
		if tt == html.SelfClosingTagToken {
			tag += "/"
		}
		m.tags = append(m.tags, tag+">")
		switch {
		case tt == html.StartTagToken && !slices.Contains(voidElements, tok.Data):
			stack = append(stack, tok.Data)
		case tt == html.EndTagToken:
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				t.Fatalf("</%s> closes %v", tok.Data, stack[max(0, len(stack)-5):])
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// FuzzPageNames renders the status page with hostile names and texts:
// markup, quotes, control characters, invalid UTF-8, very long strings.
// html/template escapes them; this proves it for every place the page
// prints them, the SVG chart and attributes included. Invariants: the page
// renders and is well formed; its tags and attributes are exactly those of
// the page with harmless names (nothing injected, nothing closed early);
// a name or text holding a character that markup needs never appears raw;
// and the name and text read back from the page's text and attributes.
func FuzzPageNames(f *testing.F) {
	for _, s := range [][2]string{
		{"checkout-availability", "POST /checkout answers without a server error."},
		{`<script>alert(1)</script>`, `</title><script>alert("x")</script>`},
		{`"><svg onload=alert(1)>`, `' onmouseover='alert(1)`},
		{`x" id="y`, `a & b &amp; &lt;c&gt; &#x3c;`},
		{"</svg><img src=x onerror=alert(1)>", "</desc></svg><script>"},
		{"javascript:alert(1)", "data:text/html,<b>x</b>"},
		{"\x00\x01\x1b[31m\r\n\t", "\u2028\u2029\u202e\ufeff"},
		{"\xff\xfe\xc3", "bad \xed\xa0\x80 utf-8"},
		{"<!--", "--><![CDATA[ ]]>"},
		{"{{.Title}}", "{{template \"page\"}}"},
		{strings.Repeat("<a>", 3000), strings.Repeat(`"'&`, 20000)},
	} {
		f.Add(s[0], s[1])
	}
	harmless := parseMarkup(f, render(f, "⟪t⟫", hostileDoc("⟦n⟧", "⟪t⟫")))
	f.Fuzz(func(t *testing.T, name, text string) {
		// Brackets that the template never prints mark where the data is,
		// so that a raw occurrence can only come from it; they also keep
		// the strings from being empty, which would leave sections out
		// and change the markup for good reasons.
		name, text = "⟦"+name+"⟧", "⟪"+text+"⟫"
		body := render(t, text, hostileDoc(name, text))
		m := parseMarkup(t, body)
		if !slices.Equal(m.tags, harmless.tags) {
			i := 0
			for i < min(len(m.tags), len(harmless.tags)) && m.tags[i] == harmless.tags[i] {
				i++
			}
			t.Fatalf("name %q, text %q change the markup at tag %d: %q, want %q",
				name, text, i, at(m.tags, i), at(harmless.tags, i))
		}
		for _, s := range []string{name, text} {
			if strings.ContainsAny(s, `<>&"'`) && strings.Contains(body, s) {
				t.Fatalf("the page holds %q unescaped", s)
			}
		}
		// html/template replaces NUL, and the tokenizer normalizes line
		// ends; anything else reads back exactly.
		if strings.ContainsAny(name+text, "\x00\r") {
			return
		}
		for _, want := range []string{name, text} {
			if !slices.ContainsFunc(m.texts, func(s string) bool { return strings.Contains(s, want) }) {
				t.Errorf("no text of the page holds %q", want)
			}
		}
		for _, want := range []string{"section.id=objective-" + name, "h3.id=objective-" + name + "-h"} {
			if !slices.Contains(m.values, want) {
				t.Errorf("no attribute of the page is %q", want)
			}
		}
		svgTitle := "Remaining error budget and burn rate of " + name
		if !slices.Contains(m.texts, svgTitle) {
			t.Errorf("the chart's title is not %q", svgTitle)
		}
	})
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(end)"
}

// TestPageMarkupWellFormed checks parseMarkup on a real page, so that the
// fuzz target compares against a page that is itself well formed.
func TestPageMarkupWellFormed(t *testing.T) {
	m := parseMarkup(t, render(t, "shop", hostileDoc("checkout", "text")))
	for _, want := range []string{"<svg class viewbox role aria-labelledby>", "<polyline points class/>", "</svg>", "</html>"} {
		if !slices.Contains(m.tags, want) {
			t.Errorf("the page has no %s", want)
		}
	}
	if slices.Contains(m.tags, "<script>") {
		t.Errorf("the page has a script")
	}
}

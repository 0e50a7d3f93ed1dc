package openslo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
	"github.com/sloguard/sloguard/slo"
)

// APIVersion is the OpenSLO version read and written.
const APIVersion = "openslo/v1"

// SourceType is the metric source type that binds an SLI to sloguard's
// events.
const SourceType = "sloguard"

var (
	// ErrInvalid is wrapped by every error about a document that breaks
	// OpenSLO v1 or sloguard's binding convention.
	ErrInvalid = errors.New("openslo: invalid document")
	// ErrUnsupported is wrapped by every error about valid OpenSLO that
	// sloguard can not honour, such as Timeslices budgeting.
	ErrUnsupported = errors.New("openslo: not supported")
)

// SLO is one objective read from (or written to) OpenSLO.
//
// The zero SLO holds the zero slo.Objective, which is not valid.
type SLO struct {
	// Objective is the sloguard objective; its Rules are nil (the
	// default rules) when the SLO has no alert policies.
	Objective slo.Objective
	// Service is the SLO's spec.service.
	Service string
	// Routes are the HTTP route patterns whose requests the SLI counts,
	// as given to middleware.WithRoute.
	Routes []string
	// Methods are the gRPC full method names whose calls the SLI counts.
	Methods []string
	// AlertAfter holds each rule's alertAfter, by index into
	// Objective.Rules: how long Prometheus waits before it alerts
	// (promrules.SLO.AlertAfter).
	AlertAfter []time.Duration
	// Source is where the SLO was read; zero for objectives built in Go.
	Source Position
}

// Position locates a document, or a field in it.
//
// The zero Position locates nothing: no file, document or line.
type Position struct {
	File string // the name given to Decode
	Doc  int    // index of the document in the file, from 1
	Kind string // the document's kind, e.g. SLO
	Name string // the document's metadata.name
	Line int    // line in the file, from 1
}

// Error is one problem with one field of one document.
//
// The zero Error locates nothing and wraps nothing; its Error method still
// works.
type Error struct {
	Position
	Path string // field path in the document, e.g. spec.objectives[0].target
	Err  error  // wraps ErrInvalid or ErrUnsupported
}

// Error returns "file:line: document n (Kind name): path: problem".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: document %d", e.File, e.Line, e.Doc)
	switch {
	case e.Kind != "" && e.Name != "":
		fmt.Fprintf(&b, " (%s %s)", e.Kind, e.Name)
	case e.Kind != "":
		fmt.Fprintf(&b, " (%s)", e.Kind)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Err, so that errors.Is finds ErrInvalid or ErrUnsupported.
func (e *Error) Unwrap() error { return e.Err }

// File is one named YAML stream of OpenSLO documents.
//
// The zero File is an unnamed empty stream: Decode finds no documents in it.
type File struct {
	Name string // used in errors, e.g. the path
	Data []byte
}

// doc is one parsed document.
type doc struct {
	pos  Position
	root *yaml.Node
}

// decoder collects the problems of one Decode.
type decoder struct {
	errs   []error
	docs   []*doc
	byKind map[string]map[string]*doc // kind → name → document

	// Named documents are read once, whether or not anything refers to
	// them, so that each problem is reported once.
	slis       map[*doc]sliResult
	conditions map[*doc]conditionResult
	policies   map[*doc]policyResult
}

type sliResult struct {
	b  binding
	ok bool
}

type conditionResult struct {
	r     budget.Rule
	after time.Duration
	ok    bool
}

type policyResult struct {
	rules []budget.Rule
	after []time.Duration
}

// errorf records a problem at node n (nil: the document's start) of d.
func (dec *decoder) errorf(d *doc, n *yaml.Node, path string, sentinel error, format string, a ...any) {
	pos := d.pos
	if n != nil {
		pos.Line = n.Line
	}
	dec.errs = append(dec.errs, &Error{Position: pos, Path: path, Err: fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))})
}

// Decode reads the OpenSLO v1 documents of all files and returns their SLOs,
// in order, with references resolved across files. It reports every
// problem at once, each an *Error.
func Decode(inputs ...File) ([]SLO, error) {
	dec := &decoder{
		byKind:     map[string]map[string]*doc{},
		slis:       map[*doc]sliResult{},
		conditions: map[*doc]conditionResult{},
		policies:   map[*doc]policyResult{},
	}
	for _, f := range inputs {
		dec.parse(f)
	}
	// Referenced kinds first, in dependency order.
	for _, kind := range []string{"SLI", "AlertCondition", "AlertPolicy"} {
		for _, d := range dec.docs {
			if d.pos.Kind == kind {
				dec.named(d)
			}
		}
	}
	var out []SLO
	names := map[string]Position{}
	for _, d := range dec.docs {
		if d.pos.Kind != "SLO" {
			continue
		}
		before := len(dec.errs)
		slos := dec.slo(d)
		if len(dec.errs) > before {
			continue // Validate would repeat what is reported
		}
		for _, s := range slos {
			if err := s.Objective.Validate(); err != nil {
				dec.errs = append(dec.errs, &Error{Position: s.Source, Path: "spec", Err: fmt.Errorf("%w: %w", ErrInvalid, err)})
				continue
			}
			if prev, dup := names[s.Objective.Name]; dup {
				dec.errorf(d, nil, "metadata.name", ErrInvalid, "objective %q is also declared at %s:%d", s.Objective.Name, prev.File, prev.Line)
				continue
			}
			names[s.Objective.Name] = s.Source
			out = append(out, s)
		}
	}
	if len(dec.errs) > 0 {
		// In the order of the files given, then of lines.
		files := map[string]int{}
		for i, f := range inputs {
			if _, seen := files[f.Name]; !seen {
				files[f.Name] = i
			}
		}
		slices.SortStableFunc(dec.errs, func(a, b error) int {
			ea, eb := a.(*Error), b.(*Error)
			if d := files[ea.File] - files[eb.File]; d != 0 {
				return d
			}
			return ea.Line - eb.Line
		})
		return nil, errors.Join(dec.errs...)
	}
	return out, nil
}

// parse splits f into documents, checks their header and indexes them.
func (dec *decoder) parse(f File) {
	yd := yaml.NewDecoder(bytes.NewReader(f.Data))
	for i := 1; ; i++ {
		var n yaml.Node
		err := yd.Decode(&n)
		if errors.Is(err, io.EOF) {
			return
		}
		d := &doc{pos: Position{File: f.Name, Doc: i, Line: n.Line}}
		if err != nil {
			if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
				d.pos.Line, _ = strconv.Atoi(m[1])
			}
			dec.errs = append(dec.errs, &Error{Position: d.pos, Err: fmt.Errorf("%w: %v", ErrInvalid, err)})
			return
		}
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			d.root = n.Content[0]
		}
		if d.root == nil || d.root.Kind != yaml.MappingNode {
			if d.root != nil && d.root.Tag == "!!null" {
				continue // an empty document, as after a trailing ---
			}
			dec.errorf(d, d.root, "", ErrInvalid, "a document must be a mapping")
			continue
		}
		d.pos.Line = d.root.Line
		m := mapping{dec: dec, d: d, n: d.root}
		m.known("apiVersion", "kind", "metadata", "spec")
		kind := m.str("kind", true)
		d.pos.Kind = kind
		if meta, ok := m.mapping("metadata", true); ok {
			d.pos.Name = meta.str("name", true)
			meta.known("name", "displayName", "labels", "annotations")
		}
		if n := m.node("apiVersion"); n == nil {
			dec.errorf(d, d.root, "apiVersion", ErrInvalid, "missing, want %s", APIVersion)
		} else if v := scalar(n); v != APIVersion {
			dec.errorf(d, n, "apiVersion", ErrUnsupported, "%q, want %s", v, APIVersion)
		}
		switch kind {
		case "SLO", "SLI", "AlertPolicy", "AlertCondition", "Service", "DataSource", "AlertNotificationTarget":
		case "":
			continue
		default:
			dec.errorf(d, m.node("kind"), "kind", ErrInvalid, "unknown kind %q", kind)
			continue
		}
		dec.docs = append(dec.docs, d)
		if d.pos.Name == "" {
			continue
		}
		if dec.byKind[kind] == nil {
			dec.byKind[kind] = map[string]*doc{}
		}
		if prev, dup := dec.byKind[kind][d.pos.Name]; dup {
			dec.errorf(d, nil, "metadata.name", ErrInvalid, "%s %q is also declared at %s:%d", kind, d.pos.Name, prev.pos.File, prev.pos.Line)
			continue
		}
		dec.byKind[kind][d.pos.Name] = d
	}
}

// mapping is a YAML mapping node at a path in a document.
type mapping struct {
	dec  *decoder
	d    *doc
	n    *yaml.Node
	path string
	// keyLine is the line of the key (or list item) that holds the
	// mapping, where a missing field is reported; 0 for a document.
	keyLine int
}

// missing reports that key is absent, at the line of the mapping's key.
func (m mapping) missing(key string) { m.errorf(key, ErrInvalid, "missing") }

func (m mapping) at(key string) string {
	if m.path == "" {
		return key
	}
	return m.path + "." + key
}

// get returns the key's node and the value's node, or nils.
func (m mapping) get(key string) (k, v *yaml.Node) {
	for i := 0; i+1 < len(m.n.Content); i += 2 {
		if m.n.Content[i].Value == key {
			return m.n.Content[i], m.n.Content[i+1]
		}
	}
	return nil, nil
}

// node returns the value of key, or nil.
func (m mapping) node(key string) *yaml.Node {
	_, v := m.get(key)
	return v
}

func (m mapping) has(key string) bool { return m.node(key) != nil }

// known reports keys other than the given ones.
func (m mapping) known(keys ...string) {
	for i := 0; i+1 < len(m.n.Content); i += 2 {
		if k := m.n.Content[i]; !slices.Contains(keys, k.Value) {
			m.dec.errorf(m.d, k, m.at(k.Value), ErrInvalid, "unknown field (known: %s)", strings.Join(keys, ", "))
		}
	}
}

func (m mapping) errorf(key string, sentinel error, format string, a ...any) {
	n := m.node(key)
	switch {
	case n != nil:
	case m.keyLine > 0: // absent: where the mapping's key is
		n = &yaml.Node{Line: m.keyLine}
	default:
		n = m.n
	}
	m.dec.errorf(m.d, n, m.at(key), sentinel, format, a...)
}

// str returns a scalar string field; required reports its absence.
func (m mapping) str(key string, required bool) string {
	v := m.node(key)
	switch {
	case v == nil:
		if required {
			m.missing(key)
		}
		return ""
	case v.Kind != yaml.ScalarNode:
		m.dec.errorf(m.d, v, m.at(key), ErrInvalid, "must be a string")
		return ""
	}
	return v.Value
}

// float returns a number field and whether it is present and a number.
func (m mapping) float(key string) (float64, bool) {
	v := m.node(key)
	if v == nil {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if v.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		m.dec.errorf(m.d, v, m.at(key), ErrInvalid, "%q is not a number", v.Value)
		return 0, false
	}
	return f, true
}

// boolean returns a boolean field and whether it is present.
func (m mapping) boolean(key string) (bool, bool) {
	v := m.node(key)
	if v == nil {
		return false, false
	}
	switch v.Value {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	m.dec.errorf(m.d, v, m.at(key), ErrInvalid, "%q is not true or false", v.Value)
	return false, false
}

// mapping returns a mapping field.
func (m mapping) mapping(key string, required bool) (mapping, bool) {
	v := m.node(key)
	switch {
	case v == nil:
		if required {
			m.missing(key)
		}
		return mapping{}, false
	case v.Kind != yaml.MappingNode:
		m.dec.errorf(m.d, v, m.at(key), ErrInvalid, "must be a mapping")
		return mapping{}, false
	}
	k, _ := m.get(key)
	return mapping{dec: m.dec, d: m.d, n: v, path: m.at(key), keyLine: k.Line}, true
}

// list returns the elements of a sequence field of mappings.
func (m mapping) list(key string, required bool) []mapping {
	v := m.node(key)
	switch {
	case v == nil:
		if required {
			m.missing(key)
		}
		return nil
	case v.Kind != yaml.SequenceNode:
		m.dec.errorf(m.d, v, m.at(key), ErrInvalid, "must be a list")
		return nil
	}
	var out []mapping
	for i, e := range v.Content {
		path := fmt.Sprintf("%s[%d]", m.at(key), i)
		if e.Kind != yaml.MappingNode {
			m.dec.errorf(m.d, e, path, ErrInvalid, "must be a mapping")
			continue
		}
		out = append(out, mapping{dec: m.dec, d: m.d, n: e, path: path, keyLine: e.Line})
	}
	return out
}

// strings returns a sequence field of strings.
func (m mapping) strings(key string) []string {
	v := m.node(key)
	if v == nil {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		m.dec.errorf(m.d, v, m.at(key), ErrInvalid, "must be a list of strings")
		return nil
	}
	var out []string
	for i, e := range v.Content {
		if e.Kind != yaml.ScalarNode || e.Value == "" {
			m.dec.errorf(m.d, e, fmt.Sprintf("%s[%d]", m.at(key), i), ErrInvalid, "must be a non-empty string")
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// yamlLine finds the line in the YAML library's syntax errors.
var yamlLine = regexp.MustCompile(`line ([0-9]+)`)

// shorthand matches OpenSLO's duration-shorthand.
var shorthand = regexp.MustCompile(`^([1-9][0-9]*)(m|h|d|w|M|Q|Y)$`)

// duration parses a duration-shorthand field into its count and unit.
func (m mapping) duration(key string, required bool) (n int, unit string, ok bool) {
	s := m.str(key, required)
	if s == "" {
		return 0, "", false
	}
	sub := shorthand.FindStringSubmatch(s)
	if sub == nil {
		m.errorf(key, ErrInvalid, "%q is not a duration shorthand such as 5m, 1h, 28d, 1w or 1M", s)
		return 0, "", false
	}
	n, err := strconv.Atoi(sub[1])
	if err != nil || n > 100*366 {
		m.errorf(key, ErrInvalid, "%q is too long", s)
		return 0, "", false
	}
	return n, sub[2], true
}

// fixed parses a duration-shorthand field of fixed length (m, h, d, w).
func (m mapping) fixed(key string, required bool) (time.Duration, bool) {
	n, unit, ok := m.duration(key, required)
	if !ok {
		return 0, false
	}
	d := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[unit]
	if d == 0 {
		m.errorf(key, ErrUnsupported, "%d%s has no fixed length: use m, h, d or w", n, unit)
		return 0, false
	}
	return time.Duration(n) * d, true
}

// named reads an SLI, AlertCondition or AlertPolicy document once.
func (dec *decoder) named(d *doc) {
	spec, ok := (mapping{dec: dec, d: d, n: d.root}).mapping("spec", true)
	switch d.pos.Kind {
	case "SLI":
		var r sliResult
		if ok {
			r.b, r.ok = dec.sli(spec)
		}
		dec.slis[d] = r
	case "AlertCondition":
		var r conditionResult
		if ok {
			r.r, r.after, r.ok = dec.condition(spec)
		}
		dec.conditions[d] = r
	case "AlertPolicy":
		var r policyResult
		if ok {
			r.rules, r.after = dec.policy(spec)
		}
		dec.policies[d] = r
	}
}

// slo reads one SLO document into one SLO per objective.
func (dec *decoder) slo(d *doc) []SLO {
	root := mapping{dec: dec, d: d, n: d.root}
	spec, ok := root.mapping("spec", true)
	if !ok {
		return nil
	}
	spec.known("description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives", "alertPolicies")
	base := SLO{Source: d.pos}
	base.Objective.Description = spec.str("description", false)
	base.Service = spec.str("service", true)
	if base.Service != "" && !validName(base.Service) {
		spec.errorf("service", ErrInvalid, "%q: use letters, digits, '_', '-' and '.'", base.Service)
	}

	sli, ok := dec.indicator(spec)
	if ok {
		base.Routes, base.Methods = sli.routes, sli.methods
		base.Objective.Latency = sli.latency
	}
	dec.timeWindow(spec, &base.Objective)
	switch m := spec.str("budgetingMethod", true); m {
	case "Occurrences", "":
	case "Timeslices", "RatioTimeslices":
		spec.errorf("budgetingMethod", ErrUnsupported, "%s: sloguard counts events (Occurrences)", m)
	default:
		spec.errorf("budgetingMethod", ErrInvalid, "%q is none of Occurrences, Timeslices, RatioTimeslices", m)
	}
	dec.alertPolicies(spec, &base)

	objectives := spec.list("objectives", true)
	if spec.has("objectives") && len(objectives) == 0 {
		spec.errorf("objectives", ErrInvalid, "empty")
	}
	if ok && sli.threshold && len(objectives) > 1 {
		spec.errorf("objectives", ErrInvalid, "a thresholdMetric SLI takes exactly one objective, not %d", len(objectives))
	}
	var out []SLO
	for i, o := range objectives {
		o.known("displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow")
		s := base // each objective its own slices
		s.Objective.Rules = slices.Clone(base.Objective.Rules)
		s.AlertAfter = slices.Clone(base.AlertAfter)
		s.Routes, s.Methods = slices.Clone(base.Routes), slices.Clone(base.Methods)
		s.Source.Line = o.n.Line
		s.Objective.Name = d.pos.Name
		if i > 0 {
			s.Objective.Name = fmt.Sprintf("%s-%d", d.pos.Name, i+1)
		}
		target, hasT := o.float("target")
		percent, hasP := o.float("targetPercent")
		switch {
		case hasT && hasP:
			o.errorf("targetPercent", ErrInvalid, "give target or targetPercent, not both")
		case hasT:
			s.Objective.Target = target
		case hasP:
			// 99.9 / 100 is 0.9990000000000001 in binary; the 15 digits
			// a float64 keeps give back the decimal the file meant.
			s.Objective.Target, _ = strconv.ParseFloat(strconv.FormatFloat(percent/100, 'g', 15, 64), 64)
		case !o.has("target") && !o.has("targetPercent"):
			o.errorf("target", ErrInvalid, "missing (or targetPercent)")
		}
		if (hasT || hasP) && !(s.Objective.Target > 0 && s.Objective.Target < 1) {
			key := "target"
			if hasP {
				key = "targetPercent"
			}
			o.errorf(key, ErrInvalid, "%s is not in (0, 1) (targetPercent: (0, 100))", scalar(o.node(key)))
		}
		for _, k := range []string{"timeSliceTarget", "timeSliceWindow"} {
			if o.has(k) {
				o.errorf(k, ErrUnsupported, "time slices: sloguard counts events (Occurrences)")
			}
		}
		if ok && sli.threshold {
			s.Objective.Latency = dec.thresholdObjective(o)
		} else if o.has("op") || o.has("value") {
			o.errorf("op", ErrInvalid, "op and value belong to a thresholdMetric SLI")
		}
		if d.pos.Name != "" && !validName(s.Objective.Name) {
			root.errorf("metadata", ErrInvalid, "name %q: use 1 to 128 letters, digits, '_', '-' and '.'", s.Objective.Name)
		}
		out = append(out, s)
	}
	return out
}

// thresholdObjective reads a thresholdMetric objective's op and value: the
// latency threshold in seconds.
func (dec *decoder) thresholdObjective(o mapping) time.Duration {
	switch op := o.str("op", true); op {
	case "lte", "":
	case "lt", "gt", "gte":
		o.errorf("op", ErrUnsupported, "%s: a sloguard latency objective counts requests within (lte) the threshold", op)
	default:
		o.errorf("op", ErrInvalid, "%q is none of lte, lt, gte, gt", op)
	}
	v, ok := o.float("value")
	switch {
	case !ok && !o.has("value"):
		o.errorf("value", ErrInvalid, "missing: the latency threshold in seconds")
	case ok && !(v > 0 && v <= 3600):
		o.errorf("value", ErrInvalid, "%v seconds is not in (0, 3600]", v)
	case ok:
		return time.Duration(math.Round(v * float64(time.Second)))
	}
	return 0
}

// binding is what an SLI says about sloguard's events.
type binding struct {
	routes, methods []string
	latency         time.Duration
	threshold       bool // a thresholdMetric: the objective carries the latency
}

// indicator reads spec.indicator or resolves spec.indicatorRef.
func (dec *decoder) indicator(spec mapping) (binding, bool) {
	inline, hasInline := spec.mapping("indicator", false)
	ref := spec.str("indicatorRef", false)
	switch {
	case hasInline && ref != "":
		spec.errorf("indicatorRef", ErrInvalid, "give indicator or indicatorRef, not both")
		return binding{}, false
	case hasInline:
		inline.known("metadata", "spec")
		if meta, ok := inline.mapping("metadata", false); ok {
			meta.known("name", "displayName", "labels", "annotations")
		}
		s, ok := inline.mapping("spec", true)
		if !ok {
			return binding{}, false
		}
		return dec.sli(s)
	case ref != "":
		d, ok := dec.byKind["SLI"][ref]
		if !ok {
			spec.errorf("indicatorRef", ErrInvalid, "no SLI named %q", ref)
			return binding{}, false
		}
		r := dec.slis[d]
		return r.b, r.ok
	}
	spec.errorf("indicator", ErrInvalid, "missing (or indicatorRef)")
	return binding{}, false
}

// sli reads an SLI spec.
func (dec *decoder) sli(s mapping) (binding, bool) {
	s.known("description", "thresholdMetric", "ratioMetric")
	ratio, hasRatio := s.mapping("ratioMetric", false)
	threshold, hasThreshold := s.mapping("thresholdMetric", false)
	switch {
	case hasRatio && hasThreshold:
		s.errorf("thresholdMetric", ErrInvalid, "give ratioMetric or thresholdMetric, not both")
	case hasThreshold:
		threshold.known("metricSource")
		b, ok := dec.source(threshold, false)
		b.threshold = true
		return b, ok
	case hasRatio:
		ratio.known("counter", "good", "bad", "total", "raw", "rawType")
		if ratio.has("raw") || ratio.has("rawType") {
			ratio.errorf("raw", ErrUnsupported, "raw ratios: sloguard counts good and total events")
			return binding{}, false
		}
		if c, ok := ratio.boolean("counter"); ok && !c {
			ratio.errorf("counter", ErrInvalid, "sloguard's event counts are counters: counter must be true")
		}
		good, hasGood := ratio.mapping("good", false)
		bad, hasBad := ratio.mapping("bad", false)
		total, hasTotal := ratio.mapping("total", true)
		var num mapping
		switch {
		case hasGood && hasBad:
			ratio.errorf("bad", ErrInvalid, "give good or bad, not both")
			return binding{}, false
		case hasGood:
			num = good
		case hasBad:
			num = bad
		default:
			ratio.errorf("good", ErrInvalid, "missing (or bad)")
			return binding{}, false
		}
		if !hasTotal {
			return binding{}, false
		}
		num.known("metricSource")
		total.known("metricSource")
		nb, ok1 := dec.source(num, hasGood)
		tb, ok2 := dec.source(total, false)
		if !ok1 || !ok2 {
			return binding{}, false
		}
		if !slices.Equal(nb.routes, tb.routes) || !slices.Equal(nb.methods, tb.methods) {
			num.errorf("metricSource", ErrInvalid, "binds routes %q and methods %q, total binds %q and %q: they must be the same",
				nb.routes, nb.methods, tb.routes, tb.methods)
			return binding{}, false
		}
		tb.latency = nb.latency
		return tb, true
	default:
		s.errorf("ratioMetric", ErrInvalid, "missing (or thresholdMetric)")
	}
	return binding{}, false
}

// source reads the metricSource of m; latencyOK says whether it may carry a
// latency threshold (the good source of a ratio).
func (dec *decoder) source(m mapping, latencyOK bool) (binding, bool) {
	ms, ok := m.mapping("metricSource", true)
	if !ok {
		return binding{}, false
	}
	ms.known("metricSourceRef", "type", "spec")
	typ := ms.str("type", false)
	if ref := ms.str("metricSourceRef", false); ref != "" {
		// A DataSource of type sloguard: it has no connection details,
		// but a file may name one.
		d, ok := dec.byKind["DataSource"][ref]
		if !ok {
			ms.errorf("metricSourceRef", ErrInvalid, "no DataSource named %q", ref)
			return binding{}, false
		}
		ds, _ := (mapping{dec: dec, d: d, n: d.root}).mapping("spec", false)
		if ds.n == nil || scalar(ds.node("type")) != SourceType {
			ms.errorf("metricSourceRef", ErrUnsupported, "DataSource %q is not of type %s: sloguard counts its own events", ref, SourceType)
			return binding{}, false
		}
		if typ == "" {
			typ = SourceType
		}
	} else if typ == "" {
		ms.missing("type")
		return binding{}, false
	}
	if t := typ; t != SourceType {
		if t != "" {
			ms.errorf("type", ErrUnsupported, "%q: sloguard counts its own events; use type: %s", t, SourceType)
		}
		return binding{}, false
	}
	spec, ok := ms.mapping("spec", true)
	if !ok {
		return binding{}, false
	}
	spec.known("routes", "methods", "latency")
	b := binding{routes: spec.strings("routes"), methods: spec.strings("methods")}
	slices.Sort(b.routes)
	slices.Sort(b.methods)
	if len(b.routes)+len(b.methods) == 0 {
		spec.errorf("routes", ErrInvalid, "no routes and no methods: name the requests the SLI counts")
	}
	if s := spec.str("latency", false); s != "" {
		d, err := time.ParseDuration(s)
		switch {
		case !latencyOK:
			spec.errorf("latency", ErrInvalid, "a latency threshold belongs in the good source of a ratioMetric (or the objective of a thresholdMetric)")
		case err != nil || d <= 0:
			spec.errorf("latency", ErrInvalid, "%q is not a positive duration such as 300ms", s)
		default:
			b.latency = d
		}
	}
	return b, true
}

// timeWindow reads spec.timeWindow into o's Period or Calendar.
func (dec *decoder) timeWindow(spec mapping, o *slo.Objective) {
	ws := spec.list("timeWindow", false)
	if !spec.has("timeWindow") {
		return // sloguard's default period
	}
	if n := len(spec.node("timeWindow").Content); n != 1 {
		spec.errorf("timeWindow", ErrInvalid, "%d items, want exactly one", n)
		return
	}
	if len(ws) == 0 {
		return
	}
	w := ws[0]
	w.known("duration", "isRolling", "calendar")
	rolling, hasRolling := w.boolean("isRolling")
	cal, hasCal := w.mapping("calendar", false)
	if !hasRolling {
		rolling = !hasCal
	}
	switch {
	case rolling && hasCal:
		w.errorf("calendar", ErrInvalid, "a rolling time window has no calendar")
	case rolling:
		if d, ok := w.fixed("duration", true); ok {
			o.Period = d
		}
	default:
		n, unit, ok := w.duration("duration", true)
		if !ok {
			return
		}
		var c budget.Calendar
		switch {
		case n == 1 && unit == "w":
			c.Unit = budget.Week
		case n == 1 && unit == "M":
			c.Unit = budget.Month
		default:
			w.errorf("duration", ErrUnsupported, "calendar period %d%s: sloguard's calendar periods are 1w and 1M", n, unit)
			return
		}
		c.Location = time.UTC
		if hasCal {
			cal.known("startTime", "timeZone")
			if tz := cal.str("timeZone", false); tz != "" {
				loc, err := time.LoadLocation(tz)
				if err != nil {
					cal.errorf("timeZone", ErrInvalid, "%q is not an IANA time zone: %v", tz, err)
					return
				}
				c.Location = loc
			}
			if st := cal.str("startTime", false); st != "" {
				t, err := time.ParseInLocation(time.DateTime, st, c.Location)
				switch {
				case err != nil:
					cal.errorf("startTime", ErrInvalid, "%q is not a date and time such as 2024-01-01 00:00:00", st)
				default:
					if start, _ := c.Bounds(t); !start.Equal(t) {
						cal.errorf("startTime", ErrUnsupported, "%s: sloguard's %ss start at 00:00 on %s",
							st, c.Unit, map[budget.CalendarUnit]string{budget.Week: "a Monday", budget.Month: "the 1st"}[c.Unit])
					}
				}
			}
		}
		o.Calendar = c
	}
}

// alertPolicies reads spec.alertPolicies into s's rules and alertAfter.
func (dec *decoder) alertPolicies(spec mapping, s *SLO) {
	policies := spec.list("alertPolicies", false)
	if !spec.has("alertPolicies") {
		return
	}
	s.Objective.Rules = []budget.Rule{} // explicit: an empty list means no alerts
	for _, p := range policies {
		r, ok := inlineOrRef(dec, p, "alertPolicyRef", "AlertPolicy", dec.policies, func(spec mapping) policyResult {
			rules, after := dec.policy(spec)
			return policyResult{rules, after}
		})
		if !ok {
			continue
		}
		s.Objective.Rules = append(s.Objective.Rules, r.rules...)
		s.AlertAfter = append(s.AlertAfter, r.after...)
	}
	if !slices.ContainsFunc(s.AlertAfter, func(d time.Duration) bool { return d > 0 }) {
		s.AlertAfter = nil
	}
}

// inlineOrRef reads an item that either refers by refKey to a document of
// kind, whose result done holds (every named document is read once, up
// front), or holds such a document inline (kind, metadata, spec), which
// read reads: an SLO's alert policies and a policy's conditions. It
// returns false, with the problem recorded, when there is nothing to read.
func inlineOrRef[R any](dec *decoder, item mapping, refKey, kind string, done map[*doc]R, read func(spec mapping) R) (R, bool) {
	var zero R
	if ref := item.str(refKey, false); ref != "" {
		item.known(refKey)
		d, ok := dec.byKind[kind][ref]
		if !ok {
			item.errorf(refKey, ErrInvalid, "no %s named %q", kind, ref)
			return zero, false
		}
		return done[d], true
	}
	item.known("kind", "metadata", "spec")
	if k := item.str("kind", false); k != "" && k != kind {
		item.errorf("kind", ErrInvalid, "%q, want %s", k, kind)
	}
	spec, ok := item.mapping("spec", true)
	if !ok {
		return zero, false
	}
	return read(spec), true
}

// policy reads an AlertPolicy spec into rules and their alertAfter.
func (dec *decoder) policy(pspec mapping) (rules []budget.Rule, after []time.Duration) {
	pspec.known("description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions", "notificationTargets")
	for _, c := range pspec.list("conditions", true) {
		r, _ := inlineOrRef(dec, c, "conditionRef", "AlertCondition", dec.conditions, func(spec mapping) conditionResult {
			var r conditionResult
			r.r, r.after, r.ok = dec.condition(spec)
			return r
		})
		if r.ok {
			rules = append(rules, r.r)
			after = append(after, r.after)
		}
	}
	return rules, after
}

// condition reads an AlertCondition spec into a rule.
func (dec *decoder) condition(c mapping) (budget.Rule, time.Duration, bool) {
	c.known("description", "severity", "condition")
	var r budget.Rule
	ok := true
	switch sev := c.str("severity", true); sev {
	case "page":
		r.Severity = budget.Page
	case "ticket":
		r.Severity = budget.Ticket
	case "":
		ok = false
	default:
		c.errorf("severity", ErrUnsupported, "%q: sloguard's severities are page and ticket", sev)
		ok = false
	}
	cond, has := c.mapping("condition", true)
	if !has {
		return r, 0, false
	}
	cond.known("kind", "op", "threshold", "lookbackWindow", "alertAfter")
	if k := cond.str("kind", false); k != "" && !strings.EqualFold(k, "burnrate") {
		cond.errorf("kind", ErrUnsupported, "%q: sloguard evaluates burnrate conditions", k)
		ok = false
	}
	switch op := cond.str("op", true); op {
	case "gte", "gt":
	case "":
		ok = false
	case "lte", "lt":
		cond.errorf("op", ErrUnsupported, "%s: a burn-rate alert fires when the burn rate is at least (gte) the threshold", op)
		ok = false
	default:
		cond.errorf("op", ErrInvalid, "%q is none of lte, lt, gte, gt", op)
		ok = false
	}
	switch t, has := cond.float("threshold"); {
	case !has:
		if !cond.has("threshold") {
			cond.missing("threshold")
		}
		ok = false
	case t <= 0:
		cond.errorf("threshold", ErrInvalid, "%v is not a positive burn rate", t)
		ok = false
	default:
		r.Burn = t
	}
	if d, has := cond.fixed("lookbackWindow", true); has {
		r.Long = d
		r.Short = d / 12
		if r.Short < time.Second {
			cond.errorf("lookbackWindow", ErrInvalid, "%v: its twelfth, the short window, is under a second", d)
			ok = false
		}
	} else {
		ok = false
	}
	var after time.Duration
	if cond.has("alertAfter") {
		if scalar(cond.node("alertAfter")) == "0m" || scalar(cond.node("alertAfter")) == "0" {
			after = 0
		} else if d, has := cond.fixed("alertAfter", false); has {
			after = d
		} else {
			ok = false
		}
	}
	return r, after, ok
}

// validName reports whether s is a valid objective or service name (see
// slo.Objective.Name).
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

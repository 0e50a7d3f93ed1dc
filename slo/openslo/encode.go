package openslo

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
)

// The shapes Encode writes, in OpenSLO's field order.
type (
	docOut struct {
		APIVersion string  `yaml:"apiVersion"`
		Kind       string  `yaml:"kind"`
		Metadata   metaOut `yaml:"metadata"`
		Spec       sloOut  `yaml:"spec"`
	}
	metaOut struct {
		Name string `yaml:"name"`
	}
	sloOut struct {
		Description     string         `yaml:"description,omitempty"`
		Service         string         `yaml:"service"`
		Indicator       indicatorOut   `yaml:"indicator"`
		TimeWindow      []windowOut    `yaml:"timeWindow"`
		BudgetingMethod string         `yaml:"budgetingMethod"`
		Objectives      []objectiveOut `yaml:"objectives"`
		AlertPolicies   []policyOut    `yaml:"alertPolicies,omitempty"`
	}
	indicatorOut struct {
		Metadata metaOut `yaml:"metadata"`
		Spec     sliOut  `yaml:"spec"`
	}
	sliOut struct {
		RatioMetric     *ratioOut  `yaml:"ratioMetric,omitempty"`
		ThresholdMetric *metricOut `yaml:"thresholdMetric,omitempty"`
	}
	ratioOut struct {
		Counter bool      `yaml:"counter"`
		Good    metricOut `yaml:"good"`
		Total   metricOut `yaml:"total"`
	}
	metricOut struct {
		MetricSource sourceOut `yaml:"metricSource"`
	}
	sourceOut struct {
		Type string        `yaml:"type"`
		Spec sourceSpecOut `yaml:"spec"`
	}
	sourceSpecOut struct {
		Routes  []string `yaml:"routes,omitempty"`
		Methods []string `yaml:"methods,omitempty"`
	}
	windowOut struct {
		Duration  string       `yaml:"duration"`
		IsRolling bool         `yaml:"isRolling"`
		Calendar  *calendarOut `yaml:"calendar,omitempty"`
	}
	calendarOut struct {
		StartTime string `yaml:"startTime"`
		TimeZone  string `yaml:"timeZone"`
	}
	objectiveOut struct {
		Op     string   `yaml:"op,omitempty"`
		Value  *float64 `yaml:"value,omitempty"`
		Target float64  `yaml:"target"`
	}
	policyOut struct {
		Kind     string  `yaml:"kind"`
		Metadata metaOut `yaml:"metadata"`
		Spec     struct {
			Conditions []conditionOut `yaml:"conditions"`
		} `yaml:"spec"`
	}
	conditionOut struct {
		Kind     string  `yaml:"kind"`
		Metadata metaOut `yaml:"metadata"`
		Spec     struct {
			Severity  string `yaml:"severity"`
			Condition struct {
				Kind           string  `yaml:"kind"`
				Op             string  `yaml:"op"`
				Threshold      float64 `yaml:"threshold"`
				LookbackWindow string  `yaml:"lookbackWindow"`
				AlertAfter     string  `yaml:"alertAfter"`
			} `yaml:"condition"`
		} `yaml:"spec"`
	}
)

// Encode writes each SLO as an OpenSLO v1 SLO document with its SLI and
// alert policy inline, in the form Decode reads back. It reports every SLO
// that OpenSLO can not express: an invalid objective, rules whose windows
// are not whole minutes, or whose short window is not a twelfth of the long
// one (OpenSLO has no field for it), and rules given as budget fractions
// are written as their burn rate over the objective's period.
func Encode(w io.Writer, slos ...SLO) error {
	var errs []error
	docs := make([]docOut, 0, len(slos))
	for i, s := range slos {
		d, err := encode(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("openslo: objective %d (%q): %w", i, s.Objective.Name, err))
			continue
		}
		docs = append(docs, d)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("openslo: %w", err)
		}
	}
	return enc.Close()
}

func encode(s SLO) (docOut, error) {
	o := s.Objective
	var errs []error
	if err := o.Validate(); err != nil {
		errs = append(errs, err)
	}
	if s.Service == "" {
		errs = append(errs, fmt.Errorf("%w: service is empty", ErrInvalid))
	}
	if len(s.Routes)+len(s.Methods) == 0 {
		errs = append(errs, fmt.Errorf("%w: no routes and no methods to bind the SLI to", ErrInvalid))
	}
	d := docOut{APIVersion: APIVersion, Kind: "SLO", Metadata: metaOut{Name: o.Name}}
	d.Spec.Description = o.Description
	d.Spec.Service = s.Service
	d.Spec.BudgetingMethod = "Occurrences"
	src := metricOut{MetricSource: sourceOut{Type: SourceType, Spec: sourceSpecOut{Routes: s.Routes, Methods: s.Methods}}}
	d.Spec.Indicator.Metadata.Name = o.Name
	obj := objectiveOut{Target: o.Target}
	if o.Latency > 0 {
		// A thresholdMetric with the threshold in seconds.
		d.Spec.Indicator.Spec.ThresholdMetric = &src
		v := o.Latency.Seconds()
		obj.Op, obj.Value = "lte", &v
	} else {
		d.Spec.Indicator.Spec.RatioMetric = &ratioOut{Counter: true, Good: src, Total: src}
	}
	d.Spec.Objectives = []objectiveOut{obj}

	switch spec := o.Spec(); {
	case !o.Calendar.IsZero():
		unit := map[budget.CalendarUnit]string{budget.Week: "1w", budget.Month: "1M"}[o.Calendar.Unit]
		loc := o.Calendar.Location
		if loc == nil {
			loc = time.UTC
		}
		// Any period start: the first of this calendar's periods in 2024.
		start, _ := o.Calendar.Bounds(time.Date(2024, 1, 8, 12, 0, 0, 0, loc))
		d.Spec.TimeWindow = []windowOut{{Duration: unit, Calendar: &calendarOut{StartTime: start.Format(time.DateTime), TimeZone: loc.String()}}}
	case spec.Period%time.Minute != 0:
		errs = append(errs, fmt.Errorf("%w: period %v is not a whole number of minutes", ErrUnsupported, spec.Period))
	default:
		d.Spec.TimeWindow = []windowOut{{Duration: shorthandOf(spec.Period), IsRolling: true}}
	}

	if o.Rules != nil {
		p := policyOut{Kind: "AlertPolicy", Metadata: metaOut{Name: o.Name + "-burn-rate"}}
		p.Spec.Conditions = []conditionOut{}
		period := o.Spec().Period
		for i, r := range o.Rules {
			if r.Long%time.Minute != 0 || r.ShortWindow() != r.Long/12 {
				errs = append(errs, fmt.Errorf("%w: rule %d: windows %v and %v: OpenSLO has whole-minute lookback windows and a short window of a twelfth",
					ErrUnsupported, i, r.Long, r.ShortWindow()))
				continue
			}
			var after time.Duration
			if i < len(s.AlertAfter) {
				after = s.AlertAfter[i]
			}
			if after%time.Minute != 0 {
				errs = append(errs, fmt.Errorf("%w: rule %d: alertAfter %v is not a whole number of minutes", ErrUnsupported, i, after))
				continue
			}
			var c conditionOut
			c.Kind = "AlertCondition"
			c.Metadata.Name = fmt.Sprintf("%s-%s", o.Name, r.Name())
			c.Spec.Severity = r.Severity.String()
			c.Spec.Condition.Kind = "burnrate"
			c.Spec.Condition.Op = "gte"
			c.Spec.Condition.Threshold = r.Threshold(period)
			if !o.Calendar.IsZero() && r.Burn == 0 {
				errs = append(errs, fmt.Errorf("%w: rule %d: a budget fraction over a calendar period has no fixed burn rate: give Burn", ErrUnsupported, i))
				continue
			}
			c.Spec.Condition.LookbackWindow = shorthandOf(r.Long)
			c.Spec.Condition.AlertAfter = shorthandOf(after)
			p.Spec.Conditions = append(p.Spec.Conditions, c)
		}
		d.Spec.AlertPolicies = []policyOut{p}
	}
	return d, errors.Join(errs...)
}

// shorthandOf writes a whole number of minutes as a duration shorthand.
func shorthandOf(d time.Duration) string {
	for _, u := range []struct {
		d time.Duration
		s string
	}{{7 * 24 * time.Hour, "w"}, {24 * time.Hour, "d"}, {time.Hour, "h"}} {
		if d >= u.d && d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.s
		}
	}
	return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
}

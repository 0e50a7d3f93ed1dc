package promrules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sloguard/sloguard/budget"
)

// The specs of Sloth and Pyrra, for teams that run those tools instead of
// loading Generate's rules. Both tools derive their own windows and alert
// rules from the period, so only objectives with the default rules and a
// rolling period translate; every other is reported.

type (
	slothSpec struct {
		Version string     `yaml:"version"`
		Service string     `yaml:"service"`
		SLOs    []slothSLO `yaml:"slos"`
	}
	slothSLO struct {
		Name        string            `yaml:"name"`
		Objective   float64           `yaml:"objective"`
		Description string            `yaml:"description,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		SLI         struct {
			Events struct {
				ErrorQuery string `yaml:"error_query"`
				TotalQuery string `yaml:"total_query"`
			} `yaml:"events"`
		} `yaml:"sli"`
		Alerting struct {
			Name      string `yaml:"name"`
			PageAlert struct {
				Labels map[string]string `yaml:"labels,omitempty"`
			} `yaml:"page_alert"`
			TicketAlert struct {
				Labels map[string]string `yaml:"labels,omitempty"`
			} `yaml:"ticket_alert"`
		} `yaml:"alerting"`
	}

	pyrraSLO struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name   string            `yaml:"name"`
			Labels map[string]string `yaml:"labels,omitempty"`
		} `yaml:"metadata"`
		Spec struct {
			Target      string `yaml:"target"`
			Window      string `yaml:"window"`
			Description string `yaml:"description,omitempty"`
			Indicator   struct {
				Ratio struct {
					Errors struct {
						Metric string `yaml:"metric"`
					} `yaml:"errors"`
					Total struct {
						Metric string `yaml:"metric"`
					} `yaml:"total"`
				} `yaml:"ratio"`
			} `yaml:"indicator"`
		} `yaml:"spec"`
	}
)

// translatable reports why Sloth or Pyrra can not carry s, or nil.
func translatable(s SLO) error {
	var errs []error
	if err := s.Objective.Validate(); err != nil {
		errs = append(errs, err)
	}
	if s.Service == "" {
		errs = append(errs, fmt.Errorf("%w: service is empty", ErrInvalid))
	}
	if s.Objective.Rules != nil {
		errs = append(errs, fmt.Errorf("%w: custom rules: the tool derives its own from the period (use Generate)", ErrInvalid))
	}
	if !s.Objective.Calendar.IsZero() {
		errs = append(errs, fmt.Errorf("%w: calendar period %v: the tool's periods roll", ErrInvalid, s.Objective.Calendar))
	}
	if s.Objective.MinEvents > 1 || s.Objective.MinBadEvents > 1 {
		errs = append(errs, fmt.Errorf("%w: MinEvents and MinBadEvents: the tool has no minimum of events", ErrInvalid))
	}
	return errors.Join(errs...)
}

// SlothSpec returns Sloth specs (version prometheus/v1), one YAML document
// per service, for the objectives. Sloth applies the Workbook's rules over
// its period (30 days unless run with --default-slo-period), so each
// objective must have the default rules and that period; the SLI is the
// same event-weighted ratio of sloguard_events_total as Generate's. Note
// that Sloth averages the 5-minute ratios over the period (sloth#332).
func SlothSpec(cfg Config, slos ...SLO) ([]byte, error) {
	cfg, errs := checkConfig(cfg, slos)
	var specs []*slothSpec
	byService := map[string]*slothSpec{}
	for i, s := range slos {
		err := translatable(s)
		if p := s.Objective.Spec().Period; err == nil && p != 30*24*time.Hour && p != 28*24*time.Hour {
			err = fmt.Errorf("%w: period %v: Sloth's periods are 30d and 28d", ErrInvalid, p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("objective %d (%q): %w", i, s.Objective.Name, err))
			continue
		}
		spec := byService[s.Service]
		if spec == nil {
			spec = &slothSpec{Version: "prometheus/v1", Service: s.Service}
			byService[s.Service] = spec
			specs = append(specs, spec)
		}
		g := newGen(cfg, s)
		var o slothSLO
		o.Name = s.Objective.Name
		o.Objective, _ = strconv.ParseFloat(strconv.FormatFloat(s.Objective.Target*100, 'g', 15, 64), 64)
		o.Description = s.Objective.Description
		o.SLI.Events.ErrorQuery = fmt.Sprintf("sum(rate(%s[{{.window}}]))", g.events(errorOutcomes))
		o.SLI.Events.TotalQuery = fmt.Sprintf("sum(rate(%s[{{.window}}]))", g.events(totalOutcomes))
		o.Alerting.Name = camel(s.Objective.Name)
		spec.SLOs = append(spec.SLOs, o)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	docs := make([]any, len(specs))
	for i, s := range specs {
		docs[i] = s
	}
	return marshalDocs(docs)
}

// PyrraSpec returns Pyrra ServiceLevelObjectives (pyrra.dev/v1alpha1), one
// YAML document per objective, with its ratio indicator over
// sloguard_events_total. Pyrra derives its alerts from the window, so each
// objective must have the default rules and a rolling period.
func PyrraSpec(cfg Config, slos ...SLO) ([]byte, error) {
	cfg, errs := checkConfig(cfg, slos)
	var docs []any
	for i, s := range slos {
		if err := translatable(s); err != nil {
			errs = append(errs, fmt.Errorf("objective %d (%q): %w", i, s.Objective.Name, err))
			continue
		}
		g := newGen(cfg, s)
		var o pyrraSLO
		o.APIVersion, o.Kind = "pyrra.dev/v1alpha1", "ServiceLevelObjective"
		o.Metadata.Name = strings.ToLower(strings.ReplaceAll(s.Objective.Name, "_", "-"))
		o.Metadata.Labels = map[string]string{"pyrra.dev/service": s.Service}
		o.Spec.Target = strconv.FormatFloat(s.Objective.Target*100, 'g', 15, 64)
		o.Spec.Window = budget.FormatWindow(s.Objective.Spec().Period)
		o.Spec.Description = s.Objective.Description
		o.Spec.Indicator.Ratio.Errors.Metric = g.events(errorOutcomes)
		o.Spec.Indicator.Ratio.Total.Metric = g.events(totalOutcomes)
		docs = append(docs, o)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return marshalDocs(docs)
}

// checkConfig applies cfg's defaults and reports its problems and an empty
// list of objectives.
func checkConfig(cfg Config, slos []SLO) (Config, []error) {
	var errs []error
	if cfg.ServiceLabel == "" {
		cfg.ServiceLabel = "job"
	}
	if !validLabelName(cfg.ServiceLabel) {
		errs = append(errs, fmt.Errorf("%w: service label %q is not a Prometheus label name", ErrInvalid, cfg.ServiceLabel))
	}
	if len(slos) == 0 {
		errs = append(errs, fmt.Errorf("%w: no objectives", ErrInvalid))
	}
	return cfg, errs
}

func marshalDocs(docs []any) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# Generated by sloguard (package promrules). Do not edit: regenerate from the objectives.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, fmt.Errorf("promrules: %w", err)
		}
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("promrules: %w", err)
	}
	return []byte(b.String()), nil
}

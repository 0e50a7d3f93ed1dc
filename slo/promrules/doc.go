// Package promrules writes Prometheus recording and alerting rules for
// sloguard's own exported series, from the same objectives that drive the
// in-process engine, so that Prometheus (or Thanos, Mimir) computes the
// fleet-wide budget and pages exactly as each replica does.
//
// # Series
//
// The rules read one counter, sloguard.events (package slo), as the
// OpenTelemetry Prometheus exporter names it:
//
//	sloguard_events_total{objective="checkout-availability", outcome="good|bad|shed|neutral", job=…, instance=…}
//
// Errors are outcome bad or shed, the total is good, bad and shed: the
// budget that the engine reports and gates on, where shed requests count as
// bad and neutral ones not at all. A latency objective needs nothing more:
// the engine records a request slower than the objective's threshold as
// bad in that objective's own series, so the rules measure what the engine
// measures.
//
// Replicas are summed. The label that says which service a series belongs
// to is Config.ServiceLabel, "job" by default: Prometheus sets job from the
// scrape configuration, and when metrics arrive through OTLP (Prometheus'
// OTLP receiver, the Collector's Prometheus exporters) job is the
// OpenTelemetry resource's service.name (with service.namespace/ in front
// when set). Set it to "service_name" when the exporter copies resource
// attributes onto every series instead.
//
// # Rules
//
// The names and labels are Sloth's, so Sloth's Grafana dashboards work
// unchanged. For each objective, with sloth_id = service-objective:
//
//	slo:sli_error:ratio_rate<w>               error ratio over each rule window w and 5m (label sloth_window)
//	slo:sli_error:ratio_rate<period>          error ratio over the period, event-weighted
//	slo:objective:ratio                       the target
//	slo:error_budget:ratio                    1 − target
//	slo:time_period:days                      the period in days
//	slo:current_burn_rate:ratio               burn over the long window of the fastest page rule (as Report.Burn)
//	slo:period_burn_rate:ratio                burn over the period
//	slo:period_error_budget_remaining:ratio   1 − period burn (as Report.Remaining)
//	sloth_slo_info                            1, with the objective as a label
//
// Each objective has one group (sloguard-slo-<sloth_id>): the SLI ratios,
// the meta rules, then the alerts. Rules of a group run in order at one
// timestamp, so every rule reads the ratios of the same evaluation, where
// Sloth's separate groups read them up to one interval late.
//
// Every ratio is sum(rate(errors[w])) / sum(rate(total[w])) over the raw
// counters: weighted by events, also over the period. Sloth averages the
// 5-minute ratios instead (sloth#332), which gives a quiet night the same
// weight as a busy day.
//
// Alerts are one per severity and objective (CheckoutAvailabilityPage,
// CheckoutAvailabilityTicket, labelled sloth_severity="page" or "ticket"):
// the OR of the objective's rules of that severity, each the AND of its long
// and short window at burn ≥ threshold, the very Rules the engine evaluates
// (slo.Objective.Rules, the Workbook's four by default, custom ones
// included). Rules whose SLO.AlertAfter differ get an alert each, with
// `for:` set and the duration appended to the name. When an objective sets
// MinEvents or MinBadEvents above 1, each window also needs that many
// events (increase over the window) before it may fire, as in the engine.
//
// # Calendar periods
//
// For an objective with a calendar period (slo.Objective.Calendar), the
// alerts are generated as for a rolling one, over the same rolling windows
// (the engine's windows roll across a period's start too), with thresholds
// that follow the period's length: a budget fraction over a month is
// fraction × days_in_month() × 24h / long window, a week has 7 days. PromQL
// knows months only in UTC, so within a day of a month's end in another
// zone, and in a week or month with a change of daylight saving time (an
// hour in 168 or 744), the threshold may differ from the engine's: by up to
// 1/28 near a month's end, by an hour's share otherwise.
// slo:time_period:days is days_in_month() or 7.
//
// Not generated for calendar periods: slo:sli_error:ratio_rate<period>,
// slo:period_burn_rate:ratio and slo:period_error_budget_remaining:ratio.
// The period-to-date budget runs from the period's start, and PromQL can not
// select a range that starts at a calendar boundary; a rolling window in its
// place would be a different number under the same name. The engine exports
// the period-to-date budget of each replica as
// sloguard_budget_remaining_ratio; Sloth's dashboards show the period panels
// of calendar objectives empty.
//
// # Sloth and Pyrra
//
// For teams that run those tools instead, SlothSpec writes Sloth specs
// (prometheus/v1, one per service) and PyrraSpec Pyrra
// ServiceLevelObjectives over the same series. Both tools derive their own
// windows and alerts from the period, so they take only objectives with the
// default rules, a rolling period (Sloth: 30 or 28 days) and no minimum of
// events; anything else is reported. Sloth averages 5-minute ratios over
// the period (sloth#332); Generate's rules do not.
//
// # What Prometheus sees differently
//
// Prometheus' rate extrapolates to the window's edges and sees a counter
// only at scrapes; the engine sums whole buckets (package budget). The two
// agree to within one rule evaluation, one scrape and one bucket of the
// short window: the integration suite replays the same outage through both
// and checks exactly that.
package promrules

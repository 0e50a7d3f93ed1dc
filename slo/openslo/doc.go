// Package openslo reads OpenSLO v1 documents into sloguard objectives and
// writes objectives back as OpenSLO, so that one YAML definition drives the
// in-process engine (package slo), the Prometheus rules (package promrules)
// and the release gate.
//
// # What is read
//
// Decode reads YAML streams of OpenSLO v1 documents (apiVersion openslo/v1)
// of the kinds SLO, SLI, AlertPolicy and AlertCondition; an SLO's
// indicatorRef, alertPolicyRef and conditionRef are resolved by name among
// all the documents given, whatever the file, and so is a metricSourceRef
// to a DataSource of type sloguard. Service and AlertNotificationTarget
// documents are accepted and not used. Each SLO
// objective (spec.objectives[i]) becomes one slo.Objective, named after the
// SLO (metadata.name), with "-2", "-3", … for the second and later
// objectives of one SLO.
//
//	OpenSLO                                   sloguard
//	spec.service                              SLO.Service (promrules' sloth_service)
//	spec.description                          Objective.Description
//	objectives[i].target / targetPercent      Objective.Target
//	timeWindow[0] {duration, isRolling: true} Objective.Period (m, h, d, w units)
//	timeWindow[0] {duration: 1w | 1M,         Objective.Calendar: the week from Monday 00:00 or the
//	  isRolling: false, calendar.timeZone}      month from the 1st 00:00 in that zone
//	budgetingMethod: Occurrences              the only method sloguard counts
//	alertPolicies[].conditions[] (burnrate)   Objective.Rules, SLO.AlertAfter
//
// Timeslices and RatioTimeslices budgeting, calendar periods other than one
// week or one month, raw ratio metrics and metric sources other than
// sloguard's are reported as not supported, naming the field: sloguard counts
// events, it does not query other systems.
//
// # Binding an SLI to sloguard's events
//
// sloguard records its own events, so an SLI names which requests it counts,
// with a metric source of type sloguard whose spec lists HTTP route patterns
// (as given to middleware.WithRoute) and gRPC full method names:
//
//	indicator:
//	  metadata: {name: checkout-availability}
//	  spec:
//	    ratioMetric:
//	      counter: true
//	      good:  {metricSource: {type: sloguard, spec: {routes: ["POST /checkout"]}}}
//	      total: {metricSource: {type: sloguard, spec: {routes: ["POST /checkout"]}}}
//
// A ratioMetric (good or bad, and total) is an availability SLI; with
// latency: 300ms in the good source's spec it is a latency SLI (good when not
// bad and within 300ms). A thresholdMetric is a latency SLI too, its one
// objective with op lte and value the threshold in seconds. Either way the
// sources of one SLI must bind the same routes and methods; SLO.Routes and
// SLO.Methods carry them to the middleware wiring.
//
// # Alert conditions
//
// A burnrate AlertCondition with op gte (or gt) becomes a budget.Rule: Burn
// is its threshold, Long its lookbackWindow, Short lookbackWindow/12 (the
// Workbook's ratio), Severity page or ticket (its severity, which must be
// one of the two). Its alertAfter becomes the Prometheus alert's `for:`
// (SLO.AlertAfter); the engine itself acts at once. An SLO without alert
// policies gets the default rules (budget.DefaultRules).
//
// # Errors
//
// Decode reports every problem at once. Each is an *Error wrapping
// ErrInvalid (or ErrUnsupported) that names the file, the document's index
// in it (from 1), its kind and name, the field path and the line:
//
//	slos.yaml:14: document 2 (SLO checkout-latency): spec.objectives[0].target: 1.5 is not in (0, 1)
//
// # Writing
//
// Encode writes objectives as OpenSLO v1 SLO documents with inline SLIs and
// alert policies, in the form Decode reads, so that Decode(Encode(x))
// returns x up to form: the default period comes back explicit, and rules
// given as budget fractions come back as their burn rate (OpenSLO has no
// budget fractions; over a calendar period, where the burn rate of a
// fraction changes with the month, Encode asks for Burn).
package openslo

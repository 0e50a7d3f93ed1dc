// Package budget is the error-budget mathematics of sloguard: a bounded
// ledger of SLI events in time buckets, burn rates, remaining budget and
// multiwindow, multi-burn-rate (MWMB) alert rules.
//
// It imports only the standard library (and sloguard's internal/cacheline,
// which does too), starts no goroutine and never reads
// the clock: every function that depends on time takes it as an argument, so
// its results are deterministic and its tests are step tables.
//
// # Formulas
//
// For an objective with target T (say 0.999) over a period P (say 30 days):
//
//	allowed bad events     = (1 − T) × total events in P
//	remaining budget       = 1 − bad / allowed            (below 0 when overspent)
//	burn rate over window w = (bad_w / total_w) / (1 − T)
//
// A burn rate of 1 spends exactly the whole budget in one period; 14.4
// spends 2% of a 30-day budget in one hour.
//
// # Alert rules
//
// A Rule fires when the burn rate over both its long and its short window
// reaches its threshold, derived from the share of the budget that may burn
// in the long window: threshold = fraction × P / long. DefaultRules are the
// four of The Site Reliability Workbook:
//
//	severity  long  short  budget  threshold at 30d  28d    7d
//	page      1h    5m     2%      14.4              13.44  3.36
//	page      6h    30m    5%      6                 5.6    1.4
//	ticket    1d    2h     10%     3                 2.8    0.7
//	ticket    3d    6h     10%     1                 0.93   0.23
//
// A window takes part only with at least Spec.MinEvents events and
// Spec.MinBadEvents bad events, so that one failed request at 3 a.m. does not
// page anyone. With no events at all the state is StateUnknown, never "100%
// good".
//
// # Calendar periods
//
// A Spec with a Calendar has a calendar-aligned period instead of a rolling
// one: every week (from Monday 00:00) or month (from the 1st) in a time
// zone. The budget counts the events since the period's start and starts
// afresh at the next one; Report.Start and Report.Length say which period it
// is. Thresholds follow the period's length, 28 to 31 days for a month and
// an hour less or more across a change of daylight saving time: the page
// rule of 2% in an hour is 13.44× in February and 14.88× in January. The
// alert windows stay rolling across a period's start. RecoveryTime of a
// calendar budget is at most the time to the next period.
//
// The ledger holds the longest period (Spec.Span): 31 days and an
// hour in 1h buckets for a month (745 buckets, 17.5 KiB), 7 days and an hour
// in 10m buckets for a week (1014 buckets, 23.8 KiB), plus the tiers of the
// windows as below: with the default rules, 28 KiB for a month (the 3d
// window shares the period's 1h tier) and 36 KiB for a week. The period's start is a bucket boundary whenever the
// zone's offset from UTC is a whole number of the period's buckets (every
// zone for a month but those with a half or quarter hour); otherwise the
// first bucket that starts after it begins the period.
//
// # Resolution and memory
//
// Ledger keeps one ring of buckets per resolution. A window w is summed from
// buckets of at most w/60, the period from buckets of at most P/720, on the
// ladder 1s, 5s, 10s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h, 3h, 6h, 12h, 1d
// (Ledger.Tiers lists a ledger's rings): a window's far edge is off by at most one of its buckets, about
// 1.7% of the window. For 30 days and the default rules:
//
//	windows      resolution  buckets
//	5m           5s          60
//	30m          30s         60
//	1h           1m          60
//	2h           2m          60
//	6h           5m          72
//	1d           15m         96
//	3d, 30d      1h          720
//
// 1128 buckets of 24 bytes: about 27 KiB per objective, fixed at
// construction whatever the traffic.
//
// # Concurrency
//
// Ledger.Add is one atomic add and safe for concurrent use; everything else
// in a Ledger belongs to one goroutine at a time (in sloguard, the engine's
// evaluation loop). The other types are plain values.
package budget

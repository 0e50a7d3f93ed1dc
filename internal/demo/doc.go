// Package demo is the plumbing shared by the runnable examples: time
// compression, a healthy history, a phased timeline, an in-process load
// generator and console output. The examples keep the sloguard wiring
// (objectives, rules, slo.New, middleware) and their story; demo keeps what
// would otherwise be written again in each.
//
// It is internal: its API serves the examples and may change with them.
//
// # Time compression
//
// Real budgets span 30 days and their alert windows hours. A demo runs for
// a minute, so its objectives' period (Config.Period, 30m to 6h) stands for
// 30 days, and Config.Shrink shrinks an alert rule's windows by the same
// factor (Config.Compression). The threshold of a rule, budget fraction ×
// period / long window, stays the same. Preload records one period of
// healthy traffic before the start, as a running service would have.
//
// # Timeline and load
//
// A Timeline has three phases: a healthy warmup, a fault and a healthy
// recovery. A Load sends requests at a fixed rate until the timeline ends,
// open loop: a dispatcher hands requests to a bounded pool of client
// goroutines and skips a request when every client is busy, so a slow
// service does not slow the load down.
//
// # Console
//
// A Console serializes the lines written by the main goroutine and by event
// handlers. Console.Follow calls back at the end of every second of the
// timeline and at each phase change; the formatting helpers (Label, Human,
// BurnRate, Burns, States, Relative) keep the columns of both examples
// alike.
package demo

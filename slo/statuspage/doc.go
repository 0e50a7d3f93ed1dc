// Package statuspage serves an Engine's state to people and pipelines: an
// HTML page (budget bars, burn-rate tables, gates, release freeze, breakers,
// shedding, the recent-events timeline, a chart of each objective's
// history and one of the demand and shed requests by criticality), the
// same data as JSON, and the release gate for CI/CD. The JSON documents are
// the types of package [statusjson], which a client decodes without linking
// the engine.
//
// # Mounting
//
// A Handler serves paths relative to where it is mounted, so mount it under
// a prefix with http.StripPrefix and a trailing slash; the page links to
// its JSON with relative links, which resolve only below "/status/":
//
//	page, err := statuspage.New(eng, statuspage.WithTitle("checkout"))
//	if err != nil { ... }
//	mux.Handle("/status/", http.StripPrefix("/status", page))
//
// # Routes
//
// Only GET and HEAD are served; any other method gets 405 Method Not
// Allowed with "Allow: GET, HEAD". HEAD answers as GET without a body.
//
//	/             the HTML page; JSON (the statusjson.Document) with
//	              ?format=json or when the Accept header ranks
//	              application/json above text/html (?format=html
//	              forces the page)
//	/status.json  statusjson.Document as JSON
//	/release      the release gate as JSON (statusjson.Release): 200 OK while
//	              releases are allowed, 409 Conflict while they are frozen
//	anything else 404 Not Found
//
// JSON is served as application/json; every response carries
// "Cache-Control: no-store". A pipeline may use either the status code of
// /release or its body:
//
//	{"allowed": false, "frozen": true,
//	 "reason": "checkout-availability has -100.0% of its budget left, at most 0.0%",
//	 "since": "2025-03-01T12:00:00Z", "recovery_s": null}
//
// recovery_s estimates the seconds until releases may go on if traffic goes
// on as over the past hour; it is null when releases are not frozen, are
// frozen only because an objective pages, or the budget does not recover
// at that rate.
//
// # The page
//
// The page is plain HTML with inline CSS and inline SVG charts: no
// JavaScript, nothing loaded from elsewhere (its Content-Security-Policy
// forbids both), and a refresh every 10 seconds. States read as words with
// symbols ("▲ PAGE", "✖ EXHAUSTED") and budget bars carry their percentage
// as text, so nothing depends on colour. Everything printed goes through
// html/template, which escapes it: objective descriptions and the title are
// text, never markup.
//
// # Views
//
// Each objective's figures say which view of the budget they come from
// (slo.View): "local" (this replica since it started), "restored" (with a
// snapshot restored at start) or "fleet" (every replica, from the fleet
// source), and how old that view is: the objectives table's View column,
// and "view", "view_time" and "view_age_s" in the JSON. On the fleet view,
// "local" in the JSON and a note on the page give this replica's own
// budget beside the fleet's.
//
// # Security
//
// The handler is read-only: no request changes anything. Its answers hold
// objective names, descriptions, gate names and numbers, and never any
// request data: no paths, headers, addresses or error texts of the
// service's traffic, and nothing from the request being answered. It does
// not authenticate; mount it where only operators and pipelines reach it.
//
// # Concurrency
//
// A Handler is safe for concurrent use. Each request reads the engine's
// latest published Status, its event timeline and its history; none of
// them waits for an evaluation to finish.
package statuspage

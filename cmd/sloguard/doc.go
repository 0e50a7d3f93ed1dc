// Sloguard is the command-line companion of a service that embeds sloguard:
// it reads the service's status handler (package
// github.com/sloguard/sloguard/slo/statuspage) over HTTP and shows its error
// budgets, gates a release pipeline on them, prints the event timeline and
// drafts the postmortem of an incident. It also checks OpenSLO files and
// writes the Prometheus rules of their objectives.
//
// Usage:
//
//	sloguard <command> [flags]
//
// The commands are:
//
//	status     show error budgets, burn rates, protections and recent events
//	gate       exit 0 if releases may go on, 1 if the error budget froze them
//	events     print the event timeline, for a postmortem
//	postmortem write a Markdown postmortem draft of an incident
//	validate   check OpenSLO v1 files: exit 0 valid, 1 invalid, 2 unreadable
//	rules      write Prometheus rules for the objectives of OpenSLO files
//	version    print the version of sloguard
//	help       show help for sloguard or one of its commands
//
// Every network command takes --url, the URL where the service mounts its
// status handler, for example https://svc.internal/sloguard when the service
// does
//
//	h, err := statuspage.New(eng)
//	...
//	mux.Handle("/sloguard/", http.StripPrefix("/sloguard", h))
//
// and --timeout, the limit for the whole request (10s by default). sloguard
// only sends GET requests, with the User-Agent "sloguard/<version>", and
// prints nothing that the status handler does not serve.
//
// # Credentials
//
// When the status handler sits behind authentication, sloguard sends
// credentials in one of two ways, never both:
//
//   - a user name and password in the URL, sent as HTTP basic auth:
//     https://ci:PASSWORD@svc.internal/sloguard, or a token as the user name,
//     https://TOKEN@svc.internal/sloguard;
//   - the environment variable SLOGUARD_TOKEN, sent as
//     "Authorization: Bearer <token>"; it must be printable ASCII without
//     spaces. Prefer it in CI: an environment variable set from the CI's
//     secret store stays out of the command line, the shell history and the
//     process list.
//
// Neither leaves the host and port of --url: a redirect elsewhere is
// followed without credentials (the basic auth of the URL is sent on no
// redirect at all). Use https: both travel in clear over http. sloguard never
// prints them: messages and output show the URL as scheme, host and path
// only, without the user name, password, query string and fragment (a
// query may carry a signature or an API key too). A URL that can not be
// parsed is not shown at all, nor is a command-line argument or flag value
// holding an @ or a ?. Where an error quotes the service's answer (the
// start of the body of an unexpected status), any part of the credentials
// or the query that the service repeats is replaced with [redacted].
//
// # Exit status
//
// 0 on success; 1 when gate finds releases frozen, or validate or rules an
// invalid OpenSLO file; 2 when sloguard could not do what it was asked: bad
// arguments, the service unreachable or too slow, an HTTP status other than
// the expected ones, a response that is not the status handler's JSON, a
// status document without the history a postmortem needs, or a file that
// can not be read. The cause of a 2 is printed on standard error.
//
// # Status
//
//	sloguard status --url URL [--json] [--events N] [--color]
//
// Status fetches URL/status.json (a URL that already ends in /status.json is
// taken as it is) and prints a plain-text view: the release verdict, a table
// of the objectives with their target, period, state, remaining budget as a
// bar and a percentage, and the time until the budget is exhausted at the
// current burn rate, and the view the figures come from (local: this
// replica since it started; restored: with a snapshot restored at start;
// fleet: every replica, read from the fleet source, with this replica's own
// budget in brackets), with its age; the burn rate of each objective over each alert window
// with the rules that fire; shedding, the scale signal, circuit breakers
// and gates when the service has them; and the last --events events (10 by default). For
// example:
//
//	$ sloguard status --url http://127.0.0.1:8080/sloguard
//	sloguard status of http://127.0.0.1:8080/sloguard/status.json
//	time:      2025-03-01T14:00:00Z
//	releases:  FROZEN since 2025-03-01T12:01:00Z: checkout-availability has -890.1% of its budget left, at most 5.0%; expected to recover in 20h
//
//	OBJECTIVE              KIND           TARGET  PERIOD  STATE      BUDGET LEFT                     EXHAUSTED IN  VIEW
//	checkout-availability  availability   99.9%   30d     exhausted  [....................] -890.1%  spent         local
//	search-latency         latency 300ms  99%     30d     ok         [####################]  100.0%  -             local
//
//	BURN RATE              5m  30m  1h  2h  6h    1d    3d    FIRING
//	checkout-availability  0   0    0   0   9.90  9.90  9.90  ticket-3d
//	search-latency         0   0    0   0   0     0     0     -
//
//	EVENTS
//	2025-03-01T12:00:00Z  checkout-availability: unknown → ok (remaining 100.0%, burn 5m=0 30m=0 1h=0 2h=0 6h=0 1d=0 3d=0)
//	2025-03-01T12:01:00Z  checkout-availability: ok → exhausted (remaining -1860.8%, burn 5m=19.6 30m=19.6 1h=19.6 2h=19.6 6h=19.6 1d=19.6 3d=19.6)
//	2025-03-01T12:01:00Z  releases frozen (checkout-availability has -1860.8% of its budget left, at most 0.0%)
//
// --json prints the status document itself, indented, for jq and scripts;
// its fields are those of statusjson.Document. --color colours the states.
//
// # Gate
//
//	sloguard gate --url URL [--objective NAME]
//
// Gate reads URL/release, the verdict of the service's error budget policy
// (slo.ReleasePolicy), and exits 0 when releases are allowed and 1 when they
// are frozen, printing why and when the budget is expected to be back:
//
//	$ sloguard gate --url https://svc.internal/sloguard
//	releases frozen: checkout-availability has -12.0% of its budget left, at most 0.0%; expected to recover in 19d4h
//	frozen since 2025-03-01T11:42:00Z
//	$ echo $?
//	1
//
// With --objective NAME it decides on that one objective of the status
// document instead: 1 when its budget is spent, 0 otherwise, and 0 with a
// note while it has too little traffic to be judged. An unknown objective is
// exit status 2.
//
// Gate never reads "could not ask" as "allowed": a service that can not be
// reached within --timeout, or answers with anything but 200 or 409 and the
// release JSON, is exit status 2. A pipeline decides what that means: the
// steps below fail on both 1 and 2.
//
// In GitHub Actions, a step before the deploy step:
//
//	jobs:
//	  deploy:
//	    runs-on: ubuntu-latest
//	    steps:
//	      - uses: actions/setup-go@v5
//	        with:
//	          go-version: stable
//	      - name: Error budget gate
//	        env:
//	          SLOGUARD_TOKEN: ${{ secrets.SLOGUARD_TOKEN }} # if the handler needs one
//	        run: |
//	          go install github.com/sloguard/sloguard/cmd/sloguard@latest
//	          sloguard gate --url https://svc.internal/sloguard || exit 1
//	      - name: Deploy
//	        run: ./deploy.sh
//
// The same in GitLab CI, as a job of a stage before the deploy stage:
//
//	release-gate:
//	  stage: gate
//	  image: golang:1.26
//	  script:
//	    - go install github.com/sloguard/sloguard/cmd/sloguard@latest
//	    - sloguard gate --url https://svc.internal/sloguard --timeout 20s || exit 1
//
// To ship anyway while the service is unreachable (exit status 2), but
// never while it is frozen, in a shell that may run with set -e:
//
//	sloguard gate --url https://svc.internal/sloguard || [ $? -ne 1 ]
//
// # Events
//
//	sloguard events --url URL [--since DURATION] [--markdown]
//
// Events prints the timeline the service keeps in memory, oldest first, one
// line per event with its time in RFC 3339 (UTC):
//
//	$ sloguard events --url https://svc.internal/sloguard --since 1d
//	2025-03-01T12:00:00Z  checkout-availability: unknown → ok (remaining 100.0%, burn 5m=0 30m=0 1h=0 2h=0 6h=0 1d=0 3d=0)
//	2025-03-01T12:01:00Z  checkout-availability: ok → exhausted (remaining -1860.8%, burn 5m=19.6 30m=19.6 1h=19.6 2h=19.6 6h=19.6 1d=19.6 3d=19.6)
//	2025-03-01T12:01:00Z  releases frozen (checkout-availability has -1860.8% of its budget left, at most 0.0%)
//
//	$ sloguard events --url https://svc.internal/sloguard --since 1d --markdown
//	| Time (UTC) | Event |
//	| --- | --- |
//	| 2025-03-01T12:00:00Z | checkout-availability: unknown → ok (remaining 100.0%, burn 5m=0 30m=0 1h=0 2h=0 6h=0 1d=0 3d=0) |
//	...
//
// --since keeps the events of the last stretch of time before the status
// document's time (the service's clock, not the local one); it takes Go
// durations and days, as in 90m, 36h, 7d. --markdown prints a table ready to
// paste into a postmortem document. With no events to print, events prints
// a note on standard error and nothing on standard output.
//
// # Postmortem
//
//	sloguard postmortem --url URL [--since T]
//
// Postmortem writes a Markdown draft of the postmortem of an incident to
// standard output, from the history the service keeps (see package slo,
// "History and timeline": by default one sample every two minutes for a day, kept
// across restarts by snapshots) and its timeline. The draft has:
//
//   - the incident's window, from the start of the first history interval
//     that burned error budget faster than it accrues (bad and shed events
//     over the interval's events above 1 − target, for any objective) or
//     shed load, to the end of the last one: recovery; or "still burning"
//     when the latest sample still burns. Burning intervals less than 10
//     minutes apart belong to one incident, and a stretch of them is an
//     incident only when sloguard alerted or acted in it (an objective in
//     state ticket, page or exhausted, load shed, or a change in its
//     timeline), so that a stray bad request in a quiet minute is not one;
//   - the budget each objective spent in the window: its bad and shed
//     events as a share of its period's budget (1 − target of the period's
//     events so far), and as minutes of full outage (share × period × (1 −
//     target), 43.2 minutes for the whole budget of a 99.9% objective over
//     30 days), with its lowest remaining budget and worst state;
//   - the demand that reached admission in the window by criticality, and
//     how much of it was shed;
//   - the timeline of what sloguard did, from the window's start to an
//     hour after recovery: objective states, shed levels, breakers, gates,
//     the release freeze, and the scale signal (when it first asked for
//     more capacity, its highest, when it was back to 1);
//   - headings, in italics, for what people write: summary, impact on
//     users, what they did, root cause and action items.
//
// Without --since it writes the latest incident; with --since the first one
// that began at or after T, given in RFC 3339 (2025-03-01T12:00:00Z) or as a
// duration back from the status document's time (2h, 90m, 1d12h), and says
// how many later ones there are. With no incident in range it prints a note
// on standard error and exits 0. A status document with no history (the
// service's sloguard predates the command, or has run for less than a
// history interval) or no traffic in range is exit status 2, as are the
// failures every network command shares.
//
// # Validate and rules
//
//	sloguard validate FILE...
//	sloguard rules [--format prometheus|sloth|pyrra] [--service-label LABEL] [--interval DURATION] [--out FILE] FILE...
//
// Both read OpenSLO v1 files (package slo/openslo: the SLI binding, what is
// supported). Validate prints one line per objective and exits 0, or every
// problem, each with file, line, document, field path and cause, and exits
// 1; a file it can not read is exit status 2:
//
//	$ sloguard validate slos.yaml
//	slos.yaml:14: document 2 (SLO checkout-latency): spec.objectives[0].target: openslo: invalid document: 1.5 is not in (0, 1)
//	sloguard validate: 1 problem(s)
//
// Rules writes the Prometheus rule file of the same objectives (package
// slo/promrules) to standard output or, atomically, to --out; --format
// sloth or pyrra writes Sloth specs or Pyrra ServiceLevelObjectives
// instead, for objectives those tools can express:
//
//	sloguard rules --out /etc/prometheus/rules/checkout.yml slos.yaml
//	promtool check rules /etc/prometheus/rules/checkout.yml
//
// # Version
//
// The version is the module version of the build, or the one set with
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/sloguard
package main

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	_ "time/tzdata" // calendar time zones without the system's zoneinfo

	"github.com/sloguard/sloguard/slo/openslo"
	"github.com/sloguard/sloguard/slo/promrules"
)

// exitInvalid is validate's answer for a file with problems.
const exitInvalid = 1

var validateCommand = &command{
	name:     "validate",
	synopsis: "FILE...",
	summary:  "check OpenSLO v1 files: exit 0 valid, 1 invalid, 2 unreadable",
	detail: `Validate reads OpenSLO v1 files (references resolve across them) and checks
that sloguard can run every SLO in them: the OpenSLO fields, sloguard's
binding of SLIs to its events (metric source type sloguard), and the
objectives the engine would build. It prints one line per objective, or
every problem, each with its file, line, document, field path and cause:

	slos.yaml:14: document 2 (SLO checkout-latency): spec.objectives[0].target: openslo: invalid document: 1.5 is not in (0, 1)

The exit status is 0 when every file is valid, 1 when some is not, and 2
when a file can not be read. "-" reads standard input.`,
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		return func(args []string, stdout, stderr io.Writer) int {
			if len(args) == 0 {
				return usageError(stderr, c, "no files")
			}
			files, err := readFiles(args)
			if err != nil {
				fmt.Fprintf(stderr, "sloguard validate: %v\n", err)
				return exitError
			}
			slos, err := openslo.Decode(files...)
			if err != nil {
				n := printProblems(stderr, err)
				fmt.Fprintf(stderr, "sloguard validate: %d problem(s)\n", n)
				return exitInvalid
			}
			for _, s := range slos {
				o := s.Objective
				period := o.Calendar.String()
				if o.Calendar.IsZero() {
					period = "rolling " + formatDuration(o.Spec().Period)
				}
				rules := "default rules"
				if o.Rules != nil {
					rules = fmt.Sprintf("%d rules", len(o.Rules))
				}
				fmt.Fprintf(stdout, "%s:%d: %s/%s: %s %s, %s, %s, routes %q methods %q\n",
					s.Source.File, s.Source.Line, s.Service, o.Name, o.Kind(), formatTarget(o.Target), period, rules, s.Routes, s.Methods)
			}
			fmt.Fprintf(stdout, "%d objective(s), valid\n", len(slos))
			return exitOK
		}
	},
}

var rulesCommand = &command{
	name:     "rules",
	synopsis: "[--format prometheus|sloth|pyrra] [--service-label LABEL] [--interval DURATION] [--out FILE] FILE...",
	summary:  "write Prometheus rules for the objectives of OpenSLO files",
	detail: `Rules reads OpenSLO v1 files, as validate does, and writes a Prometheus rule
file for sloguard's exported series (sloguard_events_total by objective and
outcome): SLI recording rules per window, Sloth's meta rules and multiwindow,
multi-burn-rate page and ticket alerts, with Sloth's names and labels so that
Sloth's dashboards work unchanged. Check the result with
'promtool check rules'. See package promrules for what the rules compute.

--format sloth writes Sloth specs (one per service) and --format pyrra Pyrra
ServiceLevelObjectives (one per objective) over the same series instead, for
teams that run those tools; they derive their own alert rules from the
period, so objectives with custom rules or calendar periods are refused.

The exit status is 0 when the rules were written, 1 when the files are
invalid (every problem is printed), and 2 when a file can not be read or
the output can not be written.`,
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		format := fs.String("format", "prometheus", "write `prometheus` rules, sloth specs or pyrra objectives")
		label := fs.String("service-label", "job", "the `LABEL` whose value is the SLO's spec.service on sloguard's series")
		interval := fs.Duration("interval", 0, "evaluation `DURATION` of the rule groups (default: Prometheus' global evaluation_interval)")
		out := fs.String("out", "-", "write the rules to `FILE` (- for standard output)")
		return func(args []string, stdout, stderr io.Writer) int {
			if len(args) == 0 {
				return usageError(stderr, c, "no files")
			}
			if *format != "prometheus" && *format != "sloth" && *format != "pyrra" {
				return usageError(stderr, c, "--format %q is none of prometheus, sloth, pyrra", *format)
			}
			files, err := readFiles(args)
			if err != nil {
				fmt.Fprintf(stderr, "sloguard rules: %v\n", err)
				return exitError
			}
			slos, err := openslo.Decode(files...)
			if err != nil {
				n := printProblems(stderr, err)
				fmt.Fprintf(stderr, "sloguard rules: %d problem(s)\n", n)
				return exitInvalid
			}
			in := make([]promrules.SLO, len(slos))
			for i, s := range slos {
				in[i] = promrules.SLO{Objective: s.Objective, Service: s.Service, AlertAfter: s.AlertAfter}
			}
			cfg := promrules.Config{ServiceLabel: *label, Interval: *interval}
			var b []byte
			switch *format {
			case "sloth":
				b, err = promrules.SlothSpec(cfg, in...)
			case "pyrra":
				b, err = promrules.PyrraSpec(cfg, in...)
			default:
				var f *promrules.File
				if f, err = promrules.Generate(cfg, in...); err == nil {
					if b, err = f.Marshal(); err != nil {
						fmt.Fprintf(stderr, "sloguard rules: %v\n", err)
						return exitError
					}
				}
			}
			if err != nil {
				n := printProblems(stderr, err)
				fmt.Fprintf(stderr, "sloguard rules: %d problem(s)\n", n)
				return exitInvalid
			}
			if *out == "-" {
				_, err = stdout.Write(b)
			} else {
				err = writeFileAtomic(*out, b)
			}
			if err != nil {
				fmt.Fprintf(stderr, "sloguard rules: %v\n", err)
				return exitError
			}
			return exitOK
		}
	},
}

// readFiles reads the named files; "-" is standard input.
func readFiles(names []string) ([]openslo.File, error) {
	files := make([]openslo.File, 0, len(names))
	for _, n := range names {
		var (
			b   []byte
			err error
		)
		if n == "-" {
			b, err = io.ReadAll(io.LimitReader(os.Stdin, 64<<20))
		} else {
			b, err = os.ReadFile(n)
		}
		if err != nil {
			return nil, err
		}
		files = append(files, openslo.File{Name: n, Data: b})
	}
	return files, nil
}

// printProblems prints each joined error on its own line and returns their
// number.
func printProblems(w io.Writer, err error) int {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	n := 0
	for _, e := range errs {
		for _, line := range strings.Split(e.Error(), "\n") {
			fmt.Fprintln(w, line)
			n++
		}
	}
	return n
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, so that Prometheus never reads half a rule file.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sloguard-rules-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	err = errors.Join(err, tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

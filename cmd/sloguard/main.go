package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"
)

// Exit statuses. They follow grep and diff: 1 is an answer (releases are
// frozen), 2 means sloguard could not do what it was asked.
const (
	exitOK     = 0
	exitFrozen = 1
	exitError  = 2
)

// defaultTimeout bounds every HTTP request unless --timeout says otherwise.
const defaultTimeout = 10 * time.Second

// version is the command's version, set at link time with
// -ldflags "-X main.version=v1.2.3"; when empty, the module version from the
// build information is used.
var version string

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string // the arguments, e.g. "--url URL [--json]"
	summary  string // one line for the command list
	detail   string // paragraphs for "sloguard help NAME"
	// setup defines the command's flags on fs and returns the function that
	// runs it with the arguments left after the flags.
	setup func(c *command, fs *flag.FlagSet) runFunc
}

// runFunc runs a command with the arguments left after its flags and
// returns the exit status.
type runFunc func(args []string, stdout, stderr io.Writer) int

func commands() []*command {
	return []*command{statusCommand, gateCommand, eventsCommand, postmortemCommand, validateCommand, rulesCommand, versionCommand, helpCommand}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run runs the command line args (without the program name) and returns the
// exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitError
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		writeUsage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "sloguard: unknown command %s\n\n", quoteArg(name))
		writeUsage(stderr)
		return exitError
	}
	fs := flag.NewFlagSet("sloguard "+c.name, flag.ContinueOnError)
	// The flag package would print its errors, quoting bad values, which
	// may be a URL with credentials: they are printed below instead.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // printed below, to stdout for -h
	exec := c.setup(c, fs)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeCommandUsage(stdout, c, fs)
			return exitOK
		}
		return usageError(stderr, c, "%s", hideArgs(err.Error(), args[1:]))
	}
	return exec(fs.Args(), stdout, stderr)
}

// usageError reports a bad command line of c and returns exitError.
func usageError(stderr io.Writer, c *command, format string, a ...any) int {
	fmt.Fprintf(stderr, "sloguard %s: %s\n", c.name, fmt.Sprintf(format, a...))
	fmt.Fprintf(stderr, "usage: sloguard %s %s\nRun 'sloguard help %s' for details.\n", c.name, c.synopsis, c.name)
	return exitError
}

func writeUsage(w io.Writer) {
	fmt.Fprint(w, `sloguard reads the status endpoint of a service that embeds sloguard: its
error budgets, burn rates, recent events and the release gate. It also
checks OpenSLO files and writes the Prometheus rules of their objectives.

Usage:

	sloguard <command> [flags]

Commands:

`)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "\t%s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Exit status: 0 on success, 1 when 'sloguard gate' finds releases frozen
or 'sloguard validate' or 'rules' an invalid file, 2 when sloguard could not
do what it was asked (bad arguments, service unreachable or answering with
an error, invalid response, unreadable file).

Credentials: a user name and password in --url are sent as basic auth; the
environment variable SLOGUARD_TOKEN, if set, as a bearer token. sloguard
never prints them, nor the query of --url.

Run 'sloguard help <command>' for a command's flags.
`)
}

func writeCommandUsage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: sloguard %s %s\n\n%s\n", c.name, c.synopsis, strings.TrimSpace(c.detail))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// noArgs reports positional arguments, which no command takes.
func noArgs(stderr io.Writer, c *command, args []string) (int, bool) {
	if len(args) > 0 {
		return usageError(stderr, c, "unexpected argument %s", quoteArg(args[0])), false
	}
	return exitOK, true
}

var versionCommand = &command{
	name:    "version",
	summary: "print the version of sloguard",
	detail:  "Version prints the version of sloguard and of the Go toolchain that built it.",
	setup: func(c *command, fs *flag.FlagSet) runFunc {
		return func(args []string, stdout, stderr io.Writer) int {
			if code, ok := noArgs(stderr, c, args); !ok {
				return code
			}
			fmt.Fprintf(stdout, "sloguard %s %s %s/%s\n", commandVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return exitOK
		}
	},
}

// The help command lists the commands, so it is set up in init to keep the
// package's variables free of an initialisation cycle.
func init() {
	helpCommand.setup = func(c *command, fs *flag.FlagSet) runFunc {
		return func(args []string, stdout, stderr io.Writer) int {
			switch len(args) {
			case 0:
				writeUsage(stdout)
				return exitOK
			case 1:
				topic := lookup(args[0])
				if topic == nil {
					return usageError(stderr, c, "unknown command %s", quoteArg(args[0]))
				}
				sub := flag.NewFlagSet("sloguard "+topic.name, flag.ContinueOnError)
				topic.setup(topic, sub)
				writeCommandUsage(stdout, topic, sub)
				return exitOK
			}
			return usageError(stderr, c, "unexpected argument %s", quoteArg(args[1]))
		}
	}
}

var helpCommand = &command{
	name:     "help",
	synopsis: "[command]",
	summary:  "show help for sloguard or one of its commands",
	detail:   "Help shows the list of commands, or the flags of one command.",
}

// commandVersion returns the version of this build: the link-time version,
// else the main module's version, else "devel".
func commandVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

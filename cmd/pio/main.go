// Command pio is the command-line client of pioreactord (docs/pio.md). Run as `pio` it acts
// on one unit; run as `pios` (a link to the same binary) it fans work out to the cluster
// from the leader. It talks to the daemons over HTTP (/unit_api, /api) and to the broker
// over MQTT, never to files or databases of a daemon.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code of docs/pio.md, "Exit codes".
func run(ctx context.Context, argv []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	prog := "pio"
	if len(argv) > 0 && strings.TrimSuffix(filepath.Base(argv[0]), ".exe") == "pios" {
		prog = "pios"
	}
	var args []string
	if len(argv) > 1 {
		args = argv[1:]
	}
	app := &app{prog: prog, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := app.main(ctx, args)
	return report(err, stderr)
}

// report prints err as the original's argument parser and exceptions do, and returns the
// exit code.
func report(err error, stderr io.Writer) int {
	var u *usageError
	var a *abortError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &u):
		if u.usage != "" {
			fmt.Fprintln(stderr, u.usage)
		}
		if u.msg != "" {
			fmt.Fprintln(stderr)
			fmt.Fprintln(stderr, "Error: "+u.msg)
		}
		return u.code
	case errors.As(err, &a):
		fmt.Fprintln(stderr, "Aborted!")
		return 1
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "Aborted!")
		return 1
	}
	fmt.Fprintln(stderr, "Error: "+err.Error())
	return 1
}

// usageError is a command-line mistake: exit 2 with the usage line (or help text, exit 0
// when the help was asked for).
type usageError struct {
	usage string
	msg   string
	code  int
}

func (e *usageError) Error() string { return e.msg }

func usageErr(usage, format string, a ...any) error {
	return &usageError{usage: usage, msg: fmt.Sprintf(format, a...), code: 2}
}

// helpShown ends a command that printed its help: exit 0 (or 2 for a group without a
// default action, docs/pio.md, "Exit codes").
func helpShown(code int) error { return &usageError{code: code} }

// abortError is "Aborted!": a declined confirmation, or a fan-out with a failure.
type abortError struct{}

func (*abortError) Error() string { return "aborted" }

var errAborted = &abortError{}

// failure is a command failure worded for the user as docs/pio.md has it (capitalised,
// with its full stop), printed as `Error: <message>`.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func failf(format string, a ...any) error { return &failure{fmt.Sprintf(format, a...)} }

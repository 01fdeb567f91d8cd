package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one sub-command's flags, help and usage line.
type command struct {
	a    *app
	name string // "jobs set"
	help string
	fs   *flag.FlagSet
}

func (a *app) command(name, help string) *command {
	fs := flag.NewFlagSet(a.prog+" "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &command{a: a, name: name, help: help, fs: fs}
}

// parse reads flags wherever they stand among the positional arguments (as click does) and
// returns the positional ones. -h/--help prints the help: the returned error ends the
// command with exit 0.
func (c *command) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(c.a.stdout, c.help)
				return nil, helpShown(0)
			}
			return nil, c.usage("%s", clickWording(err))
		}
		args = c.fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usage is a usage error of this command: exit 2.
func (c *command) usage(format string, a ...any) error {
	return usageErr(c.a.usageLine(c.name), format, a...)
}

// clickWording words the flag package's errors as click does.
func clickWording(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Sprintf("No such option: %s", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Sprintf("Option '%s' requires an argument.", name)
	}
	return msg
}

// multi is a repeatable string flag (--units a --units b).
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// passThrough splits a job's free-form arguments the way `pios run` does (docs/pio.md, "Job options"):
// `--name value` is an option, `--flag` followed by another option (or nothing) a flag,
// anything else positional. Option names take underscores, the unit API's spelling.
func passThrough(tokens []string) (args []string, options map[string]any) {
	options = map[string]any{}
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		if !strings.HasPrefix(t, "--") || t == "--" {
			args = append(args, t)
			continue
		}
		key, val, hasValue := strings.Cut(strings.TrimLeft(t, "-"), "=")
		name := strings.ReplaceAll(key, "-", "_")
		if hasValue {
			options[name] = val
			continue
		}
		if i+1 < len(tokens) && !strings.HasPrefix(tokens[i+1], "--") {
			options[name] = tokens[i+1]
			i++
			continue
		}
		// A bare flag: true rather than the original's null, which pioreactord's jobs read
		// as "absent" (docs/cli.md).
		options[name] = true
	}
	if args == nil {
		args = []string{}
	}
	return args, options
}

// configOverrides takes the leading `--config-override SECTION KEY VALUE` groups off args.
func configOverrides(args []string) (overrides [][3]string, rest []string, err error) {
	overrides = [][3]string{}
	for len(args) > 0 && (args[0] == "--config-override" || args[0] == "-config-override") {
		if len(args) < 4 {
			return nil, nil, failf("Option '--config-override' requires 3 arguments.")
		}
		overrides = append(overrides, [3]string{args[1], args[2], args[3]})
		args = args[4:]
	}
	return overrides, args, nil
}

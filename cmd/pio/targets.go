package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// selection is the target options shared by the pios commands (docs/pio.md, "Target selection").
type selection struct {
	units, exps multi
	yes, json   bool
}

func (s *selection) register(c *command) {
	c.fs.Var(&s.units, "units", "")
	c.fs.Var(&s.exps, "experiments", "")
	c.fs.BoolVar(&s.yes, "y", false, "")
	c.fs.BoolVar(&s.yes, "yes", false, "")
	c.fs.BoolVar(&s.json, "json", false, "")
}

// resolver kinds of docs/pio.md, "Target selection".
type targetKind int

const (
	activeWorkers targetKind = iota // run, kill, jobs
	allWorkers                      // reboot, shutdown: no leader unless named
	wholeCluster                    // sync-configs: inventory plus the leader
)

// leaderName asks the leader's daemon its name.
func (a *app) leaderName(ctx context.Context) (string, error) {
	v, err := a.leaderCall(ctx, http.MethodGet, "/unit_api/health", nil)
	if err != nil {
		return "", err
	}
	var h struct {
		Unit string `json:"pioreactor_unit"`
	}
	if err := json.Unmarshal(v, &h); err != nil || h.Unit == "" {
		return "", fmt.Errorf("the leader did not say its name")
	}
	return h.Unit, nil
}

// targets resolves the selectors into sorted, distinct unit names.
func (a *app) targets(ctx context.Context, c *command, s *selection, kind targetKind) ([]string, error) {
	if len(s.units) > 0 && len(s.exps) > 0 {
		return nil, c.usage("Use either --units or --experiments, not both.")
	}
	rows, err := a.inventory(ctx)
	if err != nil {
		var e *apiError
		if statusOf(err) == http.StatusNotFound && asAPIError(err, &e) && strings.Contains(e.env.Error, "isn't the leader") {
			return nil, failf("workers cannot run `pios` commands. Try `pio` instead.")
		}
		fmt.Fprintln(a.stderr, "Unable to get workers from the inventory. Is the webserver down?")
	}
	leader, _ := a.leaderName(ctx)
	inInventory := func(u string) bool {
		return slices.ContainsFunc(rows, func(r inventoryRow) bool { return r.Unit == u })
	}
	var out []string
	switch {
	case len(s.units) > 0:
		var unknown []string
		for _, u := range s.units {
			if u == contract.Broadcast {
				continue
			}
			if !inInventory(u) && !(kind != activeWorkers && u == leader) {
				unknown = append(unknown, u)
			}
			out = append(out, u)
		}
		if len(unknown) > 0 {
			return nil, c.usage("Unknown unit(s): %s. Check the inventory and retry.", strings.Join(unknown, ", "))
		}
		if len(out) == 0 { // only $broadcast: everything
			return a.targets(ctx, c, &selection{}, kind)
		}
	case len(s.exps) > 0:
		for _, e := range s.exps {
			v, err := a.leaderCall(ctx, http.MethodGet, "/api/experiments/"+url.PathEscape(e)+"/workers", nil)
			if err != nil {
				return nil, err
			}
			var ws []inventoryRow
			if err := json.Unmarshal(v, &ws); err != nil {
				return nil, fmt.Errorf("unreadable workers of %s: %w", e, err)
			}
			for _, w := range ws {
				if w.IsActive == 1 {
					out = append(out, w.Unit)
				}
			}
		}
		if len(out) == 0 {
			return nil, c.usage("No active workers found for experiment(s): %s.", strings.Join(s.exps, ", "))
		}
	default:
		for _, r := range rows {
			switch kind {
			case activeWorkers:
				if r.IsActive == 1 {
					out = append(out, r.Unit)
				}
			case allWorkers:
				if r.Unit != leader {
					out = append(out, r.Unit)
				}
			case wholeCluster:
				out = append(out, r.Unit)
			}
		}
		if kind == wholeCluster && leader != "" {
			out = append(out, leader)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 && kind == activeWorkers {
		return nil, c.usage("No target workers matched the selection. Check --units/--experiments.")
	}
	return out, nil
}

func asAPIError(err error, target **apiError) bool {
	e, ok := err.(*apiError)
	if ok {
		*target = e
	}
	return ok
}

// tuple renders units as the original's prompt shows a Python tuple.
func tuple(units []string) string {
	q := make([]string, len(units))
	for i, u := range units {
		q[i] = "'" + u + "'"
	}
	if len(q) == 1 {
		return "(" + q[0] + ",)"
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// confirmed asks `Confirm <what> on (<units>)? Y/n:` unless -y.
func (a *app) confirmed(s *selection, what string, units []string) bool {
	return s.yes || a.confirm(fmt.Sprintf("Confirm %s on %s? Y/n: ", what, tuple(units)))
}

// printJSON prints one line per unit: the value's members plus unit and status.
func (a *app) printJSON(rs cluster.Results) {
	for _, r := range rs {
		line := map[string]any{}
		if r.OK {
			var m map[string]any
			if json.Unmarshal(r.Value, &m) == nil {
				line = m
			} else {
				line["value"] = r.Value
			}
			line["status"] = "success"
		} else {
			line["status"] = "error"
			line["error"] = r.Error.Message
		}
		line["unit"] = r.Unit
		b, _ := json.Marshal(line)
		fmt.Fprintln(a.stdout, string(b))
	}
}

// summary is one unit's failure in a line.
func summary(r cluster.Result) string {
	_, err := resultValue(r)
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// splitSelectors takes the selector and config-override tokens out of a pass-through
// command line (pios run), keeping the rest for the job.
func splitSelectors(c *command, tokens []string, s *selection) (overrides [][3]string, rest []string, err error) {
	overrides = [][3]string{}
	for i := 0; i < len(tokens); i++ {
		t := tokens[i]
		name, val, hasVal := strings.Cut(t, "=")
		next := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(tokens) {
				return "", c.usage("Option '%s' requires an argument.", name)
			}
			i++
			return tokens[i], nil
		}
		switch name {
		case "--units", "--experiments":
			v, err := next()
			if err != nil {
				return nil, nil, err
			}
			if name == "--units" {
				s.units = append(s.units, v)
			} else {
				s.exps = append(s.exps, v)
			}
		case "-y", "--yes":
			s.yes = true
		case "--json":
			s.json = true
		case "--config-override":
			if i+3 >= len(tokens) {
				return nil, nil, c.usage("Option '--config-override' requires 3 arguments.")
			}
			overrides = append(overrides, [3]string{tokens[i+1], tokens[i+2], tokens[i+3]})
			i += 3
		case "unit":
			fmt.Fprintln(c.a.stderr, "Did you mean to use 'units' instead of 'unit'? Exiting.")
			return nil, nil, errAborted
		default:
			rest = append(rest, t)
		}
	}
	return overrides, rest, nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
)

const workersHelp = `Usage: pio workers COMMAND [ARGS]...

Commands:
  add HOSTNAME [-m MODEL_NAME] [-v MODEL_VERSION]   register a running worker
  remove WORKER                                    take it out of the inventory
  assign WORKER EXPERIMENT | unassign WORKER EXPERIMENT
  update-active HOSTNAME 0|1
  update-model WORKER -m MODEL_NAME -v MODEL_VERSION
  status                                           the inventory, and whether each answers`

func (a *app) workers(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(a.stdout, workersHelp)
		return helpShown(2)
	}
	sub, rest := args[0], args[1:]
	c := a.command("workers "+sub, workersHelp)
	model := c.fs.String("m", "", "")
	c.fs.StringVar(model, "model-name", "", "")
	modelVersion := c.fs.String("v", "", "")
	c.fs.StringVar(modelVersion, "model-version", "", "")
	c.fs.String("a", "", "") // --address: pioreactord does not provision over SSH
	c.fs.String("p", "", "")
	want := map[string]int{"add": 1, "remove": 1, "assign": 2, "unassign": 2, "update-active": 2, "update-model": 1, "status": 0}
	n, ok := want[sub]
	if !ok {
		if sub == "--help" || sub == "-h" {
			fmt.Fprintln(a.stdout, workersHelp)
			return nil
		}
		return usageErr(a.usageLine("workers"), "No such command '%s'.", sub)
	}
	pos, err := c.parse(rest)
	if err != nil {
		return err
	}
	if len(pos) != n {
		return c.usage("Expected %d argument(s), got %d.", n, len(pos))
	}
	w := func(i int) string { return url.PathEscape(pos[i]) }
	switch sub {
	case "add":
		return a.addWorker(ctx, pos[0], *model, *modelVersion)
	case "remove":
		_, err := a.leaderCall(ctx, http.MethodDelete, "/api/workers/"+w(0), nil)
		switch s := statusOf(err); {
		case s >= 400 && s < 500:
			return failf("Worker %s not present to be removed. Check hostname.", pos[0])
		case s >= 500:
			return failf("Server error: %v", err)
		case err != nil:
			return err
		}
		fmt.Fprintf(a.stdout, "Removed %s from cluster.\n", pos[0])
	case "assign":
		if _, err := a.leaderCall(ctx, http.MethodPut, "/api/experiments/"+w(1)+"/workers",
			map[string]string{"pioreactor_unit": pos[0]}); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Assigned %s to %s\n", pos[0], pos[1])
	case "unassign":
		if _, err := a.leaderCall(ctx, http.MethodDelete, "/api/experiments/"+w(1)+"/workers/"+w(0), nil); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Unassigned %s from %s\n", pos[0], pos[1])
	case "update-active":
		if pos[1] != "0" && pos[1] != "1" {
			return c.usage("Invalid value for 'ACTIVE': '%s' is not one of '0', '1'.", pos[1])
		}
		if _, err := a.leaderCall(ctx, http.MethodPut, "/api/workers/"+w(0)+"/is_active",
			map[string]int{"is_active": int(pos[1][0] - '0')}); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Updated %s's active to %s\n", pos[0], map[string]string{"0": "False", "1": "True"}[pos[1]])
	case "update-model":
		if *model == "" || *modelVersion == "" {
			return c.usage("Missing option '-m' / '--model-name' or '-v' / '--model-version'.")
		}
		if _, err := a.leaderCall(ctx, http.MethodPut, "/api/workers/"+w(0)+"/model",
			map[string]string{"model_name": *model, "model_version": *modelVersion}); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Updated %s's model to %s v%s\n", pos[0], *model, *modelVersion)
	case "status":
		return a.workersStatus(ctx)
	}
	return nil
}

// addWorker registers a worker whose daemon already runs; the original's provisioning over
// SSH is not part of pioreactord (docs/cli.md).
func (a *app) addWorker(ctx context.Context, host, model, modelVersion string) error {
	if strings.HasSuffix(host, ".local") {
		return failf("Use the hostname %s, without .local.", strings.TrimSuffix(host, ".local"))
	}
	if v, err := a.leaderCall(ctx, http.MethodGet, "/unit_api/health", nil); err == nil {
		var h struct {
			Unit string `json:"pioreactor_unit"`
		}
		if json.Unmarshal(v, &h) == nil && h.Unit == host {
			return failf("%s is the leader; it cannot be added as a worker this way.", host)
		}
	}
	body := map[string]any{"pioreactor_unit": host}
	if model != "" || modelVersion != "" {
		v, err := a.leaderCall(ctx, http.MethodGet, "/api/models", nil)
		if err != nil {
			return err
		}
		var ms struct {
			Models []struct {
				Name    string `json:"model_name"`
				Version string `json:"model_version"`
			} `json:"models"`
		}
		known := false
		if json.Unmarshal(v, &ms) == nil {
			for _, m := range ms.Models {
				known = known || (m.Name == model && m.Version == modelVersion)
			}
		}
		if !known {
			return failf("Unknown model %s v%s; see GET /api/models.", model, modelVersion)
		}
		body["model_name"], body["model_version"] = model, modelVersion
	}
	if _, err := a.leaderCall(ctx, http.MethodPut, "/api/workers", body); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "New pioreactor %s successfully added to cluster.\n", host)
	return nil
}

type inventoryRow struct {
	Unit     string  `json:"pioreactor_unit"`
	IsActive int     `json:"is_active"`
	IPv4     *string `json:"ipv4_address"`
}

func (a *app) inventory(ctx context.Context) ([]inventoryRow, error) {
	v, err := a.leaderCall(ctx, http.MethodGet, "/api/workers", nil)
	if err != nil {
		return nil, err
	}
	var rows []inventoryRow
	if err := json.Unmarshal(v, &rows); err != nil {
		return nil, fmt.Errorf("unreadable inventory: %w", err)
	}
	return rows, nil
}

// workersStatus prints the inventory with whether each worker answers, its version and
// experiment (docs/pio.md, "Workers status", without the MQTT state column's ping fallback).
func (a *app) workersStatus(ctx context.Context) error {
	rows, err := a.inventory(ctx)
	if err != nil {
		return err
	}
	units := make([]string, len(rows))
	for i, r := range rows {
		units[i] = r.Unit
	}
	health, _ := a.relay(ctx, units, http.MethodGet, "/unit_api/health", nil, false)
	versions, _ := a.relay(ctx, units, http.MethodGet, "/unit_api/versions/app", nil, false)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Name\tIP address\tActive?\tReachable?\tVersion\tExperiment")
	for _, r := range rows {
		ip := "unknown"
		if r.IPv4 != nil {
			ip = *r.IPv4
		}
		reach, ver := "No", "unknown"
		if h, ok := health.Get(r.Unit); ok && h.OK {
			reach = "Yes"
		}
		if v, ok := versions.Get(r.Unit); ok && v.OK {
			var x struct {
				Version string `json:"version"`
			}
			if json.Unmarshal(v.Value, &x) == nil {
				ver = x.Version
			}
		}
		exp := "none"
		if e, err := a.experimentOf(ctx, r.Unit); err == nil {
			exp = e
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Unit, ip, map[int]string{0: "No", 1: "Yes"}[r.IsActive], reach, ver, exp)
	}
	return tw.Flush()
}

const experimentsHelp = `Usage: pio experiments COMMAND [ARGS]...

Commands:
  create NAME [--description TEXT]
  list [-v]
  delete NAME [-y]   stops the experiment's jobs, then deletes it and its data`

func (a *app) experiments(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(a.stdout, experimentsHelp)
		return helpShown(2)
	}
	sub, rest := args[0], args[1:]
	c := a.command("experiments "+sub, experimentsHelp)
	verbose := c.fs.Bool("v", false, "")
	yes := c.fs.Bool("y", false, "")
	c.fs.BoolVar(yes, "yes", false, "")
	desc := c.fs.String("description", "", "")
	switch sub {
	case "create", "list", "delete":
	case "--help", "-h":
		fmt.Fprintln(a.stdout, experimentsHelp)
		return nil
	default:
		return usageErr(a.usageLine("experiments"), "No such command '%s'.", sub)
	}
	pos, err := c.parse(rest)
	if err != nil {
		return err
	}
	if (sub == "list") != (len(pos) == 0) || len(pos) > 1 {
		return c.usage("Expected NAME.")
	}
	switch sub {
	case "create":
		_, err := a.leaderCall(ctx, http.MethodPost, "/api/experiments", map[string]string{"experiment": pos[0], "description": *desc})
		switch statusOf(err) {
		case 0:
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Created experiment: %s\n", pos[0])
			return nil
		case http.StatusConflict:
			return failf("Experiment '%s' already exists (409)", pos[0])
		case http.StatusBadRequest:
			return failf("Invalid experiment name. %v", err)
		}
		return failf("Failed to create %s: %v", pos[0], err)
	case "list":
		v, err := a.leaderCall(ctx, http.MethodGet, "/api/experiments", nil)
		if err != nil {
			return err
		}
		var es []struct {
			Experiment  string `json:"experiment"`
			CreatedAt   string `json:"created_at"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(v, &es); err != nil {
			return fmt.Errorf("unreadable experiments: %w", err)
		}
		if len(es) == 0 {
			fmt.Fprintln(a.stdout, "No experiments found")
		}
		for _, e := range es {
			if *verbose {
				fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", e.Experiment, e.CreatedAt, e.Description)
			} else {
				fmt.Fprintln(a.stdout, e.Experiment)
			}
		}
		return nil
	}
	if !*yes && !a.confirm(fmt.Sprintf("Delete experiment '%s'? This will stop jobs in that experiment. [y/N]: ", pos[0])) {
		return errAborted
	}
	_, err = a.leaderCall(ctx, http.MethodDelete, "/api/experiments/"+url.PathEscape(pos[0]), nil)
	if statusOf(err) == http.StatusNotFound {
		return failf("Experiment '%s' not found (404)", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Deleted experiment %s.\n", pos[0])
	return nil
}

// confirm asks on the terminal; only an answer that upper-cases to Y proceeds (the
// original's quirk: an empty answer aborts).
func (a *app) confirm(prompt string) bool {
	fmt.Fprint(a.stdout, prompt)
	line, _ := bufio.NewReader(a.stdin).ReadString('\n')
	return strings.ToUpper(strings.TrimSpace(line)) == "Y"
}

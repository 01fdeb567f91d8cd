package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/profile"
)

const piosHelp = `Usage: pios [OPTIONS] COMMAND [ARGS]...

  Run commands on the cluster's workers, from the leader (through its /api/relay).

Commands:
  run JOB [--config-override S K V]... [JOB OPTIONS]...   start a job on each target
  kill [--job-name N] [--experiment E] [--job-source S] [--all-jobs]
  jobs list [running] | jobs set JOB SETTING VALUE
  sync-configs [--shared] [--specific] [--skip-save]      push config.ini, snapshot unit_config.ini
  reboot | shutdown                                       workers; the leader only when named

Selectors (every command): --units U (repeatable), --experiments E (repeatable);
-y/--yes skips the confirmation; --json prints one JSON line per unit (run, kill).`

func (a *app) pios(ctx context.Context, args []string) error {
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return a.piosRun(ctx, rest)
	case "kill":
		return a.piosKill(ctx, rest)
	case "jobs":
		if len(rest) > 0 && rest[0] == "list" {
			return a.piosJobsList(ctx, rest[1:])
		}
		if len(rest) > 0 && rest[0] == "set" {
			return a.piosJobsSet(ctx, rest[1:])
		}
		fmt.Fprintln(a.stdout, "Usage: pios jobs list [running] | pios jobs set JOB SETTING VALUE")
		return helpShown(2)
	case "sync-configs":
		return a.piosSyncConfigs(ctx, rest)
	case "reboot", "shutdown":
		return a.piosPower(ctx, cmd, rest)
	}
	return usageErr(a.usageLine(""), "No such command '%s'.", cmd)
}

func (a *app) piosRun(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == profile.JobName {
		return a.profileRun(ctx, args[1:]) // the leader runs profiles for every worker
	}
	c := a.command("run", piosHelp)
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(a.stdout, "Usage: pios run JOB [--config-override S K V]... [--units U]... [--experiments E]... [-y] [--json] [JOB OPTIONS]...")
		return nil
	}
	job := args[0]
	var s selection
	overrides, rest, err := splitSelectors(c, args[1:], &s)
	if err != nil {
		return err
	}
	posArgs, opts := passThrough(rest)
	units, err := a.targets(ctx, c, &s, activeWorkers)
	if err != nil {
		return err
	}
	if !a.confirmed(&s, "running "+job, units) {
		return errAborted
	}
	body := contract.RunRequest{Args: posArgs, Options: opts, Env: map[string]string{}, ConfigOverrides: overrides}
	rs, err := a.relay(ctx, units, http.MethodPost, "/unit_api/jobs/run/job_name/"+url.PathEscape(job), body, false)
	if err != nil {
		return err
	}
	return a.report(&s, rs, func(r cluster.Result) string {
		if !r.OK {
			return fmt.Sprintf("Unable to execute run command on %s due to server error: %s", r.Unit, summary(r))
		}
		return ""
	})
}

func (a *app) piosKill(ctx context.Context, args []string) error {
	c := a.command("kill", piosHelp)
	var s selection
	s.register(c)
	jobName := c.fs.String("job-name", "", "")
	exp := c.fs.String("experiment", "", "")
	source := c.fs.String("job-source", "", "")
	all := c.fs.Bool("all-jobs", false, "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	units, err := a.targets(ctx, c, &s, activeWorkers)
	if err != nil {
		return err
	}
	if !a.confirmed(&s, "killing jobs", units) {
		return errAborted
	}
	path := "/unit_api/jobs/stop"
	var body any = contract.StopFilter{JobName: *jobName, Experiment: *exp, JobSource: *source}
	if *all {
		path, body = "/unit_api/jobs/stop/all", nil
	}
	rs, err := a.relay(ctx, units, http.MethodPatch, path, body, false)
	if err != nil {
		return err
	}
	return a.report(&s, rs, func(r cluster.Result) string {
		switch {
		case !r.OK:
			return fmt.Sprintf("Failed to send kill command to %s: %s", r.Unit, summary(r))
		case string(r.Value) == "false":
			return fmt.Sprintf("Failed to send kill command to %s: the unit could not stop the jobs", r.Unit)
		}
		return ""
	})
}

// report prints a fan-out's envelope with --json, then one line on stderr for each unit that
// failed (failure returns its message, "" for success); any failure aborts.
func (a *app) report(s *selection, rs cluster.Results, failure func(cluster.Result) string) error {
	if s.json {
		a.printJSON(rs)
	}
	failed := false
	for _, r := range rs {
		if msg := failure(r); msg != "" {
			failed = true
			fmt.Fprintln(a.stderr, msg)
		}
	}
	if failed {
		return errAborted
	}
	return nil
}

func (a *app) piosJobsList(ctx context.Context, args []string) error {
	c := a.command("jobs list", piosHelp)
	var s selection
	s.register(c)
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	path, err := jobsListPath(c, pos)
	if err != nil {
		return err
	}
	units, err := a.targets(ctx, c, &s, activeWorkers)
	if err != nil {
		return err
	}
	rs, err := a.relay(ctx, units, http.MethodGet, path, nil, false)
	if err != nil {
		return err
	}
	bold, plain := "", ""
	if isTerminal(a.stdout) {
		bold, plain = "\x1b[1m", reset
	}
	for _, r := range rs {
		if !r.OK {
			fmt.Fprintf(a.stderr, "Unable to list jobs on %s: %s\n", r.Unit, summary(r))
			continue
		}
		var rows []contract.JobRow
		if err := json.Unmarshal(r.Value, &rows); err != nil {
			fmt.Fprintf(a.stderr, "Unable to list jobs on %s: %v\n", r.Unit, err)
			continue
		}
		slices.SortStableFunc(rows, func(x, y contract.JobRow) int { return int(y.JobID - x.JobID) })
		fmt.Fprintln(a.stdout, bold+r.Unit+plain)
		printJobs(a, rows, "  ")
	}
	return nil
}

func (a *app) piosJobsSet(ctx context.Context, args []string) error {
	c := a.command("jobs set", piosHelp)
	var s selection
	s.register(c)
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	names := []string{"JOB", "SETTING", "VALUE"}
	if len(pos) < 3 {
		return c.usage("Missing argument '%s'.", names[len(pos)])
	}
	job, setting, value := pos[0], strings.ReplaceAll(pos[1], "-", "_"), pos[2]
	units, err := a.targets(ctx, c, &s, activeWorkers)
	if err != nil {
		return err
	}
	if !a.confirmed(&s, fmt.Sprintf("setting %s's %s to %s", job, setting, value), units) {
		return errAborted
	}
	conn, err := a.dial(ctx, "pios")
	if err != nil {
		return err
	}
	defer conn.Close()
	failed := false
	for _, u := range units {
		exp, err := a.experimentOf(ctx, u)
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, publishWait)
			err = conn.Publish(pctx, contract.SetTopic(u, exp, job, setting), []byte(value), 1, false)
			cancel()
		}
		if err != nil {
			failed = true
			fmt.Fprintf(a.stderr, "Unable to set %s on %s: %v\n", setting, u, err)
		}
	}
	if failed {
		return errAborted
	}
	return nil
}

// piosSyncConfigs pushes the leader's config.ini to the targets (--shared) and snapshots each
// target's unit_config.ini in the leader's history (--specific). Without selectors and
// --skip-save the shared push is the leader's own save route, which snapshots and
// distributes to every worker.
func (a *app) piosSyncConfigs(ctx context.Context, args []string) error {
	c := a.command("sync-configs", piosHelp)
	var s selection
	s.register(c)
	shared := c.fs.Bool("shared", false, "")
	specific := c.fs.Bool("specific", false, "")
	skipSave := c.fs.Bool("skip-save", false, "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if !*shared && !*specific {
		*shared, *specific = true, true
	}
	units, err := a.targets(ctx, c, &s, wholeCluster)
	if err != nil {
		return err
	}
	if len(units) == 0 || !a.confirmed(&s, "syncing configs", units) {
		if len(units) == 0 {
			return nil
		}
		return errAborted
	}
	leader, err := a.leaderName(ctx)
	if err != nil {
		return err
	}
	failed := false
	if *shared {
		_, text, err := a.http.do(ctx, leaderTimeout, http.MethodGet, a.leader+"/api/config/shared", nil)
		if err != nil {
			return fmt.Errorf("read the leader's config.ini: %w", err)
		}
		if len(s.units) == 0 && len(s.exps) == 0 && !*skipSave {
			_, _, err = a.http.do(ctx, syncWait, http.MethodPatch, a.leader+"/api/config/shared", map[string]string{"code": string(text)})
			if err != nil {
				failed = true
				fmt.Fprintf(a.stderr, "Unable to sync config.ini: %v\n", err)
			}
		} else {
			others := slices.DeleteFunc(slices.Clone(units), func(u string) bool { return u == leader })
			rs, err := a.relay(ctx, others, http.MethodPost, "/unit_api/config/shared", map[string]string{"code": string(text)}, false)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if !r.OK {
					failed = true
					fmt.Fprintf(a.stderr, "Unable to sync config.ini to %s: %s\n", r.Unit, summary(r))
				}
			}
		}
	}
	if *specific && !*skipSave {
		for _, u := range units {
			path := "/api/config/units/" + url.PathEscape(u) + "/specific"
			_, text, err := a.http.do(ctx, unitTimeout, http.MethodGet, a.leader+path, nil)
			if err == nil {
				_, _, err = a.http.do(ctx, unitTimeout, http.MethodPatch, a.leader+path, map[string]string{"code": string(text)})
			}
			if err != nil {
				failed = true
				fmt.Fprintf(a.stderr, "Unable to save %s's unit_config.ini: %v\n", u, err)
			}
		}
	}
	if failed {
		return errAborted
	}
	return nil
}

// piosPower is pios reboot / shutdown: workers first; the leader only when named, and last.
// Worker failures are printed but, as the original, leave the exit code 0.
func (a *app) piosPower(ctx context.Context, action string, args []string) error {
	c := a.command(action, piosHelp)
	var s selection
	s.register(c)
	if _, err := c.parse(args); err != nil {
		return err
	}
	units, err := a.targets(ctx, c, &s, allWorkers)
	if err != nil || len(units) == 0 {
		return err
	}
	verb := map[string]string{"reboot": "rebooting", "shutdown": "shutting down"}[action]
	if !a.confirmed(&s, verb, units) {
		return errAborted
	}
	leader, _ := a.leaderName(ctx)
	withLeader := slices.Contains(units, leader)
	workers := slices.DeleteFunc(slices.Clone(units), func(u string) bool { return u == leader })
	word := map[string]string{"reboot": "reboot", "shutdown": "shut down"}[action]
	if len(workers) > 0 {
		rs, err := a.relay(ctx, workers, http.MethodPost, "/unit_api/system/"+action, nil, false)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if !r.OK {
				fmt.Fprintf(a.stderr, "Unable to %s %s. %s\n", word, r.Unit, summary(r))
			}
		}
	}
	if withLeader {
		if _, err := a.leaderCall(ctx, http.MethodPost, "/unit_api/system/"+action, nil); err != nil {
			return failf("Unable to %s the leader. %v", word, err)
		}
	}
	return nil
}

// syncWait bounds the leader's save-and-distribute of config.ini (it waits ≤75 s itself).
const syncWait = 80 * time.Second

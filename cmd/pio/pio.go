package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/profile"
)

const pioHelp = `Usage: pio [OPTIONS] COMMAND [ARGS]...

  Control one Pioreactor unit through its pioreactord daemon.

Commands:
  run          start a job: pio run [--config-override S K V]... JOB [--option VALUE]...
  kill         stop running jobs (--job-name, --experiment, --job-source, --job-id, --all-jobs)
  jobs         list [running] | info --job-id N | --job-name NAME | set JOB SETTING VALUE
  logs         this unit's recent log lines (-n N, -f to follow)
  log          write a log line (-m MESSAGE [-l LEVEL] [-n NAME] [--local-only])
  mqtt         tail MQTT messages (-t TOPIC)
  blink        flash this unit's LED
  version      the daemon's version (-v for more)
  config       get SECTION KEY | set SECTION KEY VALUE --shared|--specific | show
  workers      add | remove | assign | unassign | update-active | update-model | status
  experiments  create NAME | list [-v] | delete NAME [-y]
  backup_database  a consistent copy of the leader's store, taken while it runs
  calibrations run --device D [--protocol-name P] [-y] | protocols: guided calibrations`

// pio dispatches the per-unit commands.
func (a *app) pio(ctx context.Context, args []string) error {
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return a.runJob(ctx, rest)
	case "kill":
		return a.kill(ctx, rest)
	case "jobs":
		return a.jobs(ctx, rest)
	case "logs":
		return a.logs(ctx, rest)
	case "log":
		return a.log(ctx, rest)
	case "mqtt":
		return a.mqtt(ctx, rest)
	case "blink":
		return a.blink(ctx, rest)
	case "version":
		return a.versionCmd(ctx, rest)
	case "config":
		return a.configCmd(ctx, rest)
	case "workers":
		return a.workers(ctx, rest)
	case "experiments":
		return a.experiments(ctx, rest)
	case "backup_database":
		return a.backupDatabase(ctx, rest)
	case "calibrations":
		return a.calibrations(ctx, rest)
	}
	return usageErr(a.usageLine(""), "No such command '%s'.", cmd)
}

const runHelp = `Usage: pio run [--config-override SECTION KEY VALUE]... JOB [JOB OPTIONS]...

  Start JOB on this unit and return once it is running (the daemon owns it from then on;
  stop it with pio kill). Job options are --name VALUE pairs (dashes or underscores), a
  bare --flag is true. The experiment is the unit's assigned one, or $EXPERIMENT.`

// runEnv is the environment a run request carries: the allow-listed variables this shell
// sets, and JOB_SOURCE user by default. Paths and HOSTNAME describe the machine pio runs on,
// which need not be the unit's, so they stay here.
func (a *app) runEnv() map[string]string {
	env := map[string]string{"JOB_SOURCE": "user"}
	for _, k := range contract.AllowedEnv {
		switch k {
		case "HOSTNAME", "DOT_PIOREACTOR", "GLOBAL_CONFIG", "LOCAL_CONFIG":
			continue
		}
		if v := a.getenv(k); v != "" {
			env[k] = v
		}
	}
	return env
}

func (a *app) runJob(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(a.stdout, runHelp)
		return nil
	}
	usage := "Usage: pio run [OPTIONS] COMMAND [ARGS]...\nTry 'pio run --help' for help."
	overrides, rest, err := configOverrides(args)
	if err != nil {
		return usageErr(usage, "%s", err.Error())
	}
	if len(rest) == 0 {
		fmt.Fprintln(a.stdout, runHelp)
		return nil
	}
	job := rest[0]
	if strings.HasPrefix(job, "-") {
		return usageErr(usage, "No such option: %s", job)
	}
	if job == profile.JobName {
		return a.profileRun(ctx, rest[1:])
	}
	posArgs, opts := passThrough(rest[1:])
	req := contract.RunRequest{Args: posArgs, Options: opts, Env: a.runEnv(), ConfigOverrides: overrides}
	_, err = a.unitCall(ctx, http.MethodPost, "/unit_api/jobs/run/job_name/"+url.PathEscape(job), req)
	if statusOf(err) == http.StatusNotFound {
		return usageErr(usage, "No such command '%s'.", job)
	}
	if err != nil {
		return err
	}
	unit, _ := a.unitName(ctx)
	fmt.Fprintf(a.stdout, "Started %s on %s.\n", job, unit)
	return nil
}

const killHelp = `Usage: pio kill [--job-name NAME] [--experiment EXP] [--job-source SRC] [--job-id N] [--all-jobs]

  Stop the running jobs every given filter selects; --all-jobs stops every job that is not
  long-running.`

func (a *app) kill(ctx context.Context, args []string) error {
	c := a.command("kill", killHelp)
	jobName := c.fs.String("job-name", "", "")
	exp := c.fs.String("experiment", "", "")
	source := c.fs.String("job-source", "", "")
	jobID := c.fs.String("job-id", "", "")
	all := c.fs.Bool("all-jobs", false, "")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return c.usage("Got unexpected extra argument (%s)", pos[0])
	}
	filter := contract.StopFilter{JobName: *jobName, Experiment: *exp, JobSource: *source}
	if *jobID != "" {
		id, err := strconv.ParseInt(*jobID, 10, 64)
		if err != nil {
			return c.usage("Invalid value for '--job-id': '%s' is not a valid integer.", *jobID)
		}
		filter.JobID = &id
	}
	if filter.Empty() && !*all {
		return errAborted
	}
	running, err := a.jobRows(ctx, "/unit_api/jobs/running")
	if err != nil {
		return err
	}
	n := 0
	for _, r := range running {
		if *all && r.IsLongRunningJob == 0 || !*all && matches(filter, r) {
			n++
		}
	}
	path, body := "/unit_api/jobs/stop", any(filter)
	if *all {
		path, body = "/unit_api/jobs/stop/all", nil
	}
	v, err := a.unitCall(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	if string(v) == "false" {
		return fmt.Errorf("the unit could not stop the jobs; see its log")
	}
	if n == 1 {
		fmt.Fprintln(a.stdout, "Killed 1 job.")
	} else {
		fmt.Fprintf(a.stdout, "Killed %d jobs.\n", n)
	}
	return nil
}

func matches(f contract.StopFilter, r contract.JobRow) bool {
	return (f.JobName == "" || f.JobName == r.JobName) && (f.Experiment == "" || f.Experiment == r.Experiment) &&
		(f.JobSource == "" || f.JobSource == r.JobSource) && (f.JobID == nil || *f.JobID == r.JobID)
}

func (a *app) jobRows(ctx context.Context, path string) ([]contract.JobRow, error) {
	v, err := a.unitCall(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	var rows []contract.JobRow
	if err := json.Unmarshal(v, &rows); err != nil {
		return nil, fmt.Errorf("unreadable job list: %w", err)
	}
	slices.SortStableFunc(rows, func(x, y contract.JobRow) int { return cmp.Compare(y.JobID, x.JobID) })
	return rows, nil
}

const jobsHelp = `Usage: pio jobs COMMAND [ARGS]...

Commands:
  list [running]                    every job of this unit (or the running ones), newest first
  info --job-id N | --job-name NAME  one job and its published settings
  set JOB SETTING VALUE             change a setting of a running job (over MQTT)
  purge --job-id N | --job-name NAME  not supported by pioreactord`

func (a *app) jobs(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(a.stdout, jobsHelp)
		return helpShown(2)
	}
	switch args[0] {
	case "list":
		return a.jobsList(ctx, args[1:])
	case "info":
		return a.jobsInfo(ctx, args[1:])
	case "set":
		return a.jobsSet(ctx, args[1:])
	case "purge":
		return fmt.Errorf("pioreactord keeps the job registry itself; records cannot be purged")
	case "--help", "-h":
		fmt.Fprintln(a.stdout, jobsHelp)
		return nil
	}
	return usageErr(a.usageLine("jobs"), "No such command '%s'.", args[0])
}

// jobLine is the `pio jobs list` line of docs/pio.md, "Job lines".
func jobLine(r contract.JobRow) string {
	source := r.JobSource
	if source == "" {
		source = "unknown"
	}
	ended := "still running"
	if r.EndedAt != nil {
		ended = shortTime(*r.EndedAt)
	}
	return fmt.Sprintf("[job_id=%d] %s experiment=%s, source=%s, started_at=%s, ended_at=%s",
		r.JobID, r.JobName, r.Experiment, source, shortTime(r.StartedAt), ended)
}

// shortTime is YYYY-MM-DDTHH:MM:SS of a contract timestamp.
func shortTime(ts string) string {
	if t, err := contract.ParseTime(ts); err == nil {
		return t.Format("2006-01-02T15:04:05")
	}
	return ts
}

func (a *app) jobsList(ctx context.Context, args []string) error {
	c := a.command("jobs list", "Usage: pio jobs list [running]")
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	path, err := jobsListPath(c, pos)
	if err != nil {
		return err
	}
	rows, err := a.jobRows(ctx, path)
	if err != nil {
		return err
	}
	printJobs(a, rows, "")
	return nil
}

func printJobs(a *app, rows []contract.JobRow, indent string) {
	if len(rows) == 0 {
		fmt.Fprintln(a.stdout, indent+"No jobs recorded.")
		return
	}
	for _, r := range rows {
		fmt.Fprintln(a.stdout, indent+jobLine(r))
	}
}

func (a *app) jobsInfo(ctx context.Context, args []string) error {
	c := a.command("jobs info", "Usage: pio jobs info --job-id N | --job-name NAME")
	id := c.fs.Int64("job-id", 0, "")
	name := c.fs.String("job-name", "", "")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *id == 0 && *name == "" {
		fmt.Fprintln(a.stdout, "Provide --job-id or --job-name.")
		return nil
	}
	rows, err := a.jobRows(ctx, "/unit_api/jobs")
	if err != nil {
		return err
	}
	i := slices.IndexFunc(rows, func(r contract.JobRow) bool {
		if *id != 0 {
			return r.JobID == *id
		}
		return r.JobName == *name && r.EndedAt == nil
	})
	if i < 0 {
		if *id != 0 {
			fmt.Fprintf(a.stdout, "No job found with job_id=%d.\n", *id)
		} else {
			fmt.Fprintf(a.stdout, "No running job found with name %s.\n", *name)
		}
		return nil
	}
	r := rows[i]
	fmt.Fprintln(a.stdout, jobLine(r))
	if r.EndedAt != nil {
		fmt.Fprintln(a.stdout, "status=stopped")
		return nil
	}
	fmt.Fprintln(a.stdout, "status=running")
	v, err := a.unitCall(ctx, http.MethodGet, "/unit_api/jobs/settings/job_name/"+url.PathEscape(r.JobName), nil)
	var s struct {
		Settings map[string]any `json:"settings"`
	}
	if err == nil && json.Unmarshal(v, &s) == nil {
		fmt.Fprintln(a.stdout, "published settings:")
		keys := make([]string, 0, len(s.Settings))
		for k := range s.Settings {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(a.stdout, "  %s=%v\n", k, s.Settings[k])
		}
	}
	return nil
}

// experimentOf is a unit's experiment: $EXPERIMENT, else its assignment on the leader.
func (a *app) experimentOf(ctx context.Context, unit string) (string, error) {
	if e := a.getenv("EXPERIMENT"); e != "" {
		return e, nil
	}
	v, err := a.leaderCall(ctx, http.MethodGet, "/api/workers/"+url.PathEscape(unit)+"/experiment", nil)
	if statusOf(err) == http.StatusNotFound {
		return "", fmt.Errorf("%s is not assigned to an experiment", unit)
	}
	if err != nil {
		return "", err
	}
	var w struct {
		Experiment string `json:"experiment"`
	}
	if err := json.Unmarshal(v, &w); err != nil || w.Experiment == "" {
		return "", fmt.Errorf("the leader did not say %s's experiment", unit)
	}
	return w.Experiment, nil
}

const jobsSetHelp = `Usage: pio jobs set JOB SETTING VALUE

  Publish VALUE to pioreactor/<unit>/<experiment>/JOB/SETTING/set (QoS 1). Dashes in
  SETTING become underscores.`

func (a *app) jobsSet(ctx context.Context, args []string) error {
	c := a.command("jobs set", jobsSetHelp)
	pos, err := c.parse(args)
	if err != nil {
		return err
	}
	names := []string{"JOB", "SETTING", "VALUE"}
	if len(pos) < 3 {
		return c.usage("Missing argument '%s'.", names[len(pos)])
	}
	if len(pos) > 3 {
		return c.usage("Got unexpected extra argument (%s)", pos[3])
	}
	job, setting, value := pos[0], strings.ReplaceAll(pos[1], "-", "_"), pos[2]
	unit, err := a.unitName(ctx)
	if err != nil {
		return err
	}
	exp, err := a.experimentOf(ctx, unit)
	if err != nil {
		return err
	}
	conn, err := a.dial(ctx, "pio")
	if err != nil {
		return err
	}
	defer conn.Close()
	pctx, cancel := context.WithTimeout(ctx, publishWait)
	defer cancel()
	return conn.Publish(pctx, contract.SetTopic(unit, exp, job, setting), []byte(value), 1, false)
}

// jobsListPath is the unit route `jobs list [running]` reads: the history, or the running jobs.
func jobsListPath(c *command, pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "/unit_api/jobs", nil
	case len(pos) == 1 && pos[0] == "running":
		return "/unit_api/jobs/running", nil
	}
	return "", c.usage("No such command '%s'.", pos[0])
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"time"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/profile"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// leaderProfiles are the leader's experiment profiles: the folder, the journal of runs, and
// the runs this start found cut short by the previous one's end.
type leaderProfiles struct {
	dir         *profile.Dir
	journal     *profile.Journal
	interrupted []profile.RunInfo
}

// profilesDir is where profiles live: ~/.pioreactor/experiment_profiles, or inside the data
// directory under --sim, so that simulated clusters do not share them.
func (d *daemon) profilesDir() string {
	if d.opts.sim {
		return filepath.Join(d.opts.dataDir, "experiment_profiles")
	}
	return filepath.Join(dotPioreactor(), "experiment_profiles")
}

// openProfiles opens the journal and marks the runs a restart cut short as interrupted: they
// are reported, never resumed, so no action of theirs runs twice.
func (d *daemon) openProfiles() (*leaderProfiles, error) {
	j, cut, err := profile.OpenJournal(filepath.Join(d.opts.dataDir, "experiment_profile_runs.json"), contract.FormatTime(d.clock.Now()))
	if err != nil {
		return nil, err
	}
	for _, r := range cut {
		d.log.Warn("experiment profile interrupted by a leader restart", "profile", r.Name, "experiment", r.Experiment, "job_id", r.JobID, "started_at", r.StartedAt)
	}
	p := &leaderProfiles{dir: &profile.Dir{Path: d.profilesDir()}, journal: j, interrupted: cut}
	if err := p.reportInterrupted(d.store, d.opts.unit, d.clock.Now()); err != nil {
		d.log.Warn("could not log the interrupted experiment profiles", "err", err)
	}
	return p, nil
}

// reportInterrupted writes into each cut-short run's experiment log that it was interrupted,
// straight into the store: at start the ingester may not listen yet.
func (p *leaderProfiles) reportInterrupted(st *store.DB, leader string, now time.Time) error {
	var rows []store.Row
	for _, r := range p.interrupted {
		msg := fmt.Sprintf("Experiment profile %s (job_id %d, started %s) was interrupted by a restart of the leader; its remaining actions will not run.", r.Name, r.JobID, r.StartedAt)
		rows = append(rows, store.Row{Table: store.Logs, Experiment: r.Experiment, Unit: leader, Time: now, Message: msg,
			Level: "WARNING", Task: profile.JobName, Source: contract.SourceApp})
	}
	p.interrupted = nil
	if len(rows) == 0 {
		return nil
	}
	if _, err := st.Insert(rows); err != nil {
		return fmt.Errorf("log the interrupted experiment profiles: %w", err)
	}
	return nil
}

// profileSpec is the leader's experiment_profile job; it reaches the units through the
// leader's own HTTP API, the path a user's REST call takes.
func (d *daemon) profileSpec(ctx context.Context, p *leaderProfiles, leaderUnit func() *supervisor.Supervisor) supervisor.Spec {
	lc := &leaderCluster{leader: d.opts.unit, clock: d.clock, store: d.store,
		// Loopback calls answer in milliseconds; the default 250 ms between polls of a
		// task would be 15 simulated minutes at --speed 3600.
		calls: cluster.New(cluster.Config{Resolve: d.addresses.resolve, APIKey: d.apiKey(), PollInterval: 10 * time.Millisecond})}
	return profile.NewSpec(profile.JobDeps{Dir: p.dir, Journal: p.journal, Cluster: lc,
		ShuttingDown: func() bool { return ctx.Err() != nil },
		Known: func(context.Context) profile.Known {
			k := profile.Known{}
			if sup := leaderUnit(); sup != nil {
				k.Jobs = sup.Jobs()
			}
			if ws, err := d.store.Workers(); err == nil {
				k.Units = []string{d.opts.unit}
				for _, w := range ws {
					k.Units = append(k.Units, w.Unit)
				}
			}
			return k
		}})
}

// leaderCluster implements profile.Cluster with calls to the leader's /api routes (and to the
// units' /unit_api for reads and the final clean-up).
type leaderCluster struct {
	leader string
	clock  clock.Clock
	store  *store.DB
	calls  *cluster.Client
}

var _ profile.Cluster = (*leaderCluster)(nil)

func esc(s string) string { return url.PathEscape(s) }

func (c *leaderCluster) Workers(_ context.Context, exp string) ([]profile.Worker, error) {
	ws, err := c.store.AssignedWorkers(exp)
	if err != nil {
		return nil, err
	}
	var out []profile.Worker
	for _, w := range ws {
		if w.IsActive {
			out = append(out, profile.Worker{Unit: w.Unit})
		}
	}
	return out, nil
}

func failure(r cluster.Result) error {
	if r.Error == nil {
		return fmt.Errorf("%s answered without a result", r.Unit)
	}
	if r.Error.Cause != "" && r.Error.Cause != r.Error.Message {
		return fmt.Errorf("%s %s", r.Error.Message, r.Error.Cause)
	}
	return fmt.Errorf("%s", r.Error.Message)
}

// Start runs the job through the unit's run route with the env the leader's run route would
// give it, retrying a refused submission three times 0.5 s apart, and waits for the unit's
// answer. (Going to the unit directly spares a second task to poll: at --speed 3600 each
// poll is minutes of the experiment.)
func (c *leaderCluster) Start(ctx context.Context, unit, job, exp string, req contract.RunRequest) error {
	w, err := c.store.Worker(unit)
	if err != nil {
		return err
	}
	env := map[string]string{"EXPERIMENT": exp, "HOSTNAME": unit, "ACTIVE": "1", "TESTING": "0"}
	if w.ModelName != "" && w.ModelVersion != "" {
		env["MODEL_NAME"], env["MODEL_VERSION"] = w.ModelName, w.ModelVersion
	}
	for k, v := range req.Env {
		env[k] = v
	}
	req.Env = env
	path := "/unit_api/jobs/run/job_name/" + esc(job)
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 {
			if c.clock.Sleep(ctx, 500*time.Millisecond) != nil {
				return err
			}
		}
		r := c.calls.Call(ctx, unit, cluster.Request{Method: http.MethodPatch, Path: path, Body: req})
		if r.OK {
			return nil
		}
		err = failure(r)
		if !r.Retryable && (r.StatusCode == nil || *r.StatusCode != http.StatusTooManyRequests) {
			return err
		}
	}
	return err
}

func (c *leaderCluster) simple(ctx context.Context, method, path string, body any) error {
	r := c.calls.Call(ctx, c.leader, cluster.Request{Method: method, Path: path, Body: body})
	if !r.OK {
		return failure(r)
	}
	return nil
}

func (c *leaderCluster) Stop(ctx context.Context, unit, job, exp string) error {
	return c.simple(ctx, http.MethodPatch, "/api/workers/"+esc(unit)+"/jobs/stop/job_name/"+esc(job)+"/experiments/"+esc(exp), map[string]any{})
}

func (c *leaderCluster) Update(ctx context.Context, unit, job, exp, setting string, v any) error {
	return c.simple(ctx, http.MethodPatch, "/api/workers/"+esc(unit)+"/jobs/update/job_name/"+esc(job)+"/experiments/"+esc(exp),
		map[string]any{"settings": map[string]any{setting: v}})
}

func (c *leaderCluster) Running(ctx context.Context, unit, job string) (bool, error) {
	r := c.calls.Call(ctx, unit, cluster.Request{Path: "/unit_api/jobs/running/" + esc(job)})
	if !r.OK {
		return false, failure(r)
	}
	var rows []contract.JobRow
	if err := json.Unmarshal(r.Value, &rows); err != nil {
		return false, err
	}
	return slices.ContainsFunc(rows, func(row contract.JobRow) bool { return row.JobName == job }), nil
}

func (c *leaderCluster) Log(ctx context.Context, unit, exp string, l profile.LogLine) error {
	return c.simple(ctx, http.MethodPost, "/api/workers/"+esc(unit)+"/experiments/"+esc(exp)+"/logs",
		map[string]any{"message": l.Message, "level": l.Level, "source": l.Source, "task": l.Source,
			"timestamp": contract.FormatTime(l.At), "source_": contract.SourceApp})
}

func (c *leaderCluster) Label(ctx context.Context, exp, unit, label string) error {
	return c.simple(ctx, http.MethodPut, "/api/experiments/"+esc(exp)+"/unit_labels", map[string]any{"unit": unit, "label": label})
}

func (c *leaderCluster) StopSource(ctx context.Context, units []string, exp, source string) error {
	var errs []error
	for _, r := range c.calls.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: "/unit_api/jobs/stop",
		Body: map[string]any{"job_source": source, "experiment": exp}}) {
		if !r.OK {
			errs = append(errs, fmt.Errorf("%s: %w", r.Unit, failure(r)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("stop jobs of %s: %v", source, errs)
	}
	return nil
}

// apiProfiles presents the profiles to the leader's API.
func (p *leaderProfiles) api() *api.Profiles {
	if p == nil {
		return nil
	}
	return &api.Profiles{Dir: p.dir, Journal: p.journal}
}

// leaderSupervisor is the supervisor of this daemon's own unit (nil before it is opened).
func (d *daemon) leaderSupervisor() *supervisor.Supervisor {
	if len(d.units) == 0 {
		return nil
	}
	return d.units[0].sup
}

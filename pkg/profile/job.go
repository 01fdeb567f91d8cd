package profile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// JobName is the leader's job that runs profiles.
const JobName = "experiment_profile"

// JobDeps are what the experiment_profile job needs from the leader's daemon.
type JobDeps struct {
	Dir     *Dir
	Journal *Journal
	Cluster Cluster
	// Known lists the cluster's jobs and units for validation (nil: not checked).
	Known func(ctx context.Context) Known
	// ShuttingDown reports whether the daemon is stopping: a run it cuts short is recorded as
	// interrupted (as after a crash), not as stopped by a user. Nil means never.
	ShuttingDown func() bool
}

// Args are the parsed arguments of the job: `execute FILE EXPERIMENT` or `verify FILE`.
type Args struct {
	Command, File, Experiment string
	DryRun                    bool
}

// ParseArgs reads the job's arguments and its dry-run option.
func ParseArgs(args []string, options map[string]any) (Args, error) {
	a := Args{}
	for _, key := range []string{"dry-run", "dry_run"} {
		// The dashboard sends {"dry-run": null}, pio sends dry_run: true.
		if v, ok := options[key]; ok && (v == nil || truthy(normalize(v))) {
			a.DryRun = true
		}
	}
	switch {
	case len(args) == 3 && args[0] == "execute":
		a.Command, a.File, a.Experiment = args[0], args[1], args[2]
	case len(args) == 2 && args[0] == "verify":
		a.Command, a.File = args[0], args[1]
	default:
		return a, fmt.Errorf("usage: experiment_profile execute FILE EXPERIMENT [--dry-run] | verify FILE, got %q", args)
	}
	return a, nil
}

// RunEnv names the experiment of an `execute` request in its env, so the job runs under that
// experiment whatever the leader's own assignment.
func RunEnv(req contract.RunRequest) contract.RunRequest {
	a, err := ParseArgs(req.Args, req.Options)
	if err != nil || a.Experiment == "" {
		return req
	}
	env := make(map[string]string, len(req.Env)+1)
	for k, v := range req.Env {
		env[k] = v
	}
	env["EXPERIMENT"] = a.Experiment
	req.Env = env
	return req
}

// NewSpec is the job table entry. Several profiles may run at once, so it runs side by side
// like an action, each instance under its own job id.
func NewSpec(d JobDeps) supervisor.Spec {
	return supervisor.Spec{Name: JobName, Action: true, New: func(o supervisor.Options) (supervisor.Job, error) {
		a, err := ParseArgs(o.Args, o.Values)
		if err != nil {
			return nil, err
		}
		if a.Command == "execute" && a.Experiment != o.Experiment {
			return nil, fmt.Errorf("experiment %q of the arguments is not the job's %q", a.Experiment, o.Experiment)
		}
		src, err := d.Dir.Read(a.File)
		if err != nil {
			return nil, err
		}
		known := Known{}
		if d.Known != nil {
			known = d.Known(context.Background())
		}
		p, diags := Verify(src, known)
		if err := diags.Err(); err != nil {
			return nil, err
		}
		return &job{deps: d, args: a, profile: p, warnings: diags.Warnings()}, nil
	}}
}

type job struct {
	deps     JobDeps
	args     Args
	profile  *Profile
	warnings Diagnostics
}

func (j *job) Run(ctx context.Context, rt *supervisor.Runtime) error {
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	for _, w := range j.warnings {
		rt.Log().Warn(w.String())
	}
	if j.args.Command == "verify" {
		rt.Log().Info(fmt.Sprintf("Profile %s is valid (%d warning(s)).", j.args.File, len(j.warnings)))
		return nil
	}
	done := make(chan error, 1)
	rt.Go(func() {
		done <- j.execute(ctx, rt)
		rt.Stop()
	})
	for {
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return <-done
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		}
	}
}

func (j *job) execute(ctx context.Context, rt *supervisor.Runtime) error {
	key := JobName + "/" + strconv.FormatInt(rt.JobID(), 10)
	clk := rt.Clock()
	origin := clk.Now()
	started := contract.FormatTime(origin)
	base := filepath.Base(j.args.File)
	info := RunInfo{JobID: rt.JobID(), Name: j.profile.Name, File: base, Experiment: rt.Experiment(), StartedAt: started, DryRun: j.args.DryRun}
	seq, err := j.deps.Journal.Begin(info)
	if err != nil {
		return err
	}
	settings := map[string]any{"experiment_profile_name": j.profile.Name, "start_time_utc": started, "profile_filename": base,
		"action_count": 0, "progress": 0.0}
	publish := func(name string, v any) {
		payload, err := contract.Encode(v)
		if v == nil {
			payload, err = nil, nil
		}
		if err == nil {
			topic := contract.Topic(rt.Unit(), rt.Experiment(), JobName, strconv.FormatInt(rt.JobID(), 10), name)
			err = rt.Publish(context.WithoutCancel(ctx), topic, payload, pubsub.ExactlyOnce, true)
		}
		if err != nil {
			rt.Log().Warn("publish profile setting", "setting", name, "err", err)
		}
	}
	for _, name := range []string{"experiment_profile_name", "start_time_utc", "profile_filename", "action_count", "progress"} {
		publish(name, settings[name])
	}
	lastCount := 0
	run := &Run{Profile: j.profile, Experiment: rt.Experiment(), Source: key, DryRun: j.args.DryRun, Cluster: j.deps.Cluster,
		Values: NewLiveValues(rt), Clock: clk, Log: rt.Log(), Start: origin,
		OnRecord: func(rec Record) { rt.Log().Debug(rec.line(origin)) },
		OnProgress: func(p Progress) {
			progress := 0.0
			if total := p.ActionCount + p.Pending; total > 0 {
				progress = float64(p.ActionCount) / float64(total)
			}
			settings["action_count"], settings["progress"] = p.ActionCount, progress
			j.deps.Journal.Progress(seq, p, map[string]any{"experiment_profile_name": j.profile.Name,
				"start_time_utc": started, "profile_filename": base, "action_count": p.ActionCount, "progress": progress})
			if p.ActionCount != lastCount {
				lastCount = p.ActionCount
				publish("action_count", p.ActionCount)
				publish("progress", progress)
			}
		}}
	runErr := run.Execute(ctx)
	status := StatusFinished
	switch {
	case runErr != nil:
		status = StatusFailed
		rt.Log().Error(fmt.Sprintf("Profile %s failed: %v", j.profile.Name, runErr))
	case ctx.Err() != nil && j.deps.ShuttingDown != nil && j.deps.ShuttingDown():
		status = StatusInterrupted
		runErr = errors.New("the leader shut down during the run; its remaining actions will not run")
		rt.Log().Warn(fmt.Sprintf("Profile %s was interrupted by a shutdown of the leader after %d action(s); it will not resume.", j.profile.Name, lastCount))
	case ctx.Err() != nil:
		status = StatusStopped
	}
	publish("experiment_profile_name", nil)
	publish("start_time_utc", nil)
	err = j.deps.Journal.End(seq, status, contract.FormatTime(clk.Now()), runErr)
	if status == StatusInterrupted {
		return err
	}
	return errors.Join(runErr, err)
}

package profile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Worker is an active worker assigned to the experiment.
type Worker struct {
	Unit string
}

// LogLine is a line a log action writes into the experiment's log.
type LogLine struct {
	Message string
	Level   string // upper case
	Source  string // the profile's job key
	At      time.Time
}

// Cluster carries actions out on units (the leader's own API in the daemon, a fake in tests).
type Cluster interface {
	// Workers are the active workers assigned to exp.
	Workers(ctx context.Context, exp string) ([]Worker, error)
	Start(ctx context.Context, unit, job, exp string, req contract.RunRequest) error
	Stop(ctx context.Context, unit, job, exp string) error
	// Update sets one published setting of a running job.
	Update(ctx context.Context, unit, job, exp, setting string, value any) error
	// Running reports whether job runs on unit.
	Running(ctx context.Context, unit, job string) (bool, error)
	Log(ctx context.Context, unit, exp string, l LogLine) error
	Label(ctx context.Context, exp, unit, label string) error
	// StopSource stops, on each unit, the jobs of exp that source started.
	StopSource(ctx context.Context, units []string, exp, source string) error
}

// Record is one performed (or skipped) basic action, for the journal and tests.
type Record struct {
	Unit      string    `json:"unit"`
	Job       string    `json:"job"`
	Type      string    `json:"type"`
	Scheduled time.Time `json:"scheduled"`
	Performed time.Time `json:"performed"`
	Skipped   string    `json:"skipped,omitempty"` // why it was not performed
	Err       string    `json:"error,omitempty"`
}

// line is the record as the run's debug log line: when the action was due and when the
// scheduler took it up, both counted from the run's start, so a reader can tell the
// scheduler's lateness from the time the unit then took to act.
func (rec Record) line(start time.Time) string {
	what := fmt.Sprintf("Action %s of %s on %s: scheduled at +%v, taken up at +%v", rec.Type, rec.Job, rec.Unit,
		rec.Scheduled.Sub(start).Round(time.Millisecond), rec.Performed.Sub(start).Round(time.Millisecond))
	switch {
	case rec.Err != "":
		return what + ", failed: " + rec.Err + "."
	case rec.Skipped != "":
		return what + ", skipped: " + rec.Skipped + "."
	}
	return what + "."
}

// Run is one execution of a profile.
type Run struct {
	Profile    *Profile
	Experiment string
	Source     string // the profile's job key, experiment_profile/<job_id>: JOB_SOURCE of what it starts
	DryRun     bool
	Cluster    Cluster
	Values     Values
	Clock      clock.Clock
	Log        *slog.Logger
	Random     func() float64
	// OnProgress runs on the scheduler's goroutine after each step (nil: none).
	OnProgress func(Progress)
	// OnRecord runs on the scheduler's goroutine for each basic action (nil: none).
	OnRecord func(Record)
	// StepDelay spaces the units of a common-block action apart (0 means 10 ms).
	StepDelay time.Duration
	// Start is the origin of the schedule (zero: when Execute begins); the job sets it to the
	// start time it publishes, so the published time is the one actions are counted from.
	Start time.Time

	sched       scheduler
	start       time.Time
	actionCount int
	missing     int // failed when-checks, for the occasional warning
}

// Progress is what the profile job publishes as it goes.
type Progress struct {
	ActionCount int // basic actions reached, performed or skipped
	Pending     int // items still scheduled
}

// Execute runs the profile until nothing remains scheduled or ctx ends (a stop). On a stop it
// stops every job the profile started on the experiment's active workers.
func (r *Run) Execute(ctx context.Context) error {
	p := r.Profile
	if err := r.check(); err != nil {
		return err
	}
	if len(p.Plugins) > 0 {
		return fmt.Errorf("ImportError: plugin %s is required by the profile, and pioreactord runs no Python plugins", p.Plugins[0].Name)
	}
	workers, err := r.Cluster.Workers(ctx, r.Experiment)
	if err != nil {
		return fmt.Errorf("read the workers of %s: %w", r.Experiment, err)
	}
	units := make([]string, len(workers))
	for i, w := range workers {
		units[i] = w.Unit
	}
	r.sched = scheduler{clk: r.Clock}
	r.start = r.Start
	if r.start.IsZero() {
		r.start = r.Clock.Now()
	}
	r.Log.Info(fmt.Sprintf("Executing profile %s on %d worker(s) of %s.", p.Name, len(units), r.Experiment), "dry_run", r.DryRun)
	if r.DryRun {
		// The whole plan up front: a dry run of a two-day profile should not take two days to read.
		for _, st := range Plan(p) {
			r.Log.Info("Dry-run plan: " + st.String())
		}
	}
	for _, jb := range p.Common {
		for _, a := range jb.Actions {
			r.scheduleCommon(units, jb.Job, a)
		}
	}
	for _, ub := range p.Units {
		if !slices.Contains(units, ub.Unit) {
			r.Log.Warn(fmt.Sprintf("%s is not an active worker of %s: its actions are skipped.", ub.Unit, r.Experiment))
			continue
		}
		if ub.Label != "" && !r.DryRun {
			if err := r.Cluster.Label(ctx, r.Experiment, ub.Unit, ub.Label); err != nil {
				r.Log.Error("Error in action: label "+ub.Unit+": "+err.Error(), "err", err)
			}
		}
		for _, jb := range ub.Jobs {
			for _, a := range jb.Actions {
				r.schedule(r.start, ub.Unit, jb.Job, a)
			}
		}
	}
	r.progress()
	err = r.sched.run(ctx, r.progress)
	if err != nil && ctx.Err() != nil {
		r.Log.Info(fmt.Sprintf("Stopped profile %s after %d action(s); %d scheduled item(s) will not run.", p.Name, r.actionCount, r.sched.pending()))
		if !r.DryRun {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := r.Cluster.StopSource(cctx, units, r.Experiment, r.Source); err != nil {
				r.Log.Error("stop the jobs the profile started", "err", err)
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.Clock.Sleep(ctx, 500*time.Millisecond); err != nil {
		return nil
	}
	r.Log.Info(fmt.Sprintf("Finished executing profile %s.", p.Name))
	return nil
}

func (r *Run) check() error {
	switch {
	case r.Profile == nil || r.Cluster == nil || r.Clock == nil || r.Log == nil:
		return errors.New("profile run: Profile, Cluster, Clock and Log are required")
	case r.Experiment == "":
		return errors.New("profile run: no experiment")
	}
	return nil
}

func (r *Run) progress() {
	if r.OnProgress != nil {
		r.OnProgress(Progress{ActionCount: r.actionCount, Pending: r.sched.pending()})
	}
}

// scheduleCommon schedules a common-block action: one item runs it for every worker in turn.
func (r *Run) scheduleCommon(units []string, job string, a *Action) {
	step := r.StepDelay
	if step <= 0 {
		step = 10 * time.Millisecond
	}
	r.sched.add(r.start.Add(a.At), priority[a.Type], func(ctx context.Context, at time.Time) {
		for i, u := range units {
			if i > 0 {
				if r.Clock.Sleep(ctx, step) != nil {
					return
				}
			}
			r.fire(ctx, at, u, job, a)
		}
	})
}

// schedule schedules a on unit at base + a.At.
func (r *Run) schedule(base time.Time, unit, job string, a *Action) {
	r.sched.add(base.Add(a.At), priority[a.Type], func(ctx context.Context, at time.Time) {
		r.fire(ctx, at, unit, job, a)
	})
}

func (r *Run) fire(ctx context.Context, at time.Time, unit, job string, a *Action) {
	switch a.Type {
	case Repeat:
		r.iterate(ctx, at, unit, job, a, 0)
	case When:
		r.when(ctx, unit, job, a)
	default:
		r.basic(ctx, at, unit, job, a)
	}
}

func (r *Run) scope(unit, job string) Scope {
	vars := make(map[string]any, len(r.Profile.Inputs)+5)
	maps.Copy(vars, r.Profile.Inputs)
	hours := r.Clock.Now().Sub(r.start).Hours()
	vars["unit"], vars["experiment"], vars["job_name"] = unit, r.Experiment, job
	vars["hours_elapsed"], vars["action_count"] = hours, float64(r.actionCount)
	rnd := r.Random
	if rnd == nil {
		rnd = rand.Float64
	}
	return Scope{Vars: vars, Unit: unit, Experiment: r.Experiment, Job: job, Hours: hours, Values: r.Values, Random: rnd}
}

// assigned reports whether unit is still an active worker of the experiment.
func (r *Run) assigned(ctx context.Context, unit string) bool {
	ws, err := r.Cluster.Workers(ctx, r.Experiment)
	if err != nil {
		r.Log.Warn("could not read the experiment's workers; assuming "+unit+" is still assigned", "err", err)
		return true
	}
	for _, w := range ws {
		if w.Unit == unit {
			return true
		}
	}
	return false
}

func (r *Run) cond(ctx context.Context, c Cond, s Scope) (bool, error) {
	if !c.Set {
		return true, nil
	}
	if c.Expr == nil {
		return c.Lit, nil
	}
	return c.Expr.EvalBool(ctx, s)
}

func (r *Run) basic(ctx context.Context, at time.Time, unit, job string, a *Action) {
	r.actionCount++
	rec := Record{Unit: unit, Job: job, Type: a.Type, Scheduled: at, Performed: r.Clock.Now()}
	defer func() {
		if r.OnRecord != nil {
			r.OnRecord(rec)
		}
	}()
	r.progress()
	if !r.assigned(ctx, unit) {
		rec.Skipped = "unit left the experiment"
		r.Log.Debug(fmt.Sprintf("%s is no longer assigned to %s: skipping %s of %s.", unit, r.Experiment, a.Type, job))
		return
	}
	ok, err := r.cond(ctx, a.If, r.scope(unit, job))
	if err != nil {
		rec.Err = err.Error()
		r.Log.Error(fmt.Sprintf("Error in action: %s of %s on %s: if: %v", a.Type, job, unit, err))
		return
	}
	if !ok {
		rec.Skipped = "if is false"
		r.Log.Debug(fmt.Sprintf("Skipping %s of %s on %s: its if is false.", a.Type, job, unit))
		return
	}
	if err := r.perform(ctx, unit, job, a); err != nil {
		rec.Err = err.Error()
		r.Log.Error(fmt.Sprintf("Error in action: %s of %s on %s: %v", a.Type, job, unit, err))
	}
}

// evalFields evaluates option values: a ${{ }} value is replaced by its result (nil when it
// fails, as the original did), anything else passes as written.
func (r *Run) evalFields(ctx context.Context, fs []Field, s Scope) []Field {
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = f
		if f.Expr == nil {
			if src, wrapped := stringWrapped(f.Value); wrapped {
				r.Log.Warn(fmt.Sprintf("option %s: %q is not a valid expression; sending no value", f.Key, src))
				out[i].Value = nil
			}
			continue
		}
		v, err := f.Expr.Eval(ctx, s)
		if err != nil {
			r.Log.Error(fmt.Sprintf("Error in action: option %s: %v", f.Key, err))
			v = nil
		}
		out[i].Value = v
	}
	return out
}

func stringWrapped(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	return Unwrap(s)
}

func optionMap(fs []Field) map[string]any {
	m := make(map[string]any, len(fs))
	for _, f := range fs {
		m[f.Key] = f.Value
	}
	return m
}

var ledOff = map[string]any{"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}

func (r *Run) perform(ctx context.Context, unit, job string, a *Action) error {
	s := r.scope(unit, job)
	switch a.Type {
	case Log:
		return r.logAction(ctx, unit, a, s)
	case Start:
		opts := r.evalFields(ctx, a.Options, s)
		overrides := r.evalFields(ctx, a.Overrides, s)
		req := contract.RunRequest{Options: optionMap(opts), Args: append([]string{}, a.Args...),
			Env: map[string]string{"JOB_SOURCE": r.Source}, ConfigOverrides: [][3]string{}}
		for _, f := range overrides {
			req.ConfigOverrides = append(req.ConfigOverrides, [3]string{job + ".config", f.Key, pyString(f.Value)})
		}
		return r.startJob(ctx, unit, job, req)
	case Stop:
		if job == "led_intensity" {
			return r.startJob(ctx, unit, job, ledRequest(ledOff, r.Source))
		}
		if r.DryRun {
			r.Log.Info(fmt.Sprintf("Dry-run: stop %s on %s.", job, unit))
			return nil
		}
		return r.Cluster.Stop(ctx, unit, job, r.Experiment)
	case Pause, Resume:
		if job == "led_intensity" {
			return r.startJob(ctx, unit, job, ledRequest(ledOff, r.Source))
		}
		state := "sleeping"
		if a.Type == Resume {
			state = "ready"
		}
		if r.DryRun {
			r.Log.Info(fmt.Sprintf("Dry-run: %s %s on %s.", a.Type, job, unit))
			return nil
		}
		if !r.running(ctx, unit, job) {
			return nil
		}
		return r.Cluster.Update(ctx, unit, job, r.Experiment, "$state", state)
	case Update:
		if job == "led_intensity" {
			return r.startJob(ctx, unit, job, ledRequest(optionMap(r.evalFields(ctx, a.Options, s)), r.Source))
		}
		if r.DryRun {
			r.Log.Info(fmt.Sprintf("Dry-run: update %s on %s with %s.", job, unit, Format(optionMap(a.Options))))
			return nil
		}
		if !r.running(ctx, unit, job) {
			return nil
		}
		for _, f := range r.evalFields(ctx, a.Options, s) {
			if err := r.Cluster.Update(ctx, unit, job, r.Experiment, f.Key, f.Value); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown action %s", a.Type)
}

func ledRequest(opts map[string]any, source string) contract.RunRequest {
	return contract.RunRequest{Options: maps.Clone(opts), Args: []string{}, Env: map[string]string{"JOB_SOURCE": source}, ConfigOverrides: [][3]string{}}
}

func (r *Run) startJob(ctx context.Context, unit, job string, req contract.RunRequest) error {
	if r.DryRun {
		r.Log.Info(fmt.Sprintf("Dry-run: start %s on %s with options %s, args %s, config overrides %s.", job, unit,
			Format(req.Options), Format(req.Args), Format(req.ConfigOverrides)))
		return nil
	}
	if err := r.Cluster.Start(ctx, unit, job, r.Experiment, req); err != nil {
		//lint:ignore ST1005 the original's wording, which reaches the experiment's log as is
		return fmt.Errorf("Failed to start `%s` on %s. %w", job, unit, err)
	}
	return nil
}

// running: a failed check counts as running, so the action is tried rather than lost.
func (r *Run) running(ctx context.Context, unit, job string) bool {
	ok, err := r.Cluster.Running(ctx, unit, job)
	if err != nil {
		r.Log.Debug("could not tell whether "+job+" runs on "+unit, "err", err)
		return true
	}
	if !ok {
		r.Log.Debug(fmt.Sprintf("%s is not running on %s: nothing to change.", job, unit))
	}
	return ok
}

func (r *Run) logAction(ctx context.Context, unit string, a *Action, s Scope) error {
	f, _ := a.Option("message")
	msg, _ := f.Value.(string)
	msg = embedded.ReplaceAllStringFunc(msg, func(m string) string {
		src := strings.TrimSpace(embedded.FindStringSubmatch(m)[1])
		e, err := Parse(src)
		if err != nil {
			return m
		}
		v, err := e.Eval(ctx, s)
		if err != nil {
			r.Log.Error(fmt.Sprintf("Error in action: log message %q: %v", src, err))
			return m
		}
		return Format(v)
	})
	level := "NOTICE"
	if l, ok := a.Option("level"); ok {
		if ls, ok := l.Value.(string); ok {
			level = strings.ToUpper(ls)
		}
	}
	return r.Cluster.Log(ctx, unit, r.Experiment, LogLine{Message: msg, Level: level, Source: r.Source, At: r.Clock.Now()})
}

// pyString renders a config override value as Python's str() did.
func pyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return fmt.Sprint(x)
	}
	return Format(v)
}

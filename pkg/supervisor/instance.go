package supervisor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

const (
	// startGrace is how long StartJob waits for `ready` before answering that the job runs
	// (the reference's 1 s start-up grace window).
	startGrace = time.Second
	// stopWait bounds the wait for a job to return after a stop request; after it the
	// supervisor finishes the job itself, so a stuck job cannot hold the daemon's shutdown.
	// It also bounds the wait for a job's helper goroutines once its Run returned.
	stopWait = 2 * time.Second
	// connectTimeout bounds a job's connect to the broker (on top of the request's ctx): a
	// frozen broker or a client id it never accepts fails the start instead of hanging it.
	connectTimeout = 10 * time.Second
	// maxLiquidStartDelay is how late, in wall time after the request, a job that moves
	// liquid may still start: a dose asked for during an outage is refused, not run later.
	maxLiquidStartDelay = 5 * time.Second
)

// instance is one running job.
type instance struct {
	spec   Spec
	job    Job
	rt     *Runtime
	source string
	cancel context.CancelFunc // set before the instance is visible in Supervisor.running
	done   chan struct{}      // closed when the job is finished
	// launched closes when launch returns: from then on the instance is running or finished,
	// and only then may stopAndWait finish it itself.
	launched chan struct{}
	err      error // why Run ended, set before done closes
	once     sync.Once
	sup      *Supervisor
	key      string // key in Supervisor.running: the job name, or a unique key for an action
}

// StartJob starts a job and returns once it is ready, has failed, or the start grace passed.
func (s *Supervisor) StartJob(ctx context.Context, name string, req contract.RunRequest) error {
	spec, ok := s.specs[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownJob, name)
	}
	select {
	case <-s.started:
	case <-ctx.Done():
		return ctx.Err()
	}
	exp, err := s.experimentFor(spec, req.Env)
	if err != nil {
		return err
	}
	if req.Env["ACTIVE"] == "0" && !spec.LongRunning {
		return fmt.Errorf("%w: %s", ErrInactive, s.cfg.Unit)
	}
	job, err := spec.New(Options{Values: req.Options, Args: req.Args, Config: s.cfg.Conf.With(req.ConfigOverrides), Unit: s.cfg.Unit, Experiment: exp,
		Model: s.model(req.Env)})
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	in, err := s.launch(ctx, spec, job, exp, req.Env["JOB_SOURCE"])
	if err != nil {
		return err
	}
	grace, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.cfg.Clock.Sleep(grace, startGrace); cancel() }()
	select {
	case <-in.rt.readyCh:
		return nil
	case <-in.done:
		return in.err
	case <-grace.Done():
		return nil
	}
}

func (s *Supervisor) experimentFor(spec Spec, env map[string]string) (string, error) {
	if spec.LongRunning {
		return contract.UniversalExp, nil
	}
	if exp := env["EXPERIMENT"]; exp != "" {
		return exp, nil
	}
	if exp := s.Experiment(); exp != "" {
		return exp, nil
	}
	return "", fmt.Errorf("%w: %s is not assigned to an experiment and the request names none", ErrNoExperiment, s.cfg.Unit)
}

// launch registers the job, connects it with its last will, publishes init and starts it.
//
// The instance is stoppable from the moment it reserves its name: its cancel func exists
// before anyone can see it, a stop cancels the connect, and launch itself then abandons the
// start (registry row ended, name freed, connection closed), so a stop during a start never
// meets a half-built instance.
func (s *Supervisor) launch(ctx context.Context, spec Spec, job Job, exp, source string) (*instance, error) {
	requested := time.Now() // wall time: how late a pump may start is a real-world matter
	log := s.cfg.Log.With("unit", s.cfg.Unit, "experiment", exp, "job", spec.Name)
	if source == "" {
		source = "user"
	}
	jobCtx, cancel := context.WithCancel(s.base)
	rt := &Runtime{unit: s.cfg.Unit, experiment: exp, job: spec.Name, clock: s.cfg.Clock, log: log,
		registry: s.cfg.Registry, board: s.cfg.Board, pwms: s.pwms, hooks: job, stop: cancel,
		readyCh: make(chan struct{}), state: Disconnected, requested: requested, movesLiquid: movesLiquid(spec.Name),
		settings: map[string]*declared{"state": {Setting: Setting{Name: "state", Datatype: contract.String, Settable: true, Persist: true}}}}
	rt.inbox = newInbox(rt)
	in := &instance{spec: spec, job: job, rt: rt, source: source, cancel: cancel, done: make(chan struct{}),
		launched: make(chan struct{}), sup: s}
	defer close(in.launched)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return nil, ErrShuttingDown
	}
	in.key = s.runningKey(spec)
	if other, busy := s.running[in.key]; busy {
		s.mu.Unlock()
		cancel()
		log.Warn(fmt.Sprintf("%s is already running (job_id=%d). Skipping.", spec.Name, other.jobID()))
		return nil, fmt.Errorf("%w: %s", ErrAlreadyRunning, spec.Name)
	}
	s.running[in.key] = in // reserve the name while connecting
	s.mu.Unlock()

	longRunning := 0
	if spec.LongRunning {
		longRunning = 1
	}
	id, err := s.cfg.Registry.Add(contract.JobRow{Unit: s.cfg.Unit, Experiment: exp, JobName: spec.Name,
		JobSource: source, StartedAt: contract.FormatTime(s.cfg.Clock.Now()), IsRunning: 1,
		Leader: s.cfg.Leader, IsLongRunningJob: longRunning})
	if err != nil {
		in.finish(err)
		return nil, fmt.Errorf("register %s: %w", spec.Name, err)
	}
	s.mu.Lock()
	rt.jobID = id // under s.mu: StopJobs filters on it
	s.mu.Unlock()

	conn, err := s.dial(ctx, jobCtx, rt, spec, exp)
	if err == nil {
		rt.conn = conn
		err = rt.moveTo(ctx, Init)
	}
	if err == nil {
		err = rt.startLate()
	}
	if err == nil && jobCtx.Err() != nil {
		err = fmt.Errorf("%w: %s was stopped while it connected", ErrStartAborted, spec.Name)
	}
	if err != nil {
		in.finish(err)
		return nil, err
	}
	go in.run(jobCtx)
	return in, nil
}

// dial connects the job within the request's ctx and the connect timeout; a stop (jobCtx)
// cancels it. A job that moves liquid gets only maxLiquidStartDelay.
func (s *Supervisor) dial(ctx, jobCtx context.Context, rt *Runtime, spec Spec, exp string) (pubsub.Client, error) {
	timeout := connectTimeout
	if rt.movesLiquid {
		timeout = maxLiquidStartDelay
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer context.AfterFunc(jobCtx, cancel)()
	will := &pubsub.Will{Topic: contract.JobTopic(s.cfg.Unit, exp, spec.Name, contract.StateAttr), Payload: []byte(Lost), QoS: pubsub.ExactlyOnce, Retain: true}
	conn, err := s.cfg.Dialer.Dial(dctx, pubsub.Options{
		ClientID: fmt.Sprintf("%s-sub-%s-%s-%s", spec.Name, s.cfg.Unit, exp, pubsub.ClientSuffix()), Will: will,
		KeepAlive: 125 * time.Second, OnReconnect: rt.republish})
	if conn == nil {
		s.abandon(will.Topic) // its will may still fire (abandoned.go)
	} else {
		s.connected(will.Topic)
	}
	switch {
	case jobCtx.Err() != nil:
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("%w: %s was stopped while it connected", ErrStartAborted, spec.Name)
	case err != nil && rt.movesLiquid && time.Since(rt.requested) >= maxLiquidStartDelay:
		return nil, fmt.Errorf("%w: %s could not connect within %v: %w", ErrLateStart, spec.Name, maxLiquidStartDelay, err)
	case err != nil:
		return nil, fmt.Errorf("connect %s: %w", spec.Name, err)
	}
	return conn, nil
}

// startLate refuses to go on with a job that moves liquid once maxLiquidStartDelay of wall
// time has passed since the request: a dose asked for during a broker outage is not run
// when the broker comes back.
func (rt *Runtime) startLate() error {
	if late := time.Since(rt.requested); rt.movesLiquid && late > maxLiquidStartDelay {
		return fmt.Errorf("%w: %s would start %v after it was asked for (limit %v)", ErrLateStart, rt.job, late.Round(time.Millisecond), maxLiquidStartDelay)
	}
	return nil
}

// movesLiquid tells the jobs that drive a pump directly (the dosing actions and anything
// named for a pump or PWM output), the first group of the stop order.
func movesLiquid(job string) bool { return stopPriority(job) == 1 }

func (in *instance) jobID() int64 { return in.rt.jobID }

// run executes the job; whatever happens inside, the job is finished afterwards.
func (in *instance) run(ctx context.Context) {
	err := in.safeRun(ctx)
	switch {
	case err == nil:
	case stoppedBy(ctx, err):
		// The job saw its own stop (a shutdown, a DELETE) mid-call: not a failure, and a
		// clean shutdown must log no ERROR.
		in.rt.log.Debug("job ended by its stop", "err", err)
	default:
		in.rt.log.Error(err.Error())
	}
	in.cancel() // helpers started with Runtime.Go watch the job's ctx
	in.rt.joinHelpers(stopWait)
	in.finish(err)
}

// stoppedBy reports whether err is ctx's own cancellation after ctx ended: what a job
// returns when its stop interrupts a subscribe, a read or a sleep.
func stoppedBy(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

func (in *instance) safeRun(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			in.rt.log.Error("job panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("%s crashed: %v", in.spec.Name, p)
		}
	}()
	return in.job.Run(ctx, in.rt)
}

// finish leaves the hardware safe, publishes `disconnected`, clears non-persistent settings,
// ends the registry row and closes the connection. Each step runs even if an earlier failed.
// An instance whose start failed has no connection (nothing to publish) or no registry row
// yet; those steps are skipped.
func (in *instance) finish(cause error) {
	in.once.Do(func() {
		rt := in.rt
		ctx := context.Background()
		in.cancel()
		rt.releasePWMs()
		rt.mu.Lock()
		rt.stopping = true
		rt.mu.Unlock()
		rt.inbox.close()
		if rt.conn != nil {
			if err := rt.moveTo(ctx, Disconnected); err != nil {
				rt.log.Debug("publish disconnected", "err", err)
			}
			for _, name := range rt.toClear() {
				if err := rt.clear(ctx, name); err != nil {
					rt.log.Debug("clear setting", "setting", name, "err", err)
				}
			}
		}
		if rt.jobID != 0 {
			if err := rt.registry.End(rt.jobID, contract.FormatTime(rt.clock.Now())); err != nil {
				rt.log.Debug("end registry row", "err", err)
			}
		}
		if rt.conn != nil {
			rt.conn.Close()
		}
		in.err = cause
		in.sup.forget(in)
		close(in.done)
	})
}

// stopAndWait requests the stop and waits for the job, finishing it itself if it hangs. A job
// still starting is left to launch, which abandons it once its connect returns (the connect
// is cancelled by the stop and bounded by connectTimeout anyway).
func (in *instance) stopAndWait() {
	in.cancel()
	t := time.NewTimer(stopWait) // wall time: shutdown must end in real seconds at any sim speed
	defer t.Stop()
	select {
	case <-in.done:
		return
	case <-t.C:
	}
	select {
	case <-in.launched:
		in.rt.log.Error("job did not stop in time; finishing it")
		in.finish(nil)
	default:
		in.rt.log.Error("job still starting after a stop; it ends when its connect returns")
	}
}

func (s *Supervisor) forget(in *instance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[in.key] == in {
		delete(s.running, in.key)
	}
}

// toClear lists the non-persistent settings that hold a value, in declaration order.
func (rt *Runtime) toClear() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []string
	for _, name := range rt.order {
		if d := rt.settings[name]; !d.Persist && d.set && d.value != nil {
			out = append(out, name)
		}
	}
	return out
}

// republish re-sends every setting with a value after a reconnect (docs/mqtt.md, "Reconnects").
func (rt *Runtime) republish() {
	rt.log.Info("Sub client reconnected to the MQTT broker on leader.")
	for name, v := range rt.Values() {
		if err := rt.publishSetting(context.Background(), name, v); err != nil {
			rt.log.Debug("republish", "setting", name, "err", err)
		}
	}
}

// model is the unit's model for a job started with env: the request's, else the unit's own.
func (s *Supervisor) model(env map[string]string) contract.Model {
	if m := contract.ModelFromEnv(env); m.Known() {
		return m
	}
	if s.cfg.Model != nil {
		return s.cfg.Model()
	}
	return contract.Model{}
}

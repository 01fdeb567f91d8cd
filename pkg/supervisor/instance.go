package supervisor

import (
	"context"
	"crypto/rand"
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
	stopWait = 2 * time.Second
)

// instance is one running job.
type instance struct {
	spec   Spec
	job    Job
	rt     *Runtime
	source string
	cancel context.CancelFunc
	done   chan struct{} // closed when the job is finished
	err    error         // why Run ended, set before done closes
	once   sync.Once
	sup    *Supervisor
	key    string // key in Supervisor.running: the job name, or a unique key for an action
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
	job, err := spec.New(Options{Values: req.Options, Config: s.cfg.Conf.With(req.ConfigOverrides), Unit: s.cfg.Unit, Experiment: exp})
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
func (s *Supervisor) launch(ctx context.Context, spec Spec, job Job, exp, source string) (*instance, error) {
	log := s.cfg.Log.With("unit", s.cfg.Unit, "experiment", exp, "job", spec.Name)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrShuttingDown
	}
	key := s.runningKey(spec)
	if other, busy := s.running[key]; busy {
		s.mu.Unlock()
		log.Warn(fmt.Sprintf("%s is already running (job_id=%d). Skipping.", spec.Name, other.rt.jobID))
		return nil, fmt.Errorf("%w: %s", ErrAlreadyRunning, spec.Name)
	}
	in := &instance{spec: spec, job: job, source: source, done: make(chan struct{}), sup: s, key: key}
	s.running[key] = in // reserve the name while connecting
	s.mu.Unlock()

	if source == "" {
		source = "user"
	}
	in.source = source
	longRunning := 0
	if spec.LongRunning {
		longRunning = 1
	}
	id, err := s.cfg.Registry.Add(contract.JobRow{Unit: s.cfg.Unit, Experiment: exp, JobName: spec.Name,
		JobSource: source, StartedAt: contract.FormatTime(s.cfg.Clock.Now()), IsRunning: 1,
		Leader: s.cfg.Leader, IsLongRunningJob: longRunning})
	if err != nil {
		s.forget(in)
		return nil, fmt.Errorf("register %s: %w", spec.Name, err)
	}
	will := &pubsub.Will{Topic: contract.JobTopic(s.cfg.Unit, exp, spec.Name, contract.StateAttr), Payload: []byte(Lost), QoS: pubsub.ExactlyOnce, Retain: true}
	rt := &Runtime{unit: s.cfg.Unit, experiment: exp, job: spec.Name, jobID: id, clock: s.cfg.Clock, log: log,
		registry: s.cfg.Registry, board: s.cfg.Board, pwms: s.pwms, hooks: job,
		commands: make(chan command, 64), readyCh: make(chan struct{}), state: Disconnected,
		settings: map[string]*declared{"state": {Setting: Setting{Name: "state", Datatype: contract.String, Settable: true, Persist: true}}}}
	in.rt = rt
	conn, err := s.cfg.Dialer.Dial(ctx, pubsub.Options{
		ClientID: fmt.Sprintf("%s-sub-%s-%s-%s", spec.Name, s.cfg.Unit, exp, suffix()), Will: will,
		KeepAlive: 125 * time.Second, OnReconnect: rt.republish})
	if err != nil {
		_ = s.cfg.Registry.End(id, contract.FormatTime(s.cfg.Clock.Now()))
		s.forget(in)
		return nil, fmt.Errorf("connect %s: %w", spec.Name, err)
	}
	rt.conn = conn
	jobCtx, cancel := context.WithCancel(s.base)
	in.cancel = cancel
	rt.stop = cancel
	if err := rt.moveTo(ctx, Init); err != nil {
		in.finish(err)
		return nil, err
	}
	go in.run(jobCtx)
	return in, nil
}

// run executes the job; whatever happens inside, the job is finished afterwards.
func (in *instance) run(ctx context.Context) {
	err := in.safeRun(ctx)
	if err != nil {
		in.rt.log.Error(err.Error())
	}
	in.finish(err)
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
func (in *instance) finish(cause error) {
	in.once.Do(func() {
		rt := in.rt
		ctx := context.Background()
		rt.releasePWMs()
		rt.mu.Lock()
		rt.stopping = true
		rt.mu.Unlock()
		if err := rt.moveTo(ctx, Disconnected); err != nil {
			rt.log.Debug("publish disconnected", "err", err)
		}
		for _, name := range rt.toClear() {
			if err := rt.clear(ctx, name); err != nil {
				rt.log.Debug("clear setting", "setting", name, "err", err)
			}
		}
		if err := rt.registry.End(rt.jobID, contract.FormatTime(rt.clock.Now())); err != nil {
			rt.log.Debug("end registry row", "err", err)
		}
		rt.conn.Close()
		in.err = cause
		in.sup.forget(in)
		close(in.done)
	})
}

// stopAndWait requests the stop and waits for the job, finishing it itself if it hangs.
func (in *instance) stopAndWait() {
	in.cancel()
	t := time.NewTimer(stopWait) // wall time: shutdown must end in real seconds at any sim speed
	defer t.Stop()
	select {
	case <-in.done:
	case <-t.C:
		in.rt.log.Error("job did not stop in time; finishing it")
		in.finish(nil)
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

// republish re-sends every setting with a value after a reconnect (spec/mqtt.md §3.6).
func (rt *Runtime) republish() {
	rt.log.Info("Sub client reconnected to the MQTT broker on leader.")
	for name, v := range rt.Values() {
		if err := rt.publishSetting(context.Background(), name, v); err != nil {
			rt.log.Debug("republish", "setting", name, "err", err)
		}
	}
}

// suffix is the 4 random characters of a client id (spec/mqtt.md §1).
func suffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

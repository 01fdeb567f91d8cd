package supervisor

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// testJob declares a float `speed` (settable), a read-only `status` and a persistent `note`,
// drives PWM channel 1, and can panic on request.
type testJob struct {
	rt            *Runtime
	panicOnTick   bool
	sleeps, wakes int
	mu            sync.Mutex
	failInit      error
	hangUntil     chan struct{} // if set, Run ignores cancellation until this closes
}

func (j *testJob) Run(ctx context.Context, rt *Runtime) error {
	j.rt = rt
	if err := rt.Declare(
		Setting{Name: "speed", Datatype: contract.Float, Unit: "RPM", Settable: true},
		Setting{Name: "status", Datatype: contract.String},
		Setting{Name: "note", Datatype: contract.String, Settable: true, Persist: true},
	); err != nil {
		return err
	}
	if j.failInit != nil {
		return j.failInit
	}
	pwm, err := rt.PWM("1")
	if err != nil {
		return err
	}
	if err := pwm.SetDutyCycle(40); err != nil {
		return err
	}
	for name, v := range map[string]any{"speed": 400.0, "status": "ok", "note": "kept"} {
		if err := rt.Set(ctx, name, v); err != nil {
			return err
		}
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	tick := rt.Clock().NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if j.hangUntil != nil {
				<-j.hangUntil // a job that does not honour its context
			}
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-tick.C():
			if j.panicOnTick {
				panic("boom")
			}
		}
	}
}

func (j *testJob) Sleep(context.Context) error { j.mu.Lock(); j.sleeps++; j.mu.Unlock(); return nil }
func (j *testJob) Wake(context.Context) error  { j.mu.Lock(); j.wakes++; j.mu.Unlock(); return nil }

func specOf(name string, j *testJob) Spec {
	return Spec{Name: name, New: func(Options) (Job, error) { return j, nil }}
}

func TestLifecycleStartSetStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		job := &testJob{}
		r := newRig(t, specOf("stirring", job))
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := r.retained("stirring", "speed"); got != "400.0" {
			t.Fatalf("speed retained %q, want 400.0", got)
		}
		r.set("stirring", "speed", "600")
		synctest.Wait()
		if got := r.retained("stirring", "speed"); got != "600.0" {
			t.Fatalf("speed after /set %q, want 600.0", got)
		}
		if !r.logs.has("Updated speed from 400.0 RPM to 600.0 RPM.") {
			t.Error("no Updated log line")
		}
		r.set("stirring", "speed", "abc")
		r.set("stirring", "status", "x")
		synctest.Wait()
		if got := r.retained("stirring", "speed"); got != "600.0" {
			t.Fatalf("malformed /set changed speed to %q", got)
		}
		if !r.logs.has("could not convert string to float") || !r.logs.has("`status` is read-only") {
			t.Errorf("missing error/read-only log lines: %v", r.logs.msgs)
		}
		r.set("stirring", "$state", "sleeping")
		synctest.Wait()
		r.set("stirring", "$state", "ready")
		synctest.Wait()
		if job.sleeps != 1 || job.wakes != 1 {
			t.Fatalf("hooks: %d sleeps, %d wakes", job.sleeps, job.wakes)
		}
		r.set("stirring", "$state", "init")
		synctest.Wait()
		if got := r.retained("stirring", "$state"); got != "ready" {
			t.Fatalf("illegal transition to init applied: state %q", got)
		}
		if n, err := r.sup.StopJobs(context.Background(), contract.StopFilter{JobName: "stirring"}); n != 1 || err != nil {
			t.Fatalf("StopJobs = %d, %v", n, err)
		}
		synctest.Wait()
		want := []string{"stirring=init", "stirring=ready", "stirring=sleeping", "stirring=ready", "stirring=disconnected"}
		if got := r.drain(); !reflect.DeepEqual(got, want) {
			t.Fatalf("states %v, want %v", got, want)
		}
		for attr, want := range map[string]string{"$state": "disconnected", "speed": "", "status": "", "note": "kept"} {
			if got := r.retained("stirring", attr); got != want {
				t.Errorf("after stop %s = %q, want %q", attr, got, want)
			}
		}
		if r.pwm.get() != 0 {
			t.Errorf("PWM left at %v", r.pwm.get())
		}
		if rows, _ := r.sup.Running(); len(rows) != 0 {
			t.Errorf("registry still running: %v", rows)
		}
	})
}

func TestDisconnectViaMQTT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, specOf("stirring", &testJob{}))
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		r.set("stirring", "$state", "disconnected")
		synctest.Wait()
		if got := r.retained("stirring", "$state"); got != "disconnected" {
			t.Fatalf("state %q", got)
		}
		if err := r.start("stirring"); err != nil {
			t.Fatalf("restart after stop: %v", err)
		}
	})
}

func TestPanicLeavesHardwareSafe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, specOf("od_reading", &testJob{panicOnTick: true}), Spec{Name: "monitor", New: func(Options) (Job, error) { return &noPWMJob{}, nil }})
		defer r.shutdown()
		if err := r.start("od_reading"); err != nil {
			t.Fatal(err)
		}
		if err := r.start("monitor"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := r.retained("od_reading", "$state"); got != "disconnected" {
			t.Fatalf("state after panic %q", got)
		}
		if r.pwm.get() != 0 {
			t.Fatalf("PWM left at %v after panic", r.pwm.get())
		}
		if !r.logs.has("job panicked") {
			t.Error("panic not logged")
		}
		if got := r.retained("monitor", "$state"); got != "ready" {
			t.Fatalf("other job disturbed: %q", got)
		}
	})
}

type noPWMJob struct{}

func (noPWMJob) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	return rt.Serve(ctx)
}

func TestStartRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("no hardware")
		r := newRig(t, specOf("stirring", &testJob{}), specOf("bad", &testJob{failInit: boom}))
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			job  string
			env  map[string]string
			want error
		}{
			{"stirring", map[string]string{"EXPERIMENT": "exp"}, ErrAlreadyRunning},
			{"nope", map[string]string{"EXPERIMENT": "exp"}, ErrUnknownJob},
			{"bad", map[string]string{"EXPERIMENT": "exp", "ACTIVE": "0"}, ErrInactive},
			{"bad", nil, ErrNoExperiment},
			{"bad", map[string]string{"EXPERIMENT": "exp"}, boom},
		} {
			err := r.sup.StartJob(context.Background(), tc.job, contract.RunRequest{Env: tc.env})
			if !errors.Is(err, tc.want) {
				t.Errorf("start %s %v: %v, want %v", tc.job, tc.env, err, tc.want)
			}
		}
		synctest.Wait()
		if got := r.retained("bad", "$state"); got != "disconnected" {
			t.Errorf("failed init left state %q", got)
		}
		if !r.logs.has("stirring is already running (job_id=1). Skipping.") {
			t.Error("no duplicate warning")
		}
	})
}

func TestShutdownStopsInSafeOrderAndHungJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		r := newRig(t,
			Spec{Name: "monitor", LongRunning: true, New: func(Options) (Job, error) { return &noPWMJob{}, nil }},
			Spec{Name: "dosing_automation", New: func(Options) (Job, error) { return &noPWMJob{}, nil }},
			Spec{Name: "temperature_automation", New: func(Options) (Job, error) { return &noPWMJob{}, nil }},
			specOf("add_media", &testJob{hangUntil: release}),
		)
		defer close(release)
		for _, j := range []string{"monitor", "dosing_automation", "temperature_automation", "add_media"} {
			if err := r.start(j); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		r.drain()
		r.shutdown()
		var got []string
		for _, s := range r.drain() {
			if s[len(s)-len("disconnected"):] == "disconnected" {
				got = append(got, s)
			}
		}
		want := []string{"add_media=disconnected", "temperature_automation=disconnected", "dosing_automation=disconnected", "monitor=disconnected"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("stop order %v, want %v", got, want)
		}
		if r.pwm.get() != 0 {
			t.Fatal("hung pump job left its PWM on")
		}
	})
}

func TestLastWillOnCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, specOf("stirring", &testJob{}))
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		r.sup.mu.Lock()
		conn := r.sup.running["stirring"].rt.conn
		r.sup.mu.Unlock()
		r.bus.Crash(conn)
		synctest.Wait()
		if got := r.retained("stirring", "$state"); got != "lost" {
			t.Fatalf("state after crash %q, want lost", got)
		}
	})
}

func TestSettingValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s  Setting
		ok bool
	}{
		{Setting{Name: "a_b1", Datatype: contract.Float}, true},
		{Setting{Name: "_a", Datatype: contract.Float}, false},
		{Setting{Name: "a__b", Datatype: contract.Float}, false},
		{Setting{Name: "some--!4key", Datatype: contract.Float}, false},
		{Setting{Name: "x", Datatype: "units"}, false},
		{Setting{Name: "x", Datatype: contract.TypeMeasuredRPM, Settable: true}, false},
	} {
		if err := tc.s.validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.s, err)
		}
	}
}

// goPanicJob panics on a helper goroutine started with rt.Go.
type goPanicJob struct{}

func (goPanicJob) Run(ctx context.Context, rt *Runtime) error {
	pwm, err := rt.PWM("1")
	if err != nil {
		return err
	}
	if err := pwm.SetDutyCycle(70); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	rt.Go(func() {
		_ = rt.Clock().Sleep(ctx, time.Second)
		panic("helper bug")
	})
	return rt.Serve(ctx)
}

func TestPanicOnJobGoroutineStopsOnlyThatJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, Spec{Name: "add_media", New: func(Options) (Job, error) { return goPanicJob{}, nil }},
			Spec{Name: "monitor", New: func(Options) (Job, error) { return &noPWMJob{}, nil }})
		defer r.shutdown()
		for _, j := range []string{"add_media", "monitor"} {
			if err := r.start(j); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := r.retained("add_media", "$state"); got != "disconnected" {
			t.Fatalf("state %q after a helper panic", got)
		}
		if r.pwm.get() != 0 {
			t.Fatalf("pump left at %v", r.pwm.get())
		}
		if got := r.retained("monitor", "$state"); got != "ready" {
			t.Fatalf("other job disturbed: %q", got)
		}
	})
}

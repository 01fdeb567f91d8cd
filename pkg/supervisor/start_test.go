package supervisor

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// A stop that arrives while a job is still connecting aborts the start cleanly: no panic,
// StartJob fails, the registry row ends, the name is free and nothing is left running.
func TestStopDuringStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(r *rig)
	}{
		{"stop by name", func(r *rig) { _, _ = r.sup.StopJobs(context.Background(), contract.StopFilter{JobName: "stirring"}) }},
		{"stop all", func(r *rig) { _, _ = r.sup.StopJobs(context.Background(), contract.StopFilter{All: true}) }},
		{"shutdown", func(r *rig) { r.stop(); <-r.done }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var d *stallDialer
				r := newRigWith(t, rigOptions{dialer: func(b *pubsub.Bus) pubsub.Dialer {
					d = newStallDialer(b)
					d.blocked["stirring-"] = 1
					return d
				}}, specOf("stirring", &testJob{}))
				defer r.shutdown()
				errc := make(chan error, 1)
				go func() { errc <- r.start("stirring") }()
				<-d.entered
				tc.stop(r)
				err := <-errc
				if !errors.Is(err, ErrStartAborted) {
					t.Fatalf("StartJob = %v, want ErrStartAborted", err)
				}
				synctest.Wait()
				if rows, _ := r.reg.Running(); len(rows) != 0 {
					t.Fatalf("registry rows still running: %+v", rows)
				}
				r.sup.mu.Lock()
				n := len(r.sup.running)
				r.sup.mu.Unlock()
				if n != 0 {
					t.Fatalf("%d instances still reserved", n)
				}
				if tc.name != "shutdown" {
					if err := r.start("stirring"); err != nil {
						t.Fatalf("start after the aborted one: %v", err)
					}
				}
			})
		})
	}
}

// A connect that never finishes ends with the request's connect deadline, not never.
func TestDialHasDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var d *stallDialer
		r := newRigWith(t, rigOptions{dialer: func(b *pubsub.Bus) pubsub.Dialer {
			d = newStallDialer(b)
			d.blocked["stirring-"] = 1
			return d
		}}, specOf("stirring", &testJob{}))
		defer r.shutdown()
		t0 := time.Now()
		err := r.start("stirring")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("StartJob = %v, want a deadline error", err)
		}
		if waited := time.Since(t0); waited != connectTimeout {
			t.Errorf("gave up after %v, want %v", waited, connectTimeout)
		}
		if rows, _ := r.reg.Running(); len(rows) != 0 {
			t.Fatalf("registry rows still running: %+v", rows)
		}
	})
}

// A job that moves liquid is not started late: a connect that took longer than
// maxLiquidStartDelay fails the start, and the pump is never switched on.
func TestLateLiquidStartAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRigWith(t, rigOptions{dialer: func(b *pubsub.Bus) pubsub.Dialer {
			d := newStallDialer(b)
			d.delay["add_media-"] = maxLiquidStartDelay + time.Second
			d.delay["stirring-"] = maxLiquidStartDelay + time.Second
			return d
		}}, specOf("add_media", &testJob{}), specOf("stirring", &testJob{}))
		defer r.shutdown()
		if err := r.start("add_media"); !errors.Is(err, ErrLateStart) {
			t.Fatalf("late add_media start = %v, want ErrLateStart", err)
		}
		synctest.Wait()
		if r.pwm.get() != 0 || r.logs.has("Ready.") {
			t.Fatal("late pump job ran")
		}
		if rows, _ := r.reg.Running(); len(rows) != 0 {
			t.Fatalf("registry rows still running: %+v", rows)
		}
		if err := r.start("stirring"); err != nil {
			t.Fatalf("a late start of a job that moves no liquid is fine: %v", err)
		}
	})
}

// Jobs may start before the supervisor's own connection is up; if that connect ends (here
// with the daemon's ctx), Run still stops them.
func TestRunStopsJobsWhenItsConnectFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRigWith(t, rigOptions{dialer: func(b *pubsub.Bus) pubsub.Dialer {
			d := newStallDialer(b)
			d.blocked["supervisor-"] = 1
			return d
		}}, specOf("stirring", &testJob{}))
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		r.shutdown()
		if rows, _ := r.reg.Running(); len(rows) != 0 {
			t.Fatalf("jobs left running after Run returned: %+v", rows)
		}
		if r.pwm.get() != 0 {
			t.Fatalf("PWM left at %v", r.pwm.get())
		}
	})
}

// A start abandoned while connecting may leave its last will with a frozen broker, which
// publishes `lost` when it wakes: the supervisor answers with the truth, `disconnected`.
// A `lost` of a job that did run (a crash) is left alone.
func TestLostOfAbandonedStartCorrected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var d *stallDialer
		r := newRigWith(t, rigOptions{dialer: func(b *pubsub.Bus) pubsub.Dialer {
			d = newStallDialer(b)
			d.blocked["stirring-"] = 1
			return d
		}}, specOf("stirring", &testJob{}), specOf("od_reading", &testJob{}))
		defer r.shutdown()
		if err := r.start("stirring"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("start = %v, want a connect deadline", err)
		}
		for _, job := range []string{"stirring", "od_reading"} { // the broker wakes up
			if err := r.obs.Publish(context.Background(), contract.JobTopic("pio01", "exp", job, contract.StateAttr), []byte("lost"), 2, true); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if got := r.retained("stirring", "$state"); got != "disconnected" {
			t.Errorf("abandoned start left $state %q, want disconnected", got)
		}
		if got := r.retained("od_reading", "$state"); got != "lost" {
			t.Errorf("a lost job not started here became %q", got)
		}
	})
}

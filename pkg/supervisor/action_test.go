package supervisor

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// pulseJob claims PWM channel 1 for a moment, releases it, and then waits to be stopped.
type pulseJob struct {
	release bool
	claimed chan error
}

func (j *pulseJob) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	pwm, err := rt.PWM("1")
	if err == nil {
		err = pwm.SetDutyCycle(100)
	}
	if err == nil && j.release {
		err = rt.ReleasePWM("1")
	}
	j.claimed <- err
	return rt.Serve(ctx)
}

// Actions run side by side (docs/mqtt.md, "Actions"); a plain job stays unique.
func TestActionsRunSideBySide(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		claimed := make(chan error, 4)
		action := Spec{Name: "add_media", Action: true, New: func(Options) (Job, error) { return &pulseJob{release: true, claimed: claimed}, nil }}
		plain := Spec{Name: "stirring", New: func(Options) (Job, error) { return &noPWMJob{}, nil }}
		r := newRig(t, action, plain)
		defer r.shutdown()
		for range 2 {
			if err := r.start("add_media"); err != nil {
				t.Fatal(err)
			}
			if err := <-claimed; err != nil {
				t.Fatalf("second instance could not claim the released channel: %v", err)
			}
		}
		if r.pwm.get() != 0 {
			t.Fatalf("released channel left at %v%%", r.pwm.get())
		}
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		if err := r.start("stirring"); !errors.Is(err, ErrAlreadyRunning) {
			t.Fatalf("second stirring: %v", err)
		}
		if rows, _ := r.sup.Running(); len(rows) != 3 {
			t.Fatalf("registry rows %v, want 2 add_media and 1 stirring", rows)
		}
		// A stop on $experiment reaches every instance of the action.
		if err := r.obs.Publish(context.Background(), contract.SetTopic("pio01", contract.UniversalExp, "add_media", contract.StateAttr), []byte("disconnected"), 1, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		rows, _ := r.sup.Running()
		if len(rows) != 1 || rows[0].JobName != "stirring" {
			t.Fatalf("after the stop: %v", rows)
		}
	})
}

// Without a release the channel stays held, and a second claimant is refused.
func TestPWMHeldUntilReleased(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		claimed := make(chan error, 4)
		spec := Spec{Name: "add_media", Action: true, New: func(Options) (Job, error) { return &pulseJob{claimed: claimed}, nil }}
		r := newRig(t, spec)
		defer r.shutdown()
		for i := range 2 {
			if err := r.start("add_media"); err != nil {
				t.Fatal(err)
			}
			err := <-claimed
			if i == 0 && err != nil || i == 1 && !errors.Is(err, ErrPWMInUse) {
				t.Fatalf("claim %d: %v", i, err)
			}
		}
		if r.pwm.get() != 100 {
			t.Fatalf("held channel at %v%%", r.pwm.get())
		}
	})
}

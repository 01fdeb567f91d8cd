package supervisor

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// cancelJob returns its context's cancellation, wrapped, as a job interrupted mid-call
// does; with early set it returns such an error at once, while nobody stopped it.
type cancelJob struct{ early bool }

func (j cancelJob) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if j.early {
		return fmt.Errorf("read photodiodes: %w", context.Canceled)
	}
	<-ctx.Done()
	return fmt.Errorf("dark reading: read photodiodes: %w", ctx.Err())
}

// A job returning its own cancellation after a stop ended normally: no ERROR (a clean
// shutdown logs none). The same error from a job nobody stopped is still an ERROR.
func TestStoppedJobCancellationIsNotAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, Spec{Name: "od_reading", New: func(Options) (Job, error) { return cancelJob{}, nil }},
			Spec{Name: "broken", New: func(Options) (Job, error) { return cancelJob{early: true}, nil }})
		if err := r.start("od_reading"); err != nil {
			t.Fatal(err)
		}
		if n, err := r.sup.StopJobs(context.Background(), contract.StopFilter{JobName: "od_reading"}); n != 1 || err != nil {
			t.Fatalf("StopJobs = %d, %v", n, err)
		}
		if r.logs.has("ERROR") {
			t.Errorf("ERROR logged for a stopped job: %q", r.logs.msgs)
		}
		if !r.logs.has("DEBUG job ended by its stop") {
			t.Errorf("no debug record of the stop: %q", r.logs.msgs)
		}
		_ = r.start("broken")
		synctest.Wait()
		if !r.logs.has("ERROR read photodiodes: context canceled") {
			t.Errorf("a job failing on its own is not logged at ERROR: %q", r.logs.msgs)
		}
		r.shutdown()
	})
}

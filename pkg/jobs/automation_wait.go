package jobs

import (
	"context"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// A timed run (run_every) that finds the job not ready waits for it, as the reference's
// run_once does: up to runOnceReadyWait, looking every runOnceReadyPoll, applying commands
// meanwhile (a resume ends the wait and the run goes ahead). A timer armed before a pause is
// paused with the job, so its ticks are dropped; one armed while paused (a `duration` /set
// on a sleeping job) is not, and its runs wait.
const (
	runOnceReadyWait = 60 * time.Second
	runOnceReadyPoll = 5 * time.Second
	waitedTooLong    = "Waited too long not being in state ready. Am I stuck? Unpause me? Skipping this run."
)

// onTimedRun is a run_every tick.
func (a *automationBase) onTimedRun(ctx context.Context) {
	if a.rt.State() == supervisor.Sleeping && !a.everyUnpaused {
		return // the timer is paused with the job
	}
	a.runWhenReady(ctx)
}

// runWhenReady waits for `ready`, then runs once; after runOnceReadyWait it gives up with a
// NoEvent saying so.
func (a *automationBase) runWhenReady(ctx context.Context) {
	if a.running {
		a.rt.Log().Debug("automation already running; run dropped")
		return
	}
	for waited := time.Duration(0); a.rt.State() != supervisor.Ready; waited += runOnceReadyPoll {
		if a.rt.State() == supervisor.Disconnected || ctx.Err() != nil {
			return
		}
		if waited >= runOnceReadyWait {
			ev := contract.NewAutomationEvent(contract.NoEvent, waitedTooLong, nil)
			a.rt.Log().Info(ev.EventName + ": " + waitedTooLong)
			if err := a.rt.Set(ctx, "latest_event", *ev); err != nil {
				a.rt.Log().Debug("publish latest_event", "err", err)
			}
			return
		}
		a.running = true // a run asked for meanwhile is dropped, as during a run
		err := a.wait(ctx, runOnceReadyPoll)
		a.running = false
		if err != nil {
			return
		}
	}
	a.runOnce(ctx)
}

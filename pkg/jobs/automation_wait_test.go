package jobs

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

// A paused job's timer is paused: no runs. A `duration` /set while paused arms a timer that
// is not, and its run waits up to 60 s for `ready`: a resume within that runs it, otherwise
// a NoEvent says the run was skipped.
func TestAutomationRunWaitsForReady(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		resumeAt time.Duration // 0: never
		want     string
	}{
		// Runs at 0 and 60 s; paused at 90 s; duration 2 at 100 s: the next run is due at
		// 180 s (2 min after the last) and waits, looking every 5 s; resumed at 197 s, it
		// runs at 200 s.
		{"resumed within a minute", 197 * time.Second, "0 60 200"},
		{"never resumed", 0, "0 60 " + waitedTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newAutoRig(t, sim.DefaultParams(), nil, testAutomationSpec)
				defer r.close()
				start := time.Now()
				r.start("test_automation", map[string]any{"automation_name": "counter", "duration": 1.0})
				at := func(d time.Duration) { time.Sleep(d - time.Since(start)) }
				at(90 * time.Second)
				r.set("test_automation", "$state", "sleeping")
				at(100 * time.Second)
				r.set("test_automation", "duration", "2")
				if tc.resumeAt > 0 {
					at(tc.resumeAt)
					r.set("test_automation", "$state", "ready")
				}
				at(260 * time.Second)
				if got := strings.Join(runTimes(t, r), " "); got != tc.want {
					t.Fatalf("runs %q, want %q", got, tc.want)
				}
			})
		})
	}
}

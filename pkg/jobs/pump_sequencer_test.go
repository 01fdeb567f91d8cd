package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

// The sequencer runs its steps in order and on time: media 0.5 mL (0.5 s at 1 mL/s), a 2 s
// pause, waste 1 mL (0.5 s at 2 mL/s), then media again via the repeated `--media_`.
func TestPumpsSequenceOrderAndTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrate(calibration.MediaPump, 1)
		r.calibrate(calibration.WastePump, 2)
		start := time.Now()
		err := r.sup.StartJob(context.Background(), PumpsJobName, contract.RunRequest{
			Args: []string{"--media", "0.5", "sleep", "2", "waste", "1", "--media_", "0.25"},
			Env:  map[string]string{"EXPERIMENT": "exp"}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		var got []string
		for _, e := range r.events.all() {
			got = append(got, fmt.Sprintf("%s %v @%.2f", e.Event, float64(e.VolumeChange), e.Timestamp.Time().Sub(start).Seconds()))
		}
		want := []string{"add_media 0.5 @0.00", "remove_waste 1 @2.50", "add_media 0.25 @3.00"}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Fatalf("events\n %s\nwant\n %s", strings.Join(got, ", "), strings.Join(want, ", "))
		}
		if s := r.events.all()[0].SourceOfEvent; s == nil || *s != PumpsJobName {
			t.Fatalf("source_of_event %v", s)
		}
	})
}

func TestPumpsArguments(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string // "" for valid
	}{
		{[]string{"media", "1", "--alt-media", "0.5", "waste_", "2", "sleep", "0"}, ""},
		{[]string{"media"}, "got 1"},
		{nil, "got 0"},
		{[]string{"juice", "1"}, "unknown pump"},
		{[]string{"media", "lots"}, "not a number"},
		{[]string{"media", "-1"}, "media"},
		{[]string{"sleep", "-2"}, "sleep"},
	} {
		steps, err := parsePumpSteps(c.args)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.args, err)
		case c.want == "" && len(steps) != len(c.args)/2:
			t.Errorf("%q: %d steps", c.args, len(steps))
		case c.want != "" && (!errors.Is(err, ErrPumpsUsage) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want a usage error with %q", c.args, err, c.want)
		}
	}
}

// Every dose is checked before the first moves: an uncalibrated pump refuses the start.
func TestPumpsRefusesUncalibrated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		r.calibrate(calibration.MediaPump, 1)
		err := r.sup.StartJob(context.Background(), PumpsJobName, contract.RunRequest{
			Args: []string{"media", "0.5", "alt_media", "0.5"}, Env: map[string]string{"EXPERIMENT": "exp"}})
		if !errors.Is(err, ErrNoCalibration) {
			t.Fatalf("start: %v, want no calibration", err)
		}
		time.Sleep(5 * time.Second)
		if n := len(r.events.all()); n != 0 {
			t.Fatalf("%d dosing events", n)
		}
	})
}

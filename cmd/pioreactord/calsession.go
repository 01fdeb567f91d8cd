package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/calibration/session"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// calibrationSource is the JOB_SOURCE of the jobs a guided calibration runs.
const calibrationSource = "calibration"

// jobRig drives a unit's hardware for guided calibrations through its own jobs (pumps,
// stirring, od_reading), so hardware ownership stays with the supervisor; the stir bar's RPM
// is read from the hall sensor while stirring runs open loop.
type jobRig struct {
	sup   *supervisor.Supervisor
	hall  hal.HallSensor // nil: no RPM measurement
	clock clock.Clock
	cals  *calibration.Store // the pumps run at their active calibration's duty cycle
}

var _ session.Rig = (*jobRig)(nil)

var pumpJobs = map[string]string{calibration.MediaPump: "add_media", calibration.AltMediaPump: "add_alt_media", calibration.WastePump: "remove_waste"}

func (r *jobRig) env() map[string]string {
	return map[string]string{"EXPERIMENT": contract.UniversalExp, "JOB_SOURCE": calibrationSource}
}

func (r *jobRig) running(job string) (bool, string, error) {
	rows, err := r.sup.Running()
	if err != nil {
		return false, "", err
	}
	for _, row := range rows {
		if row.JobName == job {
			return true, row.JobSource, nil
		}
	}
	return false, "", nil
}

// RunPump runs the pump's action for seconds and waits, on the unit's clock, until it ended.
func (r *jobRig) RunPump(ctx context.Context, device string, seconds float64) (float64, error) {
	job, ok := pumpJobs[device]
	if !ok {
		return 0, fmt.Errorf("no pump job for %s", device)
	}
	dc := calibration.DefaultPump().DC
	if c, active, err := r.cals.Active(device); err == nil && active {
		dc = c.DC
	}
	if err := r.sup.StartJob(ctx, job, contract.RunRequest{Options: map[string]any{"duration": seconds}, Env: r.env()}); err != nil {
		return 0, err
	}
	deadline := r.clock.Now().Add(time.Duration((seconds + 60) * float64(time.Second)))
	for r.clock.Now().Before(deadline) {
		if busy, _, err := r.running(job); err != nil || !busy {
			return dc, err
		}
		if err := r.clock.Sleep(ctx, 250*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("%s still runs 60 s after it should have stopped", job)
}

// MeasureRPM (re)starts stirring open loop at dc, waits settle, and counts hall edges for
// window seconds (no count with window 0).
func (r *jobRig) MeasureRPM(ctx context.Context, dc, settle, window float64) (float64, error) {
	if r.hall == nil {
		return 0, errors.New("this unit has no hall sensor to measure RPM")
	}
	busy, source, err := r.running("stirring")
	if err != nil {
		return 0, err
	}
	if busy && source != calibrationSource {
		return 0, errors.New("stirring is running: stop it first, the calibration drives the motor itself")
	}
	if busy {
		if _, err := r.sup.StopJobs(ctx, contract.StopFilter{JobName: "stirring", JobSource: calibrationSource}); err != nil {
			return 0, err
		}
	}
	req := contract.RunRequest{Options: map[string]any{"duty_cycle": dc, "use_rpm": false}, Env: r.env()}
	if err := r.sup.StartJob(ctx, "stirring", req); err != nil {
		return 0, err
	}
	if err := r.clock.Sleep(ctx, seconds(settle)); err != nil {
		return 0, err
	}
	if window <= 0 {
		return 0, nil
	}
	edges, err := r.hall.Edges(ctx, seconds(window))
	if err != nil {
		return 0, err
	}
	if len(edges) < 2 {
		return 0, nil // the bar does not turn
	}
	span := edges[len(edges)-1].Sub(edges[0]).Seconds()
	return 60 * float64(len(edges)-1) / span, nil
}

func (r *jobRig) StopStirring(ctx context.Context) error {
	_, err := r.sup.StopJobs(ctx, contract.StopFilter{JobName: "stirring", JobSource: calibrationSource})
	return err
}

// odReadings are how many od_reading snapshots a standard's voltage averages.
const odReadings = 4

// ODVolts averages a few readings of od_reading at intensity: the job the calibration will
// serve produces the numbers it is fitted to. It starts od_reading if it is not running.
func (r *jobRig) ODVolts(ctx context.Context, channel string, intensity float64) (float64, error) {
	busy, source, err := r.running("od_reading")
	if err != nil {
		return 0, err
	}
	if busy && source != calibrationSource {
		return 0, errors.New("od_reading is running: stop it first, the calibration reads the photodiodes itself")
	}
	if !busy {
		req := contract.RunRequest{Options: map[string]any{"ir_led_intensity": intensity, "interval": 5.0}, Env: r.env()}
		if err := r.sup.StartJob(ctx, "od_reading", req); err != nil {
			return 0, err
		}
		// The IR LED goes off while the next standard goes in.
		defer func() {
			_, _ = r.sup.StopJobs(context.WithoutCancel(ctx), contract.StopFilter{JobName: "od_reading", JobSource: calibrationSource})
		}()
	}
	var sum float64
	var seen []string
	for deadline := r.clock.Now().Add(2 * time.Minute); len(seen) < odReadings; {
		if r.clock.Now().After(deadline) {
			return 0, fmt.Errorf("od_reading gave %d readings of channel %s in 2 minutes", len(seen), channel)
		}
		if err := r.clock.Sleep(ctx, time.Second); err != nil {
			return 0, err
		}
		settings, err := r.sup.JobSettings("od_reading")
		if err != nil {
			return 0, err
		}
		raw, ok := settings["raw_od"+channel].(contract.RawODReading)
		if !ok {
			raw, ok = settings["od"+channel].(contract.RawODReading)
		}
		if !ok || (len(seen) > 0 && seen[len(seen)-1] == fmt.Sprint(raw.Timestamp)) {
			continue
		}
		if float64(raw.IRLEDIntensity) != intensity {
			return 0, fmt.Errorf("od_reading reads at %v %% IR, the calibration at %v %%", raw.IRLEDIntensity, intensity)
		}
		seen = append(seen, fmt.Sprint(raw.Timestamp))
		sum += float64(raw.OD)
	}
	return sum / odReadings, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

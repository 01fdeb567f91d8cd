package session

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// truthRig is hardware with known curves: the pump moves rate mL/s, the bar turns
// 25·(dc − 4) RPM, the photodiode reads 0.02 + 0.5·od − 0.03·od² V.
type truthRig struct {
	rate     float64
	pumped   float64 // what the "scale" shows since the last tare
	stirring bool
}

func (r *truthRig) RunPump(_ context.Context, _ string, s float64) (float64, error) {
	r.pumped = r.rate * s
	return 100, nil
}

func (r *truthRig) MeasureRPM(_ context.Context, dc, _, _ float64) (float64, error) {
	r.stirring = true
	return math.Max(0, 25*(dc-4)), nil
}

func (r *truthRig) StopStirring(context.Context) error { r.stirring = false; return nil }

var vialOD float64

func (r *truthRig) ODVolts(context.Context, string, float64) (float64, error) {
	return 0.02 + 0.5*vialOD - 0.03*vialOD*vialOD, nil
}

func newManager(t *testing.T) (*Manager, *calibration.Store, *truthRig) {
	t.Helper()
	cals, err := calibration.Open(filepath.Join(t.TempDir(), "calibrations"))
	if err != nil {
		t.Fatal(err)
	}
	rig := &truthRig{rate: 0.0911}
	return New("pio01", rig, cals, func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }), cals, rig
}

func input(t *testing.T, m *Manager, id string, in map[string]any) View {
	t.Helper()
	v, err := m.Input(context.Background(), id, in)
	if err != nil {
		t.Fatalf("input %v at %s: %v", in, v.Session.StepID, err)
	}
	if v.Session.Status == Failed {
		t.Fatalf("failed: %s", v.Session.Error)
	}
	return v
}

func TestPumpSession(t *testing.T) {
	m, cals, rig := newManager(t)
	v, err := m.Start(calibration.MediaPump, "duration_based")
	if err != nil || v.Step.StepID != "intro" {
		t.Fatal(v, err)
	}
	id := v.Session.SessionID
	v = input(t, m, id, map[string]any{"durations": []any{10.0, 20.0, 30.0}})
	for v.Step.StepID == "run" {
		v = input(t, m, id, nil)
		v = input(t, m, id, map[string]any{"volume_ml": rig.pumped})
	}
	if v.Step.StepID != "review" || v.Step.StepType != Result {
		t.Fatalf("step %+v", v.Step)
	}
	v = input(t, m, id, map[string]any{"save": true, "set_active": true})
	c, active, err := cals.Active(calibration.MediaPump)
	if err != nil || !active || v.Session.Status != Complete {
		t.Fatal(c, active, err, v.Session)
	}
	if got := c.Curve.Coefficients[0]; math.Abs(got-0.0911)/0.0911 > 0.001 {
		t.Errorf("slope %v", got)
	}
	if _, err := m.Input(context.Background(), id, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("input after the end: %v", err)
	}
}

func TestStirringSession(t *testing.T) {
	m, cals, rig := newManager(t)
	v, _ := m.Start("stirring", "dc_based")
	id := v.Session.SessionID
	input(t, m, id, map[string]any{"min_dc": 20.0, "max_dc": 50.0})
	v = input(t, m, id, nil)
	if rig.stirring {
		t.Error("stirring left running")
	}
	c := calibrationOf(&v.Session)
	if len(c.Recorded.X) != 15 {
		t.Errorf("%d points", len(c.Recorded.X))
	}
	for _, dc := range []float64{22, 30, 47} {
		if want, got := 25*(dc-4), c.XToY(dc); math.Abs(got-want)/want > 0.01 {
			t.Errorf("RPM at %g: %v, want %v", dc, got, want)
		}
	}
	input(t, m, id, map[string]any{"save": false})
	if list, _ := cals.List("stirring"); len(list) != 0 {
		t.Errorf("saved though asked not to: %v", list)
	}
}

func TestODSession(t *testing.T) {
	m, cals, _ := newManager(t)
	v, _ := m.Start("od90", "standards")
	id := v.Session.SessionID
	input(t, m, id, map[string]any{"pd_channel": "2", "ir_led_intensity": 80.0})
	if _, err := m.Input(context.Background(), id, map[string]any{"done": true}); !errors.Is(err, ErrBadInput) {
		t.Errorf("done with no standards: %v", err)
	}
	for _, od := range []float64{0, 0.5, 1, 2, 3} {
		vialOD = od
		input(t, m, id, map[string]any{"od600": od})
	}
	v = input(t, m, id, map[string]any{"done": true})
	input(t, m, id, map[string]any{"calibration_name": "od90-standards"})
	c, active, err := cals.Active("od90")
	if err != nil || !active || c.Name != "od90-standards" || c.Angle != "90" || c.PDChannel != "2" {
		t.Fatal(c, active, err)
	}
	for _, od := range []float64{0.1, 0.7, 1.5, 2.8} {
		got, err := c.YToX(0.02+0.5*od-0.03*od*od, true)
		if err != nil || math.Abs(got-od)/od > 0.01 {
			t.Errorf("OD for %g: %v %v", od, got, err)
		}
	}
}

func TestAbortAndBadInputLeaveNoTrace(t *testing.T) {
	m, cals, _ := newManager(t)
	v, _ := m.Start(calibration.WastePump, "duration_based")
	id := v.Session.SessionID
	for _, bad := range []map[string]any{{"durations": "5"}, {"durations": []any{5.0}}, {"durations": []any{-1.0, 2.0}}} {
		got, err := m.Input(context.Background(), id, bad)
		if !errors.Is(err, ErrBadInput) || got.Session.StepID != "intro" || got.Session.Status != InProgress {
			t.Errorf("%v: %v %+v", bad, err, got.Session)
		}
	}
	input(t, m, id, nil)
	v, err := m.Abort(context.Background(), id)
	if err != nil || v.Session.Status != Aborted || v.Step != nil {
		t.Fatal(v, err)
	}
	if entries, _ := os.ReadDir(cals.Dir()); len(entries) != 0 {
		t.Errorf("an aborted session wrote %d entries", len(entries))
	}
	if _, err := m.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := m.Start("od90", "duration_based"); !errors.Is(err, ErrUnknownProtocol) {
		t.Errorf("wrong protocol: %v", err)
	}
	if n := len(m.Protocols()); n != 7 {
		t.Errorf("%d protocols", n)
	}
}

package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/calibration/session"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// halfMLPerSecond is a pump rig moving 0.5 mL/s.
type halfMLPerSecond struct{}

func (halfMLPerSecond) RunPump(context.Context, string, float64) (float64, error) { return 100, nil }
func (halfMLPerSecond) MeasureRPM(context.Context, float64, float64, float64) (float64, error) {
	return 0, nil
}
func (halfMLPerSecond) StopStirring(context.Context) error { return nil }
func (halfMLPerSecond) ODVolts(context.Context, string, float64) (float64, error) {
	return 0, nil
}

// namedUnit is a unit with a name and no jobs.
type namedUnit struct{}

func (namedUnit) Name() string { return "pio01" }
func (namedUnit) Run(context.Context, string, contract.RunRequest) error {
	return nil
}
func (namedUnit) Stop(context.Context, contract.StopFilter) (int, error) { return 0, nil }
func (namedUnit) Running() ([]contract.JobRow, error)                    { return nil, nil }
func (namedUnit) History() ([]contract.JobRow, error)                    { return nil, nil }
func (namedUnit) Settings(string) (map[string]any, error)                { return nil, nil }

func TestCalibrationsRun(t *testing.T) {
	t.Parallel()
	cals, err := calibration.Open(filepath.Join(t.TempDir(), "cals"))
	if err != nil {
		t.Fatal(err)
	}
	m := session.New("pio01", halfMLPerSecond{}, cals, time.Now)
	srv, err := api.New(api.Config{Unit: namedUnit{}, Sessions: m, Calibrations: cals})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	// durations, enter to run, 1 mL, enter, 2 mL, then the defaults: save, make active, name
	stdin := "2 4\n\n1\n\n2\n\n\n\n"
	code, out, errOut := runCLI(t, "pio", ts.URL, stdin, "calibrations", "run", "--device", "media_pump")
	if code != 0 || !strings.Contains(out, "Saved calibration for media_pump (active: true).") || !strings.Contains(out, "residual") {
		t.Fatalf("%d\n%s\n%s", code, out, errOut)
	}
	c, active, err := cals.Active("media_pump")
	if err != nil || !active || c.Curve.Coefficients[0] != 0.5 {
		t.Errorf("%v %v %v", c, active, err)
	}
	// -y cannot answer the volumes: the session is aborted and nothing more is saved.
	code, out, _ = runCLI(t, "pio", ts.URL, "", "calibrations", "run", "--device", "waste_pump", "-y")
	if code == 0 || !strings.Contains(out, "Run 1 of 4") {
		t.Errorf("-y: %d %s", code, out)
	}
	if list, _ := cals.List("waste_pump"); len(list) != 0 {
		t.Errorf("an aborted run saved %v", list)
	}
	code, out, _ = runCLI(t, "pio", ts.URL, "", "calibrations", "protocols")
	if code != 0 || !strings.Contains(out, "stirring         dc_based") {
		t.Errorf("protocols: %d %s", code, out)
	}
}

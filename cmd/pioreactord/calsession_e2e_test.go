package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/calibration/session"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// simPumpFlow is the simulated pumps' true flow at 100 % duty, set unlike the factory
// calibration's 0.0911 mL/s so a session has to find it; the per-pump error is off so the
// truth is known exactly (each dose still varies by 1 %).
const simPumpFlow = 0.15

// startCalCluster is a simulated cluster with one worker and a known pump.
func startCalCluster(t *testing.T, speed int) *simCluster {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.ini")
	text := string(config.Template()) + fmt.Sprintf("\n[simulation]\npump_flow_ml_per_s=%g\npump_calibration_error_sd=0\n", simPumpFlow)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return startCluster(t, "--units", "1", "--speed", fmt.Sprint(speed), "--config", path)
}

// do calls the leader and decodes its JSON answer into out.
func (c *simCluster) do(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+c.http+path, rd)
	req.Header.Set("content-type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusAccepted {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// relay runs a /unit_api GET on pio01 through the leader and returns pio01's value.
func (c *simCluster) relay(t *testing.T, path string, out any) bool {
	t.Helper()
	var accepted struct {
		ResultURL string `json:"result_url_path"`
	}
	c.do(t, "POST", "/api/relay", map[string]any{"units": []string{"pio01"}, "path": path}, &accepted)
	for i := 0; i < 500; i++ {
		var res struct {
			Status string `json:"status"`
			Result map[string]struct {
				OK    bool            `json:"ok"`
				Value json.RawMessage `json:"value"`
			} `json:"result"`
		}
		c.do(t, "GET", accepted.ResultURL, nil, &res)
		if res.Status == "succeeded" {
			r := res.Result["pio01"]
			return r.OK && json.Unmarshal(r.Value, out) == nil
		}
		if res.Status == "failed" {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// truth is pio01's simulated true state.
func (c *simCluster) truth(t *testing.T) contract.SimulationTruth {
	t.Helper()
	for i := 0; i < 100; i++ {
		var v contract.SimulationTruth
		if c.relay(t, "/unit_api/simulation/truth", &v) {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no simulation truth")
	return contract.SimulationTruth{}
}

// settled waits for two truth samples in a row with the same volume: nothing is pumping.
func (c *simCluster) settled(t *testing.T) contract.SimulationTruth {
	t.Helper()
	prev := c.truth(t)
	for i := 0; i < 200; i++ {
		time.Sleep(20 * time.Millisecond)
		now := c.truth(t)
		if now.Timestamp != prev.Timestamp && now.VolumeML == prev.VolumeML {
			return now
		}
		prev = now
	}
	t.Fatal("the volume never settled")
	return prev
}

const sessions = "/api/workers/pio01/calibrations/sessions"

func (c *simCluster) answer(t *testing.T, id string, in map[string]any) session.View {
	t.Helper()
	var v session.View
	if code := c.do(t, "POST", sessions+"/"+id+"/inputs", map[string]any{"inputs": in}, &v); code != 200 {
		t.Fatalf("inputs %v: %d", in, code)
	}
	if v.Session.Status == session.Failed {
		t.Fatalf("session failed: %s", v.Session.Error)
	}
	return v
}

func fitted(t *testing.T, v session.View) calibration.Calibration {
	t.Helper()
	b, _ := json.Marshal(v.Session.Result)
	var c calibration.Calibration
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("result %s: %v", b, err)
	}
	return c
}

// A pump session on the simulation recovers the simulated pump's rate within 2 %, the user's
// scale being the simulated vial's volume.
func TestPumpCalibrationSessionOnTheSim(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulation")
	}
	c := startCalCluster(t, 60)
	var v session.View
	if code := c.do(t, "POST", sessions, map[string]any{"target_device": "media_pump", "protocol_name": "duration_based"}, &v); code != 201 {
		t.Fatalf("start: %d", code)
	}
	id := v.Session.SessionID
	v = c.answer(t, id, map[string]any{"durations": []float64{5, 10, 15, 20}})
	for v.Step != nil && v.Step.StepID == "run" {
		before := c.settled(t).VolumeML
		c.answer(t, id, map[string]any{})
		moved := float64(c.settled(t).VolumeML - before)
		v = c.answer(t, id, map[string]any{"volume_ml": moved})
	}
	if v.Step == nil || v.Step.StepID != "review" || len(v.Step.Metadata["residuals"].([]any)) != 4 {
		t.Fatalf("no review with residuals: %+v", v.Step)
	}
	v = c.answer(t, id, map[string]any{"save": true, "set_active": true})
	cal := fitted(t, v)
	slope := cal.Curve.Coefficients[0]
	t.Logf("fitted %.5f mL/s, simulated %.5f mL/s (%.2f %%), residuals %v", slope, simPumpFlow, 100*(slope-simPumpFlow)/simPumpFlow, v.Step.Metadata["residuals"])
	if math.Abs(slope-simPumpFlow)/simPumpFlow > 0.02 {
		t.Errorf("fitted rate %v mL/s, simulated %v", slope, simPumpFlow)
	}
	var active map[string]calibration.Calibration
	c.relay(t, "/unit_api/active_calibrations", &active)
	if got := active["media_pump"].Name; got != cal.Name {
		t.Errorf("active media_pump calibration %q, want %q", got, cal.Name)
	}
}

// A stirring session predicts the simulated bar's RPM within 5 %.
func TestStirringCalibrationSessionOnTheSim(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulation")
	}
	c := startCalCluster(t, 20)
	var v session.View
	c.do(t, "POST", sessions, map[string]any{"target_device": "stirring", "protocol_name": "dc_based"}, &v)
	id := v.Session.SessionID
	c.answer(t, id, map[string]any{"min_dc": 20.0, "max_dc": 45.0})
	v = c.answer(t, id, map[string]any{})
	v = c.answer(t, id, map[string]any{"save": true})
	cal := fitted(t, v)
	for _, dc := range []float64{22, 30, 40} {
		body := map[string]any{"options": map[string]any{"duty_cycle": dc, "use_rpm": false}}
		if code := c.do(t, "PATCH", "/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo", body, nil); code != 202 {
			t.Fatalf("run stirring: %d", code)
		}
		time.Sleep(time.Second) // 20 simulated seconds: the bar settles
		rpm := float64(c.truth(t).RPM)
		want := cal.XToY(dc)
		t.Logf("%g %%: predicted %.0f RPM, simulated %.0f (%.1f %%)", dc, want, rpm, 100*(want-rpm)/rpm)
		if math.Abs(want-rpm)/rpm > 0.05 {
			t.Errorf("at %g %% the calibration predicts %.0f RPM, the simulation turns %.0f", dc, want, rpm)
		}
		c.do(t, "PATCH", "/api/workers/pio01/jobs/stop/job_name/stirring/experiments/demo", map[string]any{}, nil)
		time.Sleep(200 * time.Millisecond)
	}
}

// An OD session, its standards being the growing simulated culture at several times,
// recovers the simulated OD within 5 % over its range: a second session, used only as a
// voltmeter between the standards and then aborted, gives readings the fit never saw.
func TestODCalibrationSessionOnTheSim(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulation")
	}
	c := startCalCluster(t, 3600)
	open := func() string {
		var v session.View
		c.do(t, "POST", sessions, map[string]any{"target_device": "od90", "protocol_name": "standards"}, &v)
		c.answer(t, v.Session.SessionID, map[string]any{"pd_channel": "2", "ir_led_intensity": 80.0})
		return v.Session.SessionID
	}
	cal, meter := open(), open()
	var standards, checks, checkVolts []float64
	next := float64(c.truth(t).OD)
	for len(standards) < 6 {
		od := float64(c.truth(t).OD)
		if od < next {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if len(checks) < len(standards) && len(standards) > 0 {
			v := c.answer(t, meter, map[string]any{"od600": od})
			volts := v.Step.Metadata["volts"].([]any)
			checks, checkVolts = append(checks, od), append(checkVolts, volts[len(volts)-1].(float64))
		} else {
			c.answer(t, cal, map[string]any{"od600": od})
			standards = append(standards, od)
		}
		next = od * 1.3
	}
	var v session.View
	if code := c.do(t, "POST", sessions+"/"+meter+"/abort", nil, &v); code != 200 || v.Session.Status != session.Aborted {
		t.Fatalf("abort: %d %+v", code, v.Session)
	}
	c.answer(t, cal, map[string]any{"done": true})
	v = c.answer(t, cal, map[string]any{"save": true, "set_active": true})
	fit := fitted(t, v)
	t.Logf("standards %.3f, curve %v", standards, fit.Curve.Coefficients)
	for i, volts := range checkVolts {
		got, err := fit.YToX(volts, true)
		t.Logf("check: %.4f V → OD %.4f, simulated %.4f (%.1f %%)", volts, got, checks[i], 100*(got-checks[i])/checks[i])
		if err != nil || math.Abs(got-checks[i])/checks[i] > 0.05 {
			t.Errorf("%.4f V: OD %v (%v), simulated %v", volts, got, err, checks[i])
		}
	}
	var active map[string]calibration.Calibration
	c.relay(t, "/unit_api/active_calibrations", &active)
	if active["od90"].Name != fit.Name {
		t.Errorf("od90's active calibration is %q, want %q", active["od90"].Name, fit.Name)
	}
}

package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal/periph"
	"github.com/pioreactor/pioreactord/pkg/hal/periph/periphtest"
)

// useRig points the daemon's hardware at an emulated HAT 1.2 on a Pi 5 (a temporary
// directory for the device tree and /sys, an emulated I²C bus, fake GPIO lines).
func useRig(t *testing.T) *periphtest.Rig {
	t.Helper()
	rig, err := periphtest.NewRig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	hw := t.TempDir()
	hardwareHook = func(c *periph.Config) {
		r := rig.Config()
		c.DeviceTree, c.Sys, c.PWMRoot, c.Disk, c.Bus, c.Lines, c.HardwareDir = r.DeviceTree, r.Sys, r.PWMRoot, r.Disk, r.Bus, r.Lines, hw
	}
	t.Cleanup(func() { hardwareHook = nil })
	return rig
}

// hatDaemon is `pioreactord --role both` without --sim: the leader, with its own unit on the rig.
type hatDaemon struct {
	api  string
	done chan error
	out  *syncBuffer
}

func startHATDaemon(t *testing.T, ctx context.Context) *hatDaemon {
	t.Helper()
	dir := t.TempDir()
	// Stirring and the heater on the two hardware PWM channels, whose duty files we can read:
	// channel 2 is GPIO 13 (pwm1), channel 4 GPIO 12 (pwm0).
	conf := leaderConfig(t, dir, [3]string{"PWM", "1", "media"}, [3]string{"PWM", "2", "stirring"},
		[3]string{"PWM", "4", "heating"}, [3]string{"PWM", "5", "waste"})
	d := &hatDaemon{done: make(chan error, 1), out: &syncBuffer{}}
	args := append(leaderArgs(dir, conf), "--role", "both")
	go func() { d.done <- run(ctx, args, d.out, d.out) }()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := apiLine.FindStringSubmatch(d.out.String()); m != nil {
			d.api = m[1]
			return d
		}
		select {
		case err := <-d.done:
			t.Fatalf("run returned %v:\n%s", err, d.out.String())
		default:
		}
	}
	t.Fatalf("daemon did not start:\n%s", d.out.String())
	return nil
}

func (d *hatDaemon) post(t *testing.T, path, body string) {
	t.Helper()
	for try := 0; ; try++ {
		req, _ := http.NewRequest(http.MethodPost, "http://"+d.api+path, strings.NewReader(body))
		req.Header.Set("content-type", "application/json")
		req.Header.Set("Authorization", "Basic "+testAPIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && try < 5 {
			time.Sleep(time.Second) // a job may be started once a second
			continue
		}
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d", path, resp.StatusCode)
		}
		return
	}
}

// waitDuty waits until pwm<ch>'s duty file satisfies ok.
func waitDuty(t *testing.T, rig *periphtest.Rig, d *hatDaemon, ch int, what string, ok func(ns int64, on bool) bool) int64 {
	t.Helper()
	var ns int64
	var on bool
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if ns, on, err = rig.Duty(ch); err == nil && ok(ns, on) {
			return ns
		}
	}
	t.Fatalf("pwm%d never %s (duty %d ns, enabled %v):\n%s", ch, what, ns, on, d.out.String())
	return 0
}

// dutyWithin says whether pwm<ch>'s duty file satisfies ok within d.
func dutyWithin(rig *periphtest.Rig, ch int, d time.Duration, ok func(ns int64, on bool) bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ns, on, err := rig.Duty(ch); err == nil && ok(ns, on) {
			return true
		}
	}
	return false
}

func off(ns int64, on bool) bool { return ns == 0 && !on }

const (
	stirPWM   = 1 // GPIO 13
	heaterPWM = 0 // GPIO 12
)

func startStirringAndHeater(t *testing.T, rig *periphtest.Rig, d *hatDaemon) {
	t.Helper()
	d.post(t, "/unit_api/jobs/run/job_name/stirring", `{"options":{},"env":{"EXPERIMENT":"demo"}}`)
	// 30 % of a 200 Hz period (5 ms) after the kick at 100 %.
	waitDuty(t, rig, d, stirPWM, "at 30 %", func(ns int64, on bool) bool { return ns == 1_500_000 && on })
	d.post(t, "/unit_api/jobs/run/job_name/temperature_automation", `{"options":{"automation_name":"thermostat","target_temperature":40},"env":{"EXPERIMENT":"demo"}}`)
	// 25 °C on the heating PCB, 40 °C wanted: the thermostat heats (16 Hz: a 62.5 ms period).
	waitDuty(t, rig, d, heaterPWM, "heating", func(ns int64, on bool) bool { return ns > 0 && ns <= 62_500_000 && on })
}

// The daemon without --sim drives a (emulated) HAT: the duty-cycle files follow stirring and
// the thermostat, and go to 0 when a job panics and when the jobs are stopped.
func TestDaemonDrivesTheHAT(t *testing.T) {
	rig := useRig(t)
	ctx, cancel := context.WithCancel(context.Background())
	d := startHATDaemon(t, ctx)
	defer func() {
		cancel()
		<-d.done
	}()
	startStirringAndHeater(t, rig, d)

	// The stirring job's first RPM poll (6 s in) panics in the hall sensor's wait.
	rig.Lines.PanicOnWait(21)
	waitDuty(t, rig, d, stirPWM, "off after the stirring job panicked", off)
	if ns, on, _ := rig.Duty(heaterPWM); ns == 0 || !on {
		t.Fatalf("the heater went off with the stirring job (duty %d, enabled %v)", ns, on)
	}
	// The crashed job leaves the registry a moment after its output went off: until then a
	// start is skipped ("already running"), so start again until the fan runs.
	at30 := func(ns int64, on bool) bool { return ns == 1_500_000 && on }
	for try := 0; ; try++ {
		d.post(t, "/unit_api/jobs/run/job_name/stirring", `{"options":{},"env":{"EXPERIMENT":"demo"}}`)
		if dutyWithin(rig, stirPWM, 3*time.Second, at30) {
			break
		}
		if try == 5 {
			t.Fatalf("stirring never restarted after its crash:\n%s", d.out.String())
		}
	}

	d.post(t, "/unit_api/jobs/stop", `{"job_name":"stirring"}`)
	waitDuty(t, rig, d, stirPWM, "off after stop", off)
	d.post(t, "/unit_api/jobs/stop", `{"job_name":"temperature_automation"}`)
	waitDuty(t, rig, d, heaterPWM, "off after stop", off)
}

// SIGTERM while stirring and heating: every output is off when the daemon has exited, and the
// RP2040's SWD lines were never touched.
func TestDaemonSIGTERMLeavesTheHATOff(t *testing.T) {
	rig := useRig(t)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM) // as main does
	defer stop()
	d := startHATDaemon(t, ctx)
	startStirringAndHeater(t, rig, d)
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("run after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit after SIGTERM:\n%s", d.out.String())
	}
	for _, ch := range []int{stirPWM, heaterPWM} {
		if ns, on, _ := rig.Duty(ch); !off(ns, on) {
			t.Fatalf("pwm%d after SIGTERM: duty %d, enabled %v", ch, ns, on)
		}
	}
	for _, pin := range []int{17, 16, 18} { // the software PWM lines
		if rig.Lines.Pin(pin).L {
			t.Errorf("GPIO %d high after SIGTERM", pin)
		}
	}
	for _, swd := range []int{24, 25} {
		if rig.Lines.Claimed(swd) {
			t.Errorf("GPIO %d (the RP2040's SWD) was claimed", swd)
		}
	}
}

// Without a HAT the daemon refuses at once, saying what is missing.
func TestDaemonRefusesWithoutHAT(t *testing.T) {
	rig := useRig(t)
	if err := os.RemoveAll(filepath.Join(rig.Root, "proc/device-tree/hat")); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := leaderConfig(t, dir)
	var out bytes.Buffer
	err := run(context.Background(), append(leaderArgs(dir, conf), "--role", "worker", "--unit", "pio01", "--broker", "127.0.0.1:1"), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "no Pioreactor HAT found") || !strings.Contains(err.Error(), "--sim") {
		t.Fatalf("err = %v", err)
	}
}

func TestHardwareCheck(t *testing.T) {
	useRig(t)
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"hardware", "check", "--config", filepath.Join(t.TempDir(), "none.ini")}, &out, &errs); err != nil {
		t.Fatalf("hardware check: %v\n%s%s", err, out.String(), errs.String())
	}
	for _, want := range []string{"Raspberry Pi 5", "Pioreactor HAT 1.2", "firmware:  0.5", "RP2040 HAT MCU at 0x2C", "TMP1075 at 0x4F", "25.00 °C", "aux rail:  5.00 V", "result: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("hardware check output lacks %q:\n%s", want, out.String())
		}
	}
	var v bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &v, &v); err != nil || !strings.HasPrefix(v.String(), "pioreactord ") {
		t.Fatalf("--version: %q, %v", v.String(), err)
	}
}

package periph_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/hal/periph"
	"github.com/pioreactor/pioreactord/pkg/hal/periph/periphtest"
)

func rig(t *testing.T) (*periphtest.Rig, periph.Config) {
	t.Helper()
	r, err := periphtest.NewRig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config()
	cfg.HardwareDir = t.TempDir()
	cfg.Roles = map[string]string{"1": "stirring", "2": "media", "3": "alt_media", "4": "waste", "5": "heating"}
	return r, cfg
}

func TestOpenHAT12(t *testing.T) {
	t.Parallel()
	r, cfg := rig(t)
	h, err := periph.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := h.Board()
	if b.Photodiodes == nil || b.LEDs == nil || b.Thermometer == nil || b.Hall == nil || b.Button == nil ||
		b.StatusLED == nil || b.Rail == nil || b.Firmware == nil || b.Power == nil || b.Host == nil || len(b.PWM) != 5 {
		t.Fatalf("board %+v", b)
	}
	for _, swd := range []int{24, 25} {
		if r.Lines.Claimed(swd) {
			t.Errorf("GPIO %d (SWD) claimed", swd)
		}
	}
	if v, err := b.Rail.RailVolts(bg()); err != nil || v != 5 {
		t.Fatalf("rail %v, %v", v, err)
	}
	if err := b.LEDs.SetIntensity("B", 100); err != nil || r.MCU.Intensity(1) != 255 {
		t.Fatalf("LED B: %v, code %d", err, r.MCU.Intensity(1))
	}
	// Channel 4 (waste) is GPIO 12: hardware pwm0 at 250 Hz.
	if err := b.PWM["4"].SetDutyCycle(50); err != nil {
		t.Fatal(err)
	}
	if ns, on, _ := r.Duty(0); ns != 2_000_000 || !on {
		t.Fatalf("pwm0 duty %d ns, enabled %v", ns, on)
	}
	// Channel 5 (heater) is GPIO 18: software PWM.
	if err := b.PWM["5"].SetDutyCycle(100); err != nil || !r.Lines.Pin(18).L {
		t.Fatalf("heater: %v, level %v", err, r.Lines.Pin(18).L)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if ns, on, _ := r.Duty(0); ns != 0 || on {
		t.Fatalf("after close pwm0 duty %d, enabled %v", ns, on)
	}
	if r.Lines.Pin(18).L {
		t.Fatal("heater line high after close")
	}
	var out bytes.Buffer
	if _, err := h.Report().WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Raspberry Pi 5", "Pioreactor HAT 1.2", "firmware:  0.5", "RP2040 HAT MCU at 0x2C", "ADS1114 at 0x49", "GPIO 21 hall sensor", "hardware pwm0", "result: ok"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		breakIt func(r *periphtest.Rig, cfg *periph.Config)
		says    []string
	}{
		{"no HAT", func(r *periphtest.Rig, cfg *periph.Config) {
			_ = os.RemoveAll(filepath.Join(cfg.DeviceTree, "hat"))
		}, []string{"no Pioreactor HAT found"}},
		{"unknown computer", func(r *periphtest.Rig, cfg *periph.Config) {
			_ = os.WriteFile(filepath.Join(cfg.DeviceTree, "model"), []byte("Pine64\x00"), 0o644)
			cfg.Lines = nil
		}, []string{`"Pine64" is not a Raspberry Pi`}},
		{"optics board unplugged", func(r *periphtest.Rig, cfg *periph.Config) {
			cfg.Bus = periphtest.NewBus(map[uint16]periphtest.Device{0x2C: r.MCU, 0x4F: r.Heater})
		}, []string{"ADS1114 at 0x48: no answer", "ADS1114 at 0x49: no answer"}},
		{"RP2040 firmware not loaded", func(r *periphtest.Rig, cfg *periph.Config) {
			cfg.Bus = periphtest.NewBus(map[uint16]periphtest.Device{0x48: r.PD1, 0x49: r.PD2, 0x4F: r.Heater})
		}, []string{"RP2040 HAT MCU at 0x2C", "load_rp2040"}},
		{"HAT 1.0 with the v1.5 optics", func(r *periphtest.Rig, cfg *periph.Config) {
			cfg.Identity.HATVersion = "1.0"
		}, []string{"0x48 is both the ADS1115", "MODEL_NAME"}},
		{"unknown model", func(r *periphtest.Rig, cfg *periph.Config) {
			cfg.Model = periph.Model{Name: "pioreactor_1l", Version: "1.0"}
		}, []string{"bioreactor model pioreactor_1l 1.0"}},
		{"overlay not loaded", func(r *periphtest.Rig, cfg *periph.Config) {
			_ = os.RemoveAll(filepath.Join(cfg.PWMRoot, "pwmchip0"))
		}, []string{"pwm-2chan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, cfg := rig(t)
			tc.breakIt(r, &cfg)
			_, err := periph.Open(cfg)
			if err == nil {
				t.Fatal("opened")
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
		})
	}
}

func TestPhotodiodesOnTheRig(t *testing.T) {
	t.Parallel()
	r, cfg := rig(t)
	h, err := periph.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	r.PD2.Volts = 1.0
	got, err := h.Board().Photodiodes.ReadVolts(bg())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["1"] < 0.049 || got["1"] > 0.051 || got["2"] < 0.999 || got["2"] > 1.001 {
		t.Fatalf("volts %v", got)
	}
}

func bg() context.Context { return context.Background() }

// HAT 1.0 (a 20 ml v1.0): the ADS1115 reads photodiodes and the rail, the DAC43608 drives the
// LEDs, the hall sensor and button sit on GPIO 25 and 24, and there is no firmware.
func TestOpenHAT10(t *testing.T) {
	t.Parallel()
	r, cfg := rig(t)
	adc, dac := &periphtest.ADS1115{}, periphtest.NewDAC43608()
	adc.Volts = [4]float64{0.12, 0.34, 1.0, 0.67} // pd2, pd1, version, aux
	cfg.Bus = periphtest.NewBus(map[uint16]periphtest.Device{0x48: adc, 0x49: dac, 0x4F: r.Heater})
	cfg.Identity.HATVersion = "1.0"
	cfg.Model = periph.Model{Name: "pioreactor_20ml", Version: "1.0"}
	cfg.MainsHz = 50
	h, err := periph.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	b := h.Board()
	if b.Firmware != nil {
		t.Fatal("HAT 1.0 has no firmware")
	}
	if v, err := b.Rail.RailVolts(bg()); err != nil || v != 5 {
		t.Fatalf("rail %v, %v", v, err)
	}
	got, err := b.Photodiodes.ReadVolts(bg())
	if err != nil || math.Abs(got["1"]-0.34) > 1e-3 || math.Abs(got["2"]-0.12) > 1e-3 {
		t.Fatalf("photodiodes %v, %v", got, err)
	}
	if err := b.LEDs.SetIntensity("C", 50); err != nil {
		t.Fatal(err)
	}
	if on, code := dac.On(2); !on || code != 128 {
		t.Fatalf("LED C on %v code %d", on, code)
	}
	if !r.Lines.Claimed(25) || !r.Lines.Claimed(24) || r.Lines.Claimed(21) {
		t.Fatal("HAT 1.0's hall sensor is GPIO 25 and its button GPIO 24")
	}
}

// HAT 1.1 with a 40 ml v1.0: the photodiodes are the RP2040's inputs 2 and 3.
func TestOpenHAT11PicoOptics(t *testing.T) {
	t.Parallel()
	r, cfg := rig(t)
	cfg.Bus = periphtest.NewBus(map[uint16]periphtest.Device{0x2C: r.MCU, 0x4F: r.Heater})
	cfg.Identity.HATVersion = "1.1"
	cfg.Model = periph.Model{Name: "pioreactor_40ml", Version: "1.0"}
	r.MCU.SetVolts(2, 0.25)
	r.MCU.SetVolts(3, 0.5)
	h, err := periph.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	got, err := h.Board().Photodiodes.ReadVolts(bg())
	if err != nil || math.Abs(got["1"]-0.25) > 1e-3 || math.Abs(got["2"]-0.5) > 1e-3 {
		t.Fatalf("photodiodes %v, %v", got, err)
	}
}

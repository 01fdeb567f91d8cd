package periph

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLayoutDefaults(t *testing.T) {
	t.Parallel()
	pico := func(ch int) ADCSpec { return ADCSpec{DriverPico, 0x2C, ch} }
	ads14 := func(addr uint16) ADCSpec { return ADCSpec{DriverADS1114, addr, 0} }
	for _, tc := range []struct {
		hat               Version
		model             Model
		led, button, hall int
		adc               map[string]ADCSpec
		leds              uint16
		mcu               bool
	}{
		{Version{1, 0}, Model{"pioreactor_20ml", "1.0"}, 23, 24, 25, map[string]ADCSpec{
			"pd1": {DriverADS1115, 0x48, 1}, "pd2": {DriverADS1115, 0x48, 0}, "version": {DriverADS1115, 0x48, 2}, "aux": {DriverADS1115, 0x48, 3}}, 0x49, false},
		{Version{1, 1}, Model{"pioreactor_40ml", "1.0"}, 23, 4, 21, map[string]ADCSpec{
			"pd1": pico(2), "pd2": pico(3), "aux": pico(1), "version": pico(0)}, 0x2C, true},
		{Version{1, 2}, Model{}, 23, 4, 21, map[string]ADCSpec{ // no model: 40 ml v1.5
			"pd1": ads14(0x48), "pd2": ads14(0x49), "aux": pico(1), "version": pico(0)}, 0x2C, true},
		{Version{1, 2}, Model{"pioreactor_20ml", "1.5"}, 23, 4, 21, map[string]ADCSpec{
			"pd1": ads14(0x48), "pd2": ads14(0x49), "aux": pico(1), "version": pico(0)}, 0x2C, true},
		{Version{1, 2}, Model{"pioreactor_40ml_XR", "1.5"}, 23, 4, 21, map[string]ADCSpec{
			"pd1": ads14(0x49), "pd2": ads14(0x4A), "pd3": ads14(0x4B), "pd4": ads14(0x48), "aux": pico(1), "version": pico(0)}, 0x2C, true},
	} {
		t.Run(tc.hat.String()+" "+tc.model.String(), func(t *testing.T) {
			t.Parallel()
			l, err := LoadLayout(t.TempDir(), tc.hat, tc.model)
			if err != nil {
				t.Fatal(err)
			}
			if l.LEDPin != tc.led || l.ButtonPin != tc.button || l.HallPin != tc.hall || l.HasMCU() != tc.mcu || l.DACAddress != tc.leds || l.TempAddress != 0x4F {
				t.Fatalf("layout %+v", l)
			}
			if !reflect.DeepEqual(l.ADC, tc.adc) {
				t.Fatalf("adc %v\nwant %v", l.ADC, tc.adc)
			}
			want := map[string]int{"1": 17, "2": 13, "3": 16, "4": 12, "5": 18}
			if !reflect.DeepEqual(l.PWMToPin, want) || l.HeaterChannel != "5" {
				t.Fatalf("pwm %v heater %q", l.PWMToPin, l.HeaterChannel)
			}
		})
	}
}

func TestLayoutRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		hat   Version
		model Model
		files map[string]string
		err   error
		says  []string
	}{
		{"HAT 1.0 with v1.5 optics: two chips at 0x48 and at 0x49", Version{1, 0}, Model{"pioreactor_40ml", "1.5"}, nil, ErrLayout,
			[]string{"0x48 is both the ADS1115", "0x49 is both the ADS1114 (pd2) and the DAC43608", "MODEL_NAME"}},
		{"unknown model", Version{1, 2}, Model{"pioreactor_80ml", "2.0"}, nil, ErrUnknownBoard, []string{"pioreactor_80ml 2.0"}},
		{"unknown HAT", Version{1, 3}, Model{}, nil, ErrLayout, []string{"HAT 1.3"}},
		{"missing key names file and key", Version{1, 2}, Model{}, map[string]string{"hats/1.2/gpio.yaml": "pcb_led_pin: 23\npcb_button_pin: 4\n"}, ErrLayout,
			[]string{"gpio.yaml: hall_sensor_pin is missing"}},
		{"pwm_to_pin not a map", Version{1, 2}, Model{}, map[string]string{"hats/1.2/pwm.yaml": "heater_pwm_channel: '5'\npwm_to_pin: [17, 13]\n"}, ErrLayout,
			[]string{"pwm_to_pin is not a map"}},
		{"SWD pin on HAT 1.2", Version{1, 2}, Model{}, map[string]string{"hats/1.2/gpio.yaml": "pcb_led_pin: 23\npcb_button_pin: 24\nhall_sensor_pin: 21\n"}, ErrLayout,
			[]string{"GPIO 24 (the button) is the RP2040's SWD line"}},
		{"invalid YAML", Version{1, 2}, Model{}, map[string]string{"hats/1.2/temp.yaml": "address: [\n"}, ErrLayout, []string{"temp.yaml"}},
		{"unknown ADC driver", Version{1, 2}, Model{}, map[string]string{"models/pioreactor_40ml/1.5/adc.yaml": "pd1: {driver: mcp3008, address: 0x48, channel: 0}\n"}, ErrLayout,
			[]string{`models/pioreactor_40ml/1.5) adc.yaml: pd1.driver "mcp3008"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadLayout(dir, tc.hat, tc.model)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// A user's model overlay is deep-merged over the HAT's file: only the keys it names change.
func TestLayoutUserOverlay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "models/pioreactor_40ml/1.5/adc.yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("pd2: {address: 0x4A}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := LoadLayout(dir, Version{1, 2}, DefaultModel)
	if err != nil {
		t.Fatal(err)
	}
	// The user's file replaces the embedded overlay, merged over the HAT's pd2 (pico, channel 3).
	if got := l.ADC["pd2"]; got != (ADCSpec{DriverPico, 0x4A, 3}) {
		t.Fatalf("pd2 = %+v", got)
	}
	if got := l.ADC["pd1"]; got != (ADCSpec{DriverPico, 0x2C, 2}) {
		t.Fatalf("pd1 = %+v", got)
	}
}

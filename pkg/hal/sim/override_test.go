package sim

import (
	"strings"
	"testing"
	"time"
)

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"MuOptPerHour": "mu_opt_per_hour", "InitialOD": "initial_od", "AmbientC": "ambient_c",
		"Seed": "seed", "Blank90V": "blank90_v", "IRChannel": "ir_channel", "ADCMaxVolts": "adc_max_volts"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		values  map[string]string
		wantErr string
		check   func(Params) bool
	}{
		{"numbers, seed, duration", map[string]string{"mu_opt_per_hour": "0.8", "ambient_c": " 25 ", "seed": "7", "sampling_time": "500ms"}, "",
			func(p Params) bool {
				return p.MuOptPerHour == 0.8 && p.AmbientC == 25 && p.Seed == 7 && p.SamplingTime == 500*time.Millisecond
			}},
		{"unknown key", map[string]string{"warp_drive": "1"}, `unknown parameter "warp_drive"`, nil},
		{"malformed", map[string]string{"ambient_c": "warm"}, `ambient_c: "warm" is not a number`, nil},
		{"invalid value", map[string]string{"capacity_ml": "-1"}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := DefaultParams()
			err := p.Override(tc.values)
			if tc.check != nil {
				if err != nil || !tc.check(p) {
					t.Fatalf("err %v, params %+v", err, p)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			if p.AmbientC != DefaultParams().AmbientC || p.CapacityML != DefaultParams().CapacityML {
				t.Fatal("a refused override changed the parameters")
			}
		})
	}
}

package periph

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

func TestUnderVoltage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  hal.UnderVoltageFlag
	}{
		{"hwmon rpi_volt alarm", map[string]string{"class/hwmon/hwmon1/name": "rpi_volt\n", "class/hwmon/hwmon1/in0_lcrit_alarm": "1\n",
			"class/hwmon/hwmon0/name": "cpu_thermal\n"}, hal.UnderVoltageSet},
		{"hwmon clear", map[string]string{"class/hwmon/hwmon0/name": "rpi_volt\n", "class/hwmon/hwmon0/in0_lcrit_alarm": "0\n"}, hal.UnderVoltageClear},
		{"throttled bit 16", map[string]string{"devices/platform/soc/soc:firmware/get_throttled": "50000\n"}, hal.UnderVoltageSet},
		{"throttled clear", map[string]string{"devices/platform/soc/soc:firmware/get_throttled": "0\n"}, hal.UnderVoltageClear},
		{"nothing to read", map[string]string{}, hal.UnderVoltageUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Power{Sys: writeTree(t, tc.files)}.UnderVoltage()
			if err != nil || got != tc.want {
				t.Fatalf("UnderVoltage = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestRail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		aux, want float64
	}{{0.67, 5.0}, {0.6432, 4.8}, {1.608, 12.0}} {
		r := Rail{aux: func(context.Context) (float64, error) { return tc.aux, nil }}
		if got, err := r.RailVolts(bg); err != nil || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("aux %v V: rail %v, %v; want %v", tc.aux, got, err, tc.want)
		}
	}
	r := Rail{aux: func(context.Context) (float64, error) { return 0, ErrNoAnswer }}
	if _, err := r.RailVolts(bg); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("err = %v", err)
	}
	for _, tc := range []struct {
		volts float64
		flag  hal.UnderVoltageFlag
		want  bool
	}{{4.8, hal.UnderVoltageUnknown, true}, {4.8, hal.UnderVoltageClear, false}, {4.5, hal.UnderVoltageSet, true}, {5.0, hal.UnderVoltageSet, false}} {
		if got := hal.PowerProblem(tc.volts, tc.flag); got != tc.want {
			t.Errorf("PowerProblem(%v, %v) = %v", tc.volts, tc.flag, got)
		}
	}
}

func TestTrimmedMean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{[]float64{1, 2, 100, 3, 4}, 3}, {[]float64{1, 1, 1}, 1}, {[]float64{5}, 5}, {nil, 0}} {
		if got := trimmedMean(tc.xs); got != tc.want {
			t.Errorf("trimmedMean(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestNoAnswerIsNotPresent(t *testing.T) {
	t.Parallel()
	if !errors.Is(ErrNoAnswer, hal.ErrNotPresent) {
		t.Fatal("a device that does not answer is not reported as absent to the jobs")
	}
}

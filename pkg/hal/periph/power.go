package periph

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// railDivider is the HAT's divider from the aux (PWM supply) rail to its ADC input.
const railDivider = 0.134

func roundTo(x, step float64) float64 { return math.RoundToEven(x/step) * step }

// voltmeter is one ADC input in volts.
type voltmeter func(ctx context.Context) (float64, error)

// Rail reads the aux rail through the HAT's divider.
type Rail struct{ aux voltmeter }

var _ hal.RailVoltage = Rail{}

// RailVolts implements hal.RailVoltage, to 0.05 V as the monitor publishes it.
func (r Rail) RailVolts(ctx context.Context) (float64, error) {
	v, err := r.aux(ctx)
	if err != nil {
		return 0, fmt.Errorf("read aux rail: %w", err)
	}
	return roundTo(v/railDivider, 0.05), nil
}

// Power reads the Pi's under-voltage flag from sysfs (root is "/sys" on a Pi): the hwmon
// device named rpi_volt, else bit 16 (under-voltage has occurred) of the firmware's throttled
// flags, else unknown.
type Power struct{ Sys string }

var _ hal.PowerMonitor = Power{}

// UnderVoltage implements hal.PowerMonitor.
func (p Power) UnderVoltage() (hal.UnderVoltageFlag, error) {
	names, _ := filepath.Glob(filepath.Join(p.Sys, "class/hwmon/hwmon*/name"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil || strings.TrimSpace(string(b)) != "rpi_volt" {
			continue
		}
		b, err = os.ReadFile(filepath.Join(filepath.Dir(n), "in0_lcrit_alarm"))
		if err != nil {
			return hal.UnderVoltageUnknown, fmt.Errorf("read rpi_volt alarm: %w", err)
		}
		return flag(strings.TrimSpace(string(b)) == "1"), nil
	}
	b, err := os.ReadFile(filepath.Join(p.Sys, "devices/platform/soc/soc:firmware/get_throttled"))
	if errors.Is(err, fs.ErrNotExist) {
		return hal.UnderVoltageUnknown, nil
	}
	if err != nil {
		return hal.UnderVoltageUnknown, fmt.Errorf("read throttled flags: %w", err)
	}
	bits, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16, 32)
	if err != nil {
		return hal.UnderVoltageUnknown, fmt.Errorf("throttled flags %q: %w", b, err)
	}
	return flag(bits&(1<<16) != 0), nil
}

func flag(set bool) hal.UnderVoltageFlag {
	if set {
		return hal.UnderVoltageSet
	}
	return hal.UnderVoltageClear
}

// Host is the Pi itself: its root disk and CPU temperature.
type Host struct{ Sys, Disk string }

var _ hal.Host = Host{}

// DiskFreeGB implements hal.Host.
func (h Host) DiskFreeGB() (float64, error) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(h.Disk, &s); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", h.Disk, err)
	}
	return float64(s.Bavail) * float64(s.Bsize) / 1e9, nil
}

// CPUCelsius implements hal.Host.
func (h Host) CPUCelsius() (float64, error) {
	b, err := os.ReadFile(filepath.Join(h.Sys, "class/thermal/thermal_zone0/temp"))
	if err != nil {
		return 0, fmt.Errorf("read cpu temperature: %w", err)
	}
	milli, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64)
	if err != nil {
		return 0, fmt.Errorf("cpu temperature %q: %w", b, err)
	}
	return milli / 1000, nil
}

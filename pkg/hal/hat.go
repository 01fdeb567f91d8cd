package hal

import "context"

// What a real HAT adds to the interfaces above: the original software sets a pump's PWM
// frequency from its calibration, drives every output low when it lets go of it, watches the
// aux (PWM supply) rail and reports the HAT MCU's firmware. Each is optional: a device that
// cannot do it simply does not implement it, and callers type-assert.

// FrequencyPWM is a PWM output whose carrier frequency can change while it runs.
type FrequencyPWM interface {
	PWM
	// SetFrequency changes the carrier to hz (> 0), keeping the duty cycle. The duty is set to
	// 0 while the period changes, so the output never sees a duty longer than its period.
	SetFrequency(hz float64) error
}

// Releaser is an output that can be given back: it is driven low (off) first, then freed.
type Releaser interface {
	Release() error
}

// RailVoltage reads the aux rail that powers the PWM outputs (nominally 5 V, about 12 V with
// an external supply).
type RailVoltage interface {
	RailVolts(ctx context.Context) (float64, error)
}

// FirmwareVersion is the HAT MCU's firmware release, e.g. 0.5.
type FirmwareVersion struct{ Major, Minor int }

// Firmware is the HAT's microcontroller.
type Firmware interface {
	Firmware(ctx context.Context) (FirmwareVersion, error)
}

// UnderVoltageFlag is what the Pi's own power monitor says.
type UnderVoltageFlag int

const (
	UnderVoltageUnknown UnderVoltageFlag = iota // no kernel source for the flag
	UnderVoltageClear
	UnderVoltageSet
)

// PowerMonitor is the Pi's under-voltage detector.
type PowerMonitor interface {
	UnderVoltage() (UnderVoltageFlag, error)
}

// LowRailVolts is the rail voltage at or below which a power problem is reported, unless the
// Pi says its supply is fine.
const LowRailVolts = 4.80

// PowerProblem is the monitor's rule: a low rail, with the Pi's flag set or unknown.
func PowerProblem(railVolts float64, flag UnderVoltageFlag) bool {
	return railVolts <= LowRailVolts && flag != UnderVoltageClear
}

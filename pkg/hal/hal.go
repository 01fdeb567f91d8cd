package hal

import (
	"context"
	"errors"
	"time"
)

// PWM is one PWM output channel (stirring motor, pumps, heater).
type PWM interface {
	// SetDutyCycle drives the output at percent (0–100) duty.
	SetDutyCycle(percent float64) error
}

// PWMTimer switches PWM outputs off at an exact time. A simulated board has one: its jobs
// wake seconds of virtual time late at high speed, and a pump stopped on such a wake-up
// would move more than its run's worth. A real board has none (nil): there the job's own
// wake-up, milliseconds late, switches the output off.
type PWMTimer interface {
	// OffAfter switches channel's output to 0 % d after it was last switched on, unless its
	// duty cycle is set again first; an instant already past switches it off now. It does
	// not block, and an output that is off stays off.
	OffAfter(channel string, d time.Duration) error
}

// HallSensor sees the stir bar's magnet pass once per revolution.
type HallSensor interface {
	// Edges blocks for window and returns the times of the falling edges seen in it.
	Edges(ctx context.Context, window time.Duration) ([]time.Time, error)
}

// Photodiodes is the OD optics' ADC: one reading of every photodiode channel.
type Photodiodes interface {
	// ReadVolts samples every connected channel ("1".."4") with the LEDs as they are now and
	// returns the averaged voltages. It blocks for the ADC's sampling time.
	ReadVolts(ctx context.Context) (map[string]float64, error)
}

// LEDs is the LED driver with channels "A".."D".
type LEDs interface {
	SetIntensity(channel string, percent float64) error
}

// Thermometer is the heating PCB's temperature sensor.
type Thermometer interface {
	ReadCelsius(ctx context.Context) (float64, error)
}

// Switch is an on/off output: the HAT's status LED.
type Switch interface {
	Set(on bool) error
}

// Button is the HAT's push button.
type Button interface {
	// Next blocks until the button is pressed (down true) or released (down false).
	Next(ctx context.Context) (down bool, err error)
}

// Host is the computer the unit runs on.
type Host interface {
	DiskFreeGB() (float64, error)
	CPUCelsius() (float64, error)
}

// PWM channels of the HAT (config [PWM] maps them to roles).
var PWMChannels = []string{"1", "2", "3", "4", "5"}

// LEDChannels of the HAT's LED driver.
var LEDChannels = []string{"A", "B", "C", "D"}

// Board is every device of one unit. A nil field means the device is absent.
type Board struct {
	PWM         map[string]PWM // by channel "1".."5"
	Hall        HallSensor
	Photodiodes Photodiodes
	LEDs        LEDs
	Thermometer Thermometer
	StatusLED   Switch
	Button      Button
	Host        Host
	Rail        RailVoltage  // nil: the rail cannot be read
	Firmware    Firmware     // nil: no HAT MCU (HAT 1.0, or no HAT)
	Power       PowerMonitor // nil: the Pi's under-voltage flag is not readable
	PWMTimer    PWMTimer     // nil: outputs switch off only when set to 0 (a real board)
}

// ErrNotPresent is returned when a job needs a device the board does not have.
var ErrNotPresent = errors.New("hardware not present")

package jobs

import "errors"

var (
	// ErrNoCalibration: a volume dose needs the pump's active calibration and there is none.
	ErrNoCalibration = errors.New("no calibration")
	// ErrOverflow: the dose would meet or exceed the vessel's maximum fill volume.
	ErrOverflow = errors.New("requested dose would meet or exceed the reactor safety threshold")
	// ErrBadVolume: a volume or duration is negative, NaN or infinite.
	ErrBadVolume = errors.New("invalid volume")
	// ErrPumpInUse: another job holds the pump's PWM channel.
	ErrPumpInUse = errors.New("pump's GPIO pin is already in use")
)

package jobs

import "errors"

// Sentinel errors of the package, one line each on when they are returned.
var (
	// ErrUnknownAutomation: automation_name names no automation of the family.
	ErrUnknownAutomation = errors.New("unknown automation")
	// ErrRequiredData: an automation's input is missing (run_once reports an ErrorOccurred event).
	ErrRequiredData = errors.New("required data missing")
	// ErrNoCalibration: a volume dose needs the pump's active calibration and there is none.
	ErrNoCalibration = errors.New("no calibration")
	// ErrOverflow: the dose would meet or exceed the vessel's maximum fill volume.
	ErrOverflow = errors.New("requested dose would meet or exceed the reactor safety threshold")
	// ErrBadVolume: a volume or duration is negative, NaN or infinite.
	ErrBadVolume = errors.New("invalid volume")
	// ErrPumpInUse: another job holds the pump's PWM channel.
	ErrPumpInUse = errors.New("pump's GPIO pin is already in use")
	// ErrPumpsUsage: the arguments are not pairs of a known pump (or sleep) and a number.
	ErrPumpsUsage = errors.New("pumps: usage is pairs of <media|alt_media|waste> <mL> or sleep <seconds>")
	// ErrFusedEstimator: an od_fused estimator file is unusable.
	ErrFusedEstimator = errors.New("invalid od_fused estimator")
	// ErrDodgingTiming: the OD interval leaves no room to step stirring aside around readings.
	ErrDodgingTiming = errors.New("OD dodging timing")
	// ErrOverTemperature: the heating PCB passed the model's shut-down limit.
	ErrOverTemperature = errors.New("heating PCB over its shut-down temperature")

	// errLEDLocked: a channel is soft-locked by another holder (od_reading during a reading).
	errLEDLocked = errors.New("LED channel is locked")
	// errOverVoltage ends a job whose photodiode input exceeded 3.2 V.
	errOverVoltage = errors.New("ADC input above 3.2 V: LEDs switched off to protect the ADC")
)

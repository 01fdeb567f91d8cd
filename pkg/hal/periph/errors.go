package periph

import (
	"errors"
	"fmt"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

var (
	// ErrNoHAT: the device tree shows no Pioreactor HAT (its ID EEPROM is missing or foreign).
	ErrNoHAT = errors.New("no Pioreactor HAT found")
	// ErrUnknownBoard: the computer or the bioreactor model is not one this layer knows.
	ErrUnknownBoard = errors.New("unknown board")
	// ErrNoAnswer: a device did not acknowledge its I²C address. It is a hal.ErrNotPresent, so
	// jobs treat it as the device missing.
	ErrNoAnswer = fmt.Errorf("no answer on the I2C bus: %w", hal.ErrNotPresent)
	// ErrLayout: the hardware description (YAML) is invalid, incomplete or self-contradictory.
	ErrLayout = errors.New("bad hardware description")
	// ErrTimeout: a device did not finish in time (an ADC conversion, a sysfs export).
	ErrTimeout = errors.New("hardware timed out")
	// ErrOutOfRange: a reading or a request lies outside what the device can represent.
	ErrOutOfRange = errors.New("out of range")
	// ErrClosed: the device was released.
	ErrClosed = errors.New("device released")
)

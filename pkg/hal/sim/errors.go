package sim

import "errors"

var (
	// ErrOutOfRange is returned for a duty cycle or LED intensity outside [0, 100].
	ErrOutOfRange = errors.New("value out of range [0, 100]")
	// ErrUnknownChannel is returned for an LED channel other than "A".."D".
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrNoAnswer is what a device under an injected fault returns, like an I²C NACK.
	ErrNoAnswer = errors.New("device not answering (simulated fault)")
)

package periph

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/gpio"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// Button is the HAT's push button: high while pressed.
type Button struct{ pin gpio.PinIn }

var _ hal.Button = (*Button)(nil)

// NewButton configures the line as an input with pull-down, both edges.
func NewButton(pin gpio.PinIn) (*Button, error) {
	if err := pin.In(gpio.PullDown, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("button on %s: %w", pin, err)
	}
	return &Button{pin: pin}, nil
}

// Next implements hal.Button. An edge may be reported twice (contact bounce): callers act
// idempotently, as the original's callbacks do.
func (b *Button) Next(ctx context.Context) (bool, error) {
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if b.pin.WaitForEdge(edgePoll) {
			return b.pin.Read() == gpio.High, nil
		}
	}
}

// StatusLED is the HAT's blue PCB LED: high = on.
type StatusLED struct{ pin gpio.PinOut }

var _ hal.Switch = (*StatusLED)(nil)

// NewStatusLED drives the line low (off) at once.
func NewStatusLED(pin gpio.PinOut) (*StatusLED, error) {
	if err := pin.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("PCB LED on %s: %w", pin, err)
	}
	return &StatusLED{pin: pin}, nil
}

// Set implements hal.Switch. The level is never read back: reading an output line through
// gpioioctl turns it into an input.
func (l *StatusLED) Set(on bool) error {
	if err := l.pin.Out(gpio.Level(on)); err != nil {
		return fmt.Errorf("PCB LED: %w", err)
	}
	return nil
}

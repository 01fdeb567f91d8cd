// Package periphtest emulates a Pioreactor HAT for tests: an I²C bus of register-level device
// emulators (RP2040, ADS1114, TMP1075) with a presence probe that answers only where a device
// sits, fake GPIO lines, and a temporary directory standing in for the device tree and
// /sys/class/pwm. Unlike i2ctest.Playback it does not fix the order of transactions, so a
// whole daemon can run against it.
package periphtest

import (
	"fmt"
	"sync"
	"syscall"

	"github.com/pioreactor/pioreactord/pkg/hal/periph"
)

// Device answers the transactions addressed to it.
type Device interface {
	Tx(w, r []byte) error
}

// Bus is an emulated I²C bus; it implements periph.Bus.
type Bus struct {
	mu      sync.Mutex
	devices map[uint16]Device
	closed  bool
}

var _ periph.Bus = (*Bus)(nil)

// NewBus places devices at their addresses.
func NewBus(devices map[uint16]Device) *Bus { return &Bus{devices: devices} }

// Tx implements periph.Bus; an empty address NACKs (EREMOTEIO, as i2c-bcm2835 reports it).
func (b *Bus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	d, ok := b.devices[addr]
	closed := b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return periph.ErrClosed
	case !ok:
		return fmt.Errorf("i2c 0x%02X: %w", addr, syscall.EREMOTEIO)
	}
	return d.Tx(w, r)
}

// Probe implements periph.Bus.
func (b *Bus) Probe(addr uint16) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.devices[addr]; !ok {
		return fmt.Errorf("probe 0x%02X: %w: %w", addr, periph.ErrNoAnswer, syscall.EREMOTEIO)
	}
	return nil
}

// Close implements periph.Bus.
func (b *Bus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// Prober is a presence probe over a fixed set of addresses, for drivers that probe at
// construction while a Playback scripts their registers.
type Prober map[uint16]bool

// Probe implements periph.Prober.
func (p Prober) Probe(addr uint16) error {
	if !p[addr] {
		return fmt.Errorf("probe 0x%02X: %w", addr, periph.ErrNoAnswer)
	}
	return nil
}

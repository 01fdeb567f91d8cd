package periph

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// Bus is the I²C bus as this package needs it: register transactions and a presence probe.
// periph's i2c.Dev.Tx(nil, nil) returns without touching the bus, so a probe built on Tx
// says "present" for every address; Probe really addresses the device.
type Bus interface {
	// Tx writes w then reads len(r) bytes with a repeated start (either may be empty).
	Tx(addr uint16, w, r []byte) error
	// Probe addresses addr and reports whether a device acknowledged (nil) or not.
	Probe(addr uint16) error
	Close() error
}

// Prober is the presence probe alone (drivers that check at construction take only this).
type Prober interface {
	Probe(addr uint16) error
}

// periphBus presents a Bus to drivers as periph's i2c.Bus.
type periphBus struct{ b Bus }

var _ i2c.Bus = periphBus{}

func (p periphBus) Tx(addr uint16, w, r []byte) error { return p.b.Tx(addr, w, r) }
func (p periphBus) SetSpeed(physic.Frequency) error {
	return errors.New("i2c: speed is set by the kernel")
}
func (p periphBus) String() string { return "i2c-1" }
func asI2C(b Bus) i2c.Bus          { return periphBus{b} }
func hex(addr uint16) string       { return fmt.Sprintf("0x%02X", addr) }

// probeByRead: i2cdetect reads one byte instead of writing zero at these addresses, where a
// write could move an EEPROM's pointer or trigger a write-only chip.
func probeByRead(addr uint16) bool {
	return (addr >= 0x30 && addr <= 0x37) || (addr >= 0x50 && addr <= 0x5F)
}

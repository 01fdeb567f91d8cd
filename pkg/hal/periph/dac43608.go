package periph

import (
	"fmt"
	"math"
	"sync"

	"periph.io/x/conn/v3/i2c"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// DAC43608Addr is HAT 1.0's LED driver.
const DAC43608Addr = 0x49

const (
	dacDeviceConfig = 0x01 // bit 8 global power-down, bits 7–0 power-down of channels A–H
	dacDataA        = 0x08 // 0x08–0x0F: data of channels A–H, code in bits 11–4
)

// DAC43608 drives LEDs A–D on HAT 1.0. A channel at 0 % is powered down, any other level
// powered up, each by a read-modify-write of the device config (which also clears the global
// power-down, as the original does).
type DAC43608 struct {
	dev i2c.Dev
	mu  sync.Mutex
}

var _ hal.LEDs = (*DAC43608)(nil)

// NewDAC43608 talks to the DAC at addr on bus.
func NewDAC43608(bus i2c.Bus, addr uint16) *DAC43608 {
	return &DAC43608{dev: i2c.Dev{Bus: bus, Addr: addr}}
}

// SetIntensity implements hal.LEDs.
func (d *DAC43608) SetIntensity(channel string, percent float64) error {
	reg, err := ledRegister(channel)
	if err != nil {
		return err
	}
	if !(percent >= 0 && percent <= 100) {
		return fmt.Errorf("LED %s at %v%%: %w (want 0–100)", channel, percent, ErrOutOfRange)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	fail := func(err error) error {
		return fmt.Errorf("dac43608 at %s: LED %s: %w: %w", hex(d.dev.Addr), channel, ErrNoAnswer, err)
	}
	var cfg [2]byte
	if err := d.dev.Tx([]byte{dacDeviceConfig}, cfg[:]); err != nil {
		return fail(err)
	}
	bit := byte(1) << reg
	low := cfg[1] &^ bit
	if percent == 0 {
		low = cfg[1] | bit
	}
	if err := d.dev.Tx([]byte{dacDeviceConfig, 0x00, low}, nil); err != nil {
		return fail(err)
	}
	if percent == 0 {
		return nil
	}
	code := uint16(math.RoundToEven(percent/100*255)) << 4
	if err := d.dev.Tx([]byte{dacDataA + reg, byte(code >> 8), byte(code)}, nil); err != nil {
		return fail(err)
	}
	return nil
}

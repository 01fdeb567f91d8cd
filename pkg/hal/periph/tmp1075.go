package periph

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/i2c"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// TMP1075Addr is the heating PCB's temperature sensor on every HAT revision.
const TMP1075Addr = 0x4F

// The TMP1075's specified range.
const (
	tmp1075Min = -55.0
	tmp1075Max = 125.0
)

// TMP1075 reads the heating PCB's temperature (docs/hardware.md, "Heating PCB"). It implements
// hal.Thermometer.
type TMP1075 struct {
	dev i2c.Dev
}

var _ hal.Thermometer = (*TMP1075)(nil)

// NewTMP1075 talks to the sensor at addr on bus. The configuration register is never written:
// the power-on default (continuous conversion) is what the reference relies on.
func NewTMP1075(bus i2c.Bus, addr uint16) *TMP1075 {
	return &TMP1075{dev: i2c.Dev{Bus: bus, Addr: addr}}
}

// ReadCelsius reads the temperature register: 12 bits, 0.0625 °C per step. Unlike the
// reference, the value is sign-extended, so temperatures below 0 °C read as such
// (docs/compat.md).
func (t *TMP1075) ReadCelsius(ctx context.Context) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var b [2]byte
	if err := t.dev.Tx([]byte{0x00}, b[:]); err != nil {
		return 0, fmt.Errorf("read tmp1075: %w: %w", hal.ErrNotPresent, err)
	}
	raw := int16(uint16(b[0])<<8|uint16(b[1])) >> 4 // arithmetic shift sign-extends the 12 bits
	c := float64(raw) * 0.0625
	if c > tmp1075Max || c < tmp1075Min {
		// Beyond the sensor's range: a floating bus or a broken part, not a temperature.
		return 0, fmt.Errorf("read tmp1075: %v °C: %w (the sensor reads %v to %v °C)", c, ErrOutOfRange, tmp1075Min, tmp1075Max)
	}
	return c, nil
}

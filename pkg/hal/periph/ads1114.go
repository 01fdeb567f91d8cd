package periph

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// adsPeriod is one conversion at 128 samples per second, the data rate both ADS111x drivers use.
const adsPeriod = time.Second / 128

// ADS1114 is the single-input ADC of the v1.5 and XR optics boards (one per photodiode),
// converting continuously. periph's ads1x15 has no ADS1114 mode and fixes the gain per pin.
type ADS1114 struct {
	dev  i2c.Dev
	clk  clock.Clock
	mu   sync.Mutex
	gain Gain
	fsr  float64
	next time.Time // no read before this: the last config write or read plus one conversion
}

// NewADS1114 writes the config for gain 1 (continuous conversion at 128 SPS).
func NewADS1114(bus i2c.Bus, addr uint16, clk clock.Clock) (*ADS1114, error) {
	a := &ADS1114{dev: i2c.Dev{Bus: bus, Addr: addr}, clk: clk}
	if err := a.SetGain(1); err != nil {
		return nil, err
	}
	return a, nil
}

// ads1114Config is PGA<<9 | 128 SPS<<5 | comparator off: MUX bits 0 (reserved on this part),
// MODE 0 (continuous), OS 0. Gain 1 → 0x0283.
func ads1114Config(pga uint16) uint16 { return pga<<9 | 0b100<<5 | 0b11 }

// SetGain writes the config register with the new gain.
func (a *ADS1114) SetGain(g Gain) error {
	fsr, pga, err := gainInfo(g)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := ads1114Config(pga)
	if err := a.dev.Tx([]byte{0x01, byte(c >> 8), byte(c)}, nil); err != nil {
		return fmt.Errorf("ads1114 at %s: write config: %w: %w", hex(a.dev.Addr), ErrNoAnswer, err)
	}
	a.gain, a.fsr = g, fsr
	a.next = a.clk.Now().Add(adsPeriod)
	return nil
}

// Gain is the current gain.
func (a *ADS1114) Gain() Gain {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gain
}

// ReadRaw reads the conversion register (signed, big-endian), waiting until a fresh
// conversion is due.
func (a *ADS1114) ReadRaw(ctx context.Context) (int16, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if wait := a.next.Sub(a.clk.Now()); wait > 0 {
		if err := a.clk.Sleep(ctx, wait); err != nil {
			return 0, err
		}
	}
	var b [2]byte
	if err := a.dev.Tx([]byte{0x00}, b[:]); err != nil {
		return 0, fmt.Errorf("ads1114 at %s: read: %w: %w", hex(a.dev.Addr), ErrNoAnswer, err)
	}
	a.next = a.clk.Now().Add(adsPeriod)
	return int16(uint16(b[0])<<8 | uint16(b[1])), nil
}

// ReadVolts reads in volts; a clipped reading is ErrOutOfRange (lower the gain).
func (a *ADS1114) ReadVolts(ctx context.Context) (float64, error) {
	raw, err := a.ReadRaw(ctx)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	fsr, g := a.fsr, a.gain
	a.mu.Unlock()
	if adsSaturated(raw) {
		return adsVolts(raw, fsr), fmt.Errorf("ads1114 at %s reads %d at gain %v: %w", hex(a.dev.Addr), raw, float64(g), ErrOutOfRange)
	}
	return adsVolts(raw, fsr), nil
}

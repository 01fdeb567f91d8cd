package periph

import (
	"context"
	"fmt"
	"math"

	"periph.io/x/conn/v3/i2c"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// RP2040Addr is the HAT MCU on HAT ≥ 1.1 (firmware before 0.2 answered at 0x30).
const RP2040Addr = 0x2C

// RP2040 registers: a pointer byte, then data (firmware 0.5).
const (
	rpLEDBase      = 0x00 // 0–3: LED A–D duty, one byte
	rpADCBase      = 0x04 // 4–7: ADC inputs 0–3, two bytes little-endian
	rpVersion      = 0x08 // firmware version: minor, major
	rpInvalidWord  = 0xFFFF
	rpChannels     = 4
	rpVoltsFull    = 3.3
	rpCodesPerVolt = 4095 / rpVoltsFull
)

// RP2040 is the HAT's microcontroller: it drives LEDs A–D and samples four ADC inputs (the
// version divider, the aux rail and two photodiodes). Its quirks, which the driver works
// around: every read is a pointer write plus a repeated-start read in one transaction (the
// pointer persists between transactions, so a bare read returns the last register); pointers
// 0–3 and anything above 8 read FF FF; extra bytes after an LED write rewrite the same LED
// (no auto-increment), so LEDs are written one transaction each; the ADC cache is 16 bits and
// wraps above about 1.65 V at the pin with firmware ≥ 0.4.
type RP2040 struct {
	dev      i2c.Dev
	firmware Version
	scale    float64 // ADC sum per 12-bit code: 32 from firmware 0.4, else 16
}

var (
	_ hal.LEDs     = (*RP2040)(nil)
	_ hal.Firmware = (*RP2040)(nil)
)

// NewRP2040 reads the firmware version once (it fixes the ADC scale). firmware, when not
// zero, overrides what the chip says (FIRMWARE=0.5).
func NewRP2040(bus i2c.Bus, addr uint16, firmware Version) (*RP2040, error) {
	r := &RP2040{dev: i2c.Dev{Bus: bus, Addr: addr}}
	if firmware == (Version{}) {
		v, err := r.readVersion()
		if err != nil {
			return nil, err
		}
		firmware = v
	}
	r.firmware = firmware
	r.scale = 16
	if !firmware.Less(Version{0, 4}) {
		r.scale = 32
	}
	return r, nil
}

func (r *RP2040) notFound(what string, err error) error {
	return fmt.Errorf("rp2040 %s at %s (is the HAT attached? is its firmware loaded?): %w: %w", what, hex(r.dev.Addr), ErrNoAnswer, err)
}

func (r *RP2040) readVersion() (Version, error) {
	var b [2]byte
	if err := r.dev.Tx([]byte{rpVersion}, b[:]); err != nil {
		return Version{}, r.notFound("firmware version", err)
	}
	if b == [2]byte{0xFF, 0xFF} {
		return Version{}, fmt.Errorf("rp2040 firmware version reads FF FF (firmware too old, or still loading): %w", ErrOutOfRange)
	}
	return Version{Major: int(b[1]), Minor: int(b[0])}, nil
}

// Firmware implements hal.Firmware.
func (r *RP2040) Firmware(ctx context.Context) (hal.FirmwareVersion, error) {
	return hal.FirmwareVersion{Major: r.firmware.Major, Minor: r.firmware.Minor}, ctx.Err()
}

// SetIntensity implements hal.LEDs: code = round(percent × 255 / 100).
func (r *RP2040) SetIntensity(channel string, percent float64) error {
	reg, err := ledRegister(channel)
	if err != nil {
		return err
	}
	if !(percent >= 0 && percent <= 100) {
		return fmt.Errorf("LED %s at %v%%: %w (want 0–100)", channel, percent, ErrOutOfRange)
	}
	code := byte(math.RoundToEven(percent / 100 * 255))
	if err := r.dev.Tx([]byte{rpLEDBase + reg, code}, nil); err != nil {
		return r.notFound("LED "+channel, err)
	}
	return nil
}

// ledRegister is 0 for A … 3 for D.
func ledRegister(channel string) (byte, error) {
	for i, c := range hal.LEDChannels {
		if c == channel {
			return byte(i), nil
		}
	}
	return 0, fmt.Errorf("LED channel %q: %w (want A–D)", channel, ErrOutOfRange)
}

// ReadRaw reads ADC input 0–3: the firmware's oversampled sum, unsigned.
func (r *RP2040) ReadRaw(ctx context.Context, input int) (uint16, error) {
	if input < 0 || input >= rpChannels {
		return 0, fmt.Errorf("rp2040 ADC input %d: %w (want 0–3)", input, ErrOutOfRange)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var b [2]byte
	if err := r.dev.Tx([]byte{rpADCBase + byte(input)}, b[:]); err != nil {
		return 0, r.notFound(fmt.Sprintf("ADC input %d", input), err)
	}
	raw := uint16(b[0]) | uint16(b[1])<<8
	if raw == rpInvalidWord {
		// What an invalid pointer reads: the firmware is not answering with a sample.
		return 0, fmt.Errorf("rp2040 ADC input %d reads FF FF: %w", input, ErrOutOfRange)
	}
	return raw, nil
}

// ReadVolts reads input 0–3 in volts at the pin.
func (r *RP2040) ReadVolts(ctx context.Context, input int) (float64, error) {
	raw, err := r.ReadRaw(ctx, input)
	if err != nil {
		return 0, err
	}
	return r.Volts(raw), nil
}

// Volts converts a raw reading: raw / 4095 / scale × 3.3.
func (r *RP2040) Volts(raw uint16) float64 { return float64(raw) / 4095 / r.scale * rpVoltsFull }

// Raw is the inverse of Volts (truncated), for dark offsets kept in raw units.
func (r *RP2040) Raw(volts float64) float64 { return volts * rpCodesPerVolt * r.scale }

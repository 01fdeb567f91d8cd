package periph

import (
	"context"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/i2c"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// ADS1115Addr is HAT 1.0's four-input ADC.
const ADS1115Addr = 0x48

// ADS1115Timeout bounds one single-shot conversion (8 ms at 128 SPS): the original polls
// forever, which would hang a job on a wedged chip.
const ADS1115Timeout = 100 * time.Millisecond

// ADS1115 is HAT 1.0's ADC: single-shot conversions of one input at a time.
type ADS1115 struct {
	dev     i2c.Dev
	clk     clock.Clock
	timeout time.Duration
	mu      sync.Mutex
	gain    Gain
	fsr     float64
	pga     uint16
}

// NewADS1115 checks that the chip answers (the original's constructor does too).
func NewADS1115(bus i2c.Bus, p Prober, addr uint16, clk clock.Clock) (*ADS1115, error) {
	if err := p.Probe(addr); err != nil {
		return nil, fmt.Errorf("ads1115: %w", err)
	}
	a := &ADS1115{dev: i2c.Dev{Bus: bus, Addr: addr}, clk: clk, timeout: ADS1115Timeout}
	return a, a.SetGain(1)
}

// ads1115Config starts one conversion of input ch: OS | MUX(4+ch) | PGA | single-shot |
// 128 SPS | comparator off. AIN1 at gain 1 → 0xD383.
func ads1115Config(ch int, pga uint16) uint16 {
	return 0x8000 | uint16(4+ch)<<12 | pga<<9 | 0x0100 | 0x0080 | 0x0003
}

// SetGain sets the gain of the next conversions (unlike the original, which forgot to record it).
func (a *ADS1115) SetGain(g Gain) error {
	fsr, pga, err := gainInfo(g)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.gain, a.fsr, a.pga = g, fsr, pga
	a.mu.Unlock()
	return nil
}

// Gain is the current gain.
func (a *ADS1115) Gain() Gain {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gain
}

// ReadRaw converts input ch (0–3): write the config, poll its OS bit until the conversion is
// done (at most the timeout), read the result (signed, big-endian).
func (a *ADS1115) ReadRaw(ctx context.Context, ch int) (int16, error) {
	if ch < 0 || ch > 3 {
		return 0, fmt.Errorf("ads1115 input %d: %w (want 0–3)", ch, ErrOutOfRange)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	fail := func(what string, err error) (int16, error) {
		return 0, fmt.Errorf("ads1115 at %s: %s: %w: %w", hex(a.dev.Addr), what, ErrNoAnswer, err)
	}
	c := ads1115Config(ch, a.pga)
	if err := a.dev.Tx([]byte{0x01, byte(c >> 8), byte(c)}, nil); err != nil {
		return fail("start conversion", err)
	}
	deadline := a.clk.Now().Add(a.timeout)
	for {
		var b [2]byte
		if err := a.dev.Tx([]byte{0x01}, b[:]); err != nil {
			return fail("poll", err)
		}
		if b[0]&0x80 != 0 {
			break
		}
		if !a.clk.Now().Before(deadline) {
			return 0, fmt.Errorf("ads1115 at %s: conversion of input %d not done after %v: %w", hex(a.dev.Addr), ch, a.timeout, ErrTimeout)
		}
		if err := a.clk.Sleep(ctx, time.Millisecond); err != nil {
			return 0, err
		}
	}
	var b [2]byte
	if err := a.dev.Tx([]byte{0x00}, b[:]); err != nil {
		return fail("read", err)
	}
	return int16(uint16(b[0])<<8 | uint16(b[1])), nil
}

// ReadVolts converts input ch in volts; a clipped reading is ErrOutOfRange.
func (a *ADS1115) ReadVolts(ctx context.Context, ch int) (float64, error) {
	raw, err := a.ReadRaw(ctx, ch)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	fsr, g := a.fsr, a.gain
	a.mu.Unlock()
	if adsSaturated(raw) {
		return adsVolts(raw, fsr), fmt.Errorf("ads1115 input %d reads %d at gain %v: %w", ch, raw, float64(g), ErrOutOfRange)
	}
	return adsVolts(raw, fsr), nil
}

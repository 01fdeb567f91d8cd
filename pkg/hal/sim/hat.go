package sim

import (
	"context"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// The simulated HAT's rail, MCU firmware and the Pi's power flag: a healthy 5 V supply and
// firmware 0.5, so the monitor and self-test see what a sound unit reports.
type (
	rail     struct{}
	firmware struct{}
	power    struct{}
)

// RailVolts is the simulated aux rail: the Pi's own 5 V.
const RailVolts = 5.0

func (rail) RailVolts(ctx context.Context) (float64, error) { return RailVolts, ctx.Err() }

func (firmware) Firmware(ctx context.Context) (hal.FirmwareVersion, error) {
	return hal.FirmwareVersion{Major: 0, Minor: 5}, ctx.Err()
}

func (power) UnderVoltage() (hal.UnderVoltageFlag, error) { return hal.UnderVoltageClear, nil }

// WithHAT adds the simulated rail, firmware and power flag to a board.
func WithHAT(b hal.Board) hal.Board {
	b.Rail, b.Firmware, b.Power = rail{}, firmware{}, power{}
	return b
}

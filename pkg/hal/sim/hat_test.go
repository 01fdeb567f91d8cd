package sim

import (
	"context"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

func TestWithHAT(t *testing.T) {
	t.Parallel()
	b := WithHAT(hal.Board{})
	v, err := b.Rail.RailVolts(context.Background())
	if err != nil || v != RailVolts {
		t.Fatalf("rail %v, %v", v, err)
	}
	if f, err := b.Firmware.Firmware(context.Background()); err != nil || f != (hal.FirmwareVersion{Major: 0, Minor: 5}) {
		t.Fatalf("firmware %v, %v", f, err)
	}
	if f, _ := b.Power.UnderVoltage(); hal.PowerProblem(v, f) {
		t.Fatal("a healthy simulated supply reports a power problem")
	}
}

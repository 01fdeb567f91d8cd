package jobs

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

type fixedRail float64

func (r fixedRail) RailVolts(context.Context) (float64, error) { return float64(r), nil }

// The aux-power check reads the HAT's rail: the simulated HAT's 5 V passes, 19 V fails, and a
// board without a rail skips the check.
func TestSelfTestAuxPower(t *testing.T) {
	for _, c := range []struct {
		name string
		rail hal.RailVoltage
		want string
	}{{"simulated HAT", sim.WithHAT(hal.Board{}).Rail, "1"}, {"12 V supply plus", fixedRail(19), "0"}, {"no rail", nil, ""}} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := mediaParams()
				r := &odRig{simRig: newRig(t, rigConfig{specs: odSpecs(ODDeps{CacheDir: t.TempDir(), Simulated: true}), params: &p,
					log: slog.DiscardHandler, board: func(plant *sim.Bioreactor) hal.Board {
						board := plant.Board()
						board.Rail = c.rail
						return board
					}})}
				defer r.close()
				if err := r.startErr("self_test", map[string]any{"k": "aux"}); err != nil {
					t.Fatal(err)
				}
				waitDisconnected(t, r, "self_test")
				if got := r.selfTestResult("test_aux_power_is_not_too_high"); got != c.want {
					t.Fatalf("test_aux_power_is_not_too_high = %q, want %q", got, c.want)
				}
			})
		})
	}
}

package jobs

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
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
				plant, err := sim.New(mediaParams(), clock.Real{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				board := plant.Board()
				board.Rail = c.rail
				db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{NoSync: true})
				if err != nil {
					t.Fatal(err)
				}
				bus := pubsub.NewBus()
				sup, err := supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: odSpecs(ODDeps{CacheDir: t.TempDir(), Simulated: true}),
					Dialer: bus, Registry: db.Registry(), Board: board, Clock: clock.Real{},
					Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Conf: config.LoadDefault()})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				r := &odRig{simRig: &simRig{t: t, bus: bus, plant: plant, sup: sup, cancel: cancel, done: make(chan struct{}), db: db}}
				go func() { _ = sup.Run(ctx); close(r.done) }()
				time.Sleep(time.Millisecond)
				defer r.close()
				if err := sup.StartJob(context.Background(), "self_test", contract.RunRequest{Options: map[string]any{"k": "aux"}, Env: map[string]string{"EXPERIMENT": "exp"}}); err != nil {
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

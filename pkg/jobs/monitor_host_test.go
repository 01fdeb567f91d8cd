package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// TestMonitorPublishesRail: on a board with a HAT the monitor publishes the PWM rail's
// voltage, retained, as a Voltage payload.
func TestMonitorPublishesRail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plant, err := sim.New(sim.DefaultParams(), clock.Real{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		bus := pubsub.NewBus()
		sup, err := supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: []supervisor.Spec{NewMonitorSpec("1.0")},
			Dialer: bus, Registry: db.Registry(), Board: sim.WithHAT(plant.Board()), Clock: clock.Real{},
			Log: slog.New(slog.DiscardHandler), Conf: config.LoadDefault()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = sup.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		if err := sup.StartJob(ctx, "monitor", contract.RunRequest{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		b, _ := bus.Retained(contract.JobTopic("pio01", contract.UniversalExp, "monitor", "voltage_on_pwm_rail"))
		var v struct {
			Voltage   float64 `json:"voltage"`
			Timestamp string  `json:"timestamp"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Voltage != sim.RailVolts || v.Timestamp == "" {
			t.Fatalf("voltage_on_pwm_rail %q", b)
		}
		wlan, eth := macAddresses()
		for attr, want := range map[string]string{"wlan_mac_address": wlan, "eth_mac_address": eth} {
			got, _ := bus.Retained(contract.JobTopic("pio01", contract.UniversalExp, "monitor", attr))
			if string(got) != want {
				t.Errorf("%s %q, want %q", attr, got, want)
			}
		}
	})
}

package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// TestMonitorPublishesRail: on a board with a HAT the monitor publishes the PWM rail's
// voltage, retained, as a Voltage payload.
func TestMonitorPublishesRail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, rigConfig{specs: []supervisor.Spec{NewMonitorSpec("1.0")}, log: slog.DiscardHandler,
			board: func(plant *sim.Bioreactor) hal.Board { return sim.WithHAT(plant.Board()) }})
		defer r.close()
		if err := r.sup.StartJob(context.Background(), "monitor", contract.RunRequest{}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		b, _ := r.bus.Retained(contract.JobTopic("pio01", contract.UniversalExp, "monitor", "voltage_on_pwm_rail"))
		var v struct {
			Voltage   float64 `json:"voltage"`
			Timestamp string  `json:"timestamp"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Voltage != sim.RailVolts || v.Timestamp == "" {
			t.Fatalf("voltage_on_pwm_rail %q", b)
		}
		wlan, eth := macAddresses()
		for attr, want := range map[string]string{"wlan_mac_address": wlan, "eth_mac_address": eth} {
			got, _ := r.bus.Retained(contract.JobTopic("pio01", contract.UniversalExp, "monitor", attr))
			if string(got) != want {
				t.Errorf("%s %q, want %q", attr, got, want)
			}
		}
	})
}

package jobs

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// TestBioreactorAnnouncedOnJoin: when the leader's retained assignment puts the unit in an
// experiment, all six bioreactor variables of that experiment are published retained, so a
// page opened later sees them; an unassignment publishes nothing.
func TestBioreactorAnnouncedOnJoin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDosingRig(t, sim.DefaultParams())
		defer r.close()
		if _, _, err := r.dosing.Bioreactor.Update("exp2", r.conf, map[string]float64{contract.CurrentVolumeML: 12.5}); err != nil {
			t.Fatal(err)
		}
		if err := r.sup.StartJob(context.Background(), BioreactorJobName, contract.RunRequest{}); err != nil {
			t.Fatal(err)
		}
		c, err := r.bus.Dial(context.Background(), pubsub.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		assign := func(exp string) {
			payload := `{"pioreactor_unit":"pio01","experiment":null,"assigned_at":null,"updated_at":"2026-03-01T12:00:00.000Z"}`
			if exp != "" {
				payload = `{"pioreactor_unit":"pio01","experiment":"` + exp + `","assigned_at":"2026-03-01T12:00:00.000Z","updated_at":"2026-03-01T12:00:00.000Z"}`
			}
			if err := c.Publish(context.Background(), contract.AssignmentTopicFor("pio01"), []byte(payload), pubsub.ExactlyOnce, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		value := func(exp, name string) string {
			b, _ := r.bus.Retained(contract.BioreactorTopic("pio01", exp, name))
			return string(b)
		}
		assign("exp2")
		for name, want := range map[string]string{contract.CurrentVolumeML: "12.5", contract.EffluxTubeVolumeML: "15.0", // the template's [bioreactor]
			contract.AltMediaFraction: "0.0", contract.CumulativeMediaAddedML: "0.0", contract.CumulativeAltMediaAddedML: "0.0",
			contract.CumulativeWasteRemovedML: "0.0"} {
			if got := value("exp2", name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		assign("")
		if got := value("", contract.CurrentVolumeML); got != "" {
			t.Errorf("unassigned: published %q", got)
		}
	})
}

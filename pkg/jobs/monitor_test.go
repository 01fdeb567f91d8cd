package jobs

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

func TestMonitorBlinksButtonAndVitals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSimRig(t, NewMonitorSpec("1.2.3"))
		defer r.close()
		r.plant.SetHost(2.5, 50)
		r.start("monitor", nil)
		retained := func(attr string) string {
			b, _ := r.bus.Retained(contract.JobTopic("pio01", contract.UniversalExp, "monitor", attr))
			return string(b)
		}
		time.Sleep(10 * time.Second)
		if got := retained("$state"); got != "ready" {
			t.Fatalf("monitor state %q", got)
		}
		var v struct{ App string }
		if err := json.Unmarshal([]byte(retained("versions")), &v); err != nil || v.App != "1.2.3" {
			t.Fatalf("versions %q", retained("versions"))
		}
		var stats struct {
			Disk float64 `json:"available_disk_space"`
		}
		if err := json.Unmarshal([]byte(retained("computer_statistics")), &stats); err != nil || stats.Disk != 2.5 {
			t.Fatalf("computer_statistics %q", retained("computer_statistics"))
		}
		time.Sleep(30 * time.Second) // the start-up blink and the disk-full code play out
		before := r.plant.LEDBlinks()
		c, _ := r.bus.Dial(context.Background(), pubsub.Options{})
		defer c.Close()
		_ = c.Publish(context.Background(), contract.OKBlinkTopic(contract.Broadcast, contract.UniversalExp), []byte("1"), 1, false)
		time.Sleep(10 * time.Second)
		if got := r.plant.LEDBlinks() - before; got != 8 {
			t.Fatalf("OK blink switched the LED on %d times, want 8", got)
		}
		r.plant.PressButton(true)
		time.Sleep(time.Second)
		if got := retained("button_down"); got != "True" {
			t.Fatalf("button_down %q after press", got)
		}
		r.plant.PressButton(false)
		time.Sleep(time.Second)
		if got := retained("button_down"); got != "False" {
			t.Fatalf("button_down %q after release", got)
		}
	})
}

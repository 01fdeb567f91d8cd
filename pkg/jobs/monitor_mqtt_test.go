package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// linkDialer dials the bus and hands out connections that report link as their state, as a
// paho connection reports its socket: a fake link the test cuts and restores.
type linkDialer struct {
	bus  *pubsub.Bus
	link *atomic.Bool
}

func (d linkDialer) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.bus.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	return linkClient{Client: c, link: d.link}, nil
}

type linkClient struct {
	pubsub.Client
	link *atomic.Bool
}

func (c linkClient) Connected() bool { return c.link.Load() }

// TestMonitorMQTTCheck: a worker whose connection to the broker is down at its self-check
// warns, blinks code 2 every 2 s until the connection is back, then says so and stops
// blinking; the leader's own unit skips the check.
func TestMonitorMQTTCheck(t *testing.T) {
	for _, c := range []struct {
		name        string
		unitLeader  bool // the unit is the leader (no MQTT check)
		down        bool // the link is down for the first minute
		wantWarning bool
	}{
		{"link up", false, false, false},
		{"link down for a minute", false, true, true},
		{"leader's own unit, link down", true, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				link := &atomic.Bool{}
				link.Store(!c.down)
				spec := NewMonitorSpec("1.0")
				build := spec.New
				spec.New = func(o supervisor.Options) (supervisor.Job, error) {
					j, err := build(o)
					if err == nil {
						j.(*Monitor).hc.ipv4 = func() string { return "10.0.0.7" }
					}
					return j, err
				}
				leader := "leader"
				if c.unitLeader {
					leader = "pio01"
				}
				p := sim.DefaultParams()
				r := newRig(t, rigConfig{specs: []supervisor.Spec{spec}, params: &p, keepLogs: true,
					overrides: [][3]string{{"cluster.topology", "leader_hostname", leader}},
					board:     func(plant *sim.Bioreactor) hal.Board { return sim.WithHAT(plant.Board()) },
					dialer:    func(b *pubsub.Bus) pubsub.Dialer { return linkDialer{bus: b, link: link} }})
				defer r.close()
				r.start("monitor", nil)
				time.Sleep(5 * time.Second) // ready; the OK blink started
				start := r.plant.LEDBlinks()
				time.Sleep(time.Minute - 5*time.Second)
				link.Store(true)
				during := r.plant.LEDBlinks() - start
				time.Sleep(30 * time.Second) // a blink under way ends
				settled := r.plant.LEDBlinks()
				time.Sleep(time.Minute)
				after := r.plant.LEDBlinks() - settled

				warned := r.logs.has("WARN", "Not able to connect to the leader's MQTT broker")
				if warned != c.wantWarning {
					t.Fatalf("warning logged %v, want %v:\n%v", warned, c.wantWarning, r.logs.lines)
				}
				if !c.wantWarning {
					if during > 8 {
						t.Fatalf("LED switched on %d times after ready, more than the OK blink", during)
					}
					return
				}
				// What is left of the OK blink, then code 2 (on 3 times: the long one and two
				// short ones, 8.25 s per sequence): at least five in the 55 s the link was down.
				if during < 5*3 {
					t.Fatalf("LED switched on %d times while the link was down, want code 2 blinked at least five times", during)
				}
				if !r.logs.has("INFO", "connected to the leader's MQTT broker again") {
					t.Fatalf("no recovery logged:\n%v", r.logs.lines)
				}
				if after != 0 {
					t.Fatalf("LED switched on %d times in the minute after the link came back", after)
				}
			})
		})
	}
}

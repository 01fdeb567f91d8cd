package simtruth

import (
	"context"
	"regexp"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/pubsubtest"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// A simulated worker's truth publisher connects on the broker's public listener: its id
// carries a random suffix so a stranger cannot guess it and take the connection over.
func TestClientIDUnguessable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plant, err := sim.New(sim.DefaultParams(), clock.Real{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := &pubsubtest.IDRecorder{Dialer: pubsub.NewBus()}
		p, err := New(Config{Unit: "pio01", Truth: plant.Truth, Experiment: func() string { return "exp" },
			Dialer: d, Clock: clock.Real{}, Every: every})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		time.Sleep(time.Second)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := regexp.MustCompile(`^simulation-truth-pio01-[a-z2-7]{16}$`)
		if ids := d.IDs(); len(ids) != 1 || !want.MatchString(ids[0]) {
			t.Fatalf("dialed %q; want one id like simulation-truth-pio01-<16 random characters>", ids)
		}
	})
}

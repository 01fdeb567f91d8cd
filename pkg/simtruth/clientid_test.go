package simtruth

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

type idRecorder struct {
	bus *pubsub.Bus
	mu  sync.Mutex
	ids []string
}

func (d *idRecorder) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	d.mu.Lock()
	d.ids = append(d.ids, o.ClientID)
	d.mu.Unlock()
	return d.bus.Dial(ctx, o)
}

// A simulated worker's truth publisher connects on the broker's public listener: its id
// carries a random suffix so a stranger cannot guess it and take the connection over.
func TestClientIDUnguessable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		plant, err := sim.New(sim.DefaultParams(), clock.Real{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := &idRecorder{bus: pubsub.NewBus()}
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
		d.mu.Lock()
		defer d.mu.Unlock()
		want := regexp.MustCompile(`^simulation-truth-pio01-[a-z2-7]{16}$`)
		if len(d.ids) != 1 || !want.MatchString(d.ids[0]) {
			t.Fatalf("dialed %q; want one id like simulation-truth-pio01-<16 random characters>", d.ids)
		}
	})
}

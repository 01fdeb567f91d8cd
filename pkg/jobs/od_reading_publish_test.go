package jobs

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

var errFrozen = errors.New("broker frozen")

// failingDialer dials bus, but every publish to a topic ending in suffix fails, as the
// retained `ods` does against a frozen broker while smaller messages still get through.
type failingDialer struct {
	bus    *pubsub.Bus
	suffix string
}

func (d failingDialer) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.bus.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	return failingClient{c, d.suffix}, nil
}

type failingClient struct {
	pubsub.Client
	suffix string
}

func (c failingClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if strings.HasSuffix(topic, c.suffix) {
		return errFrozen
	}
	return c.Client.Publish(ctx, topic, payload, qos, retain)
}

// A failed `ods` publish does not cost the reading: od<ch> is still published.
func TestODReadingPublishesDataWhenODsFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.Real{}
		plant, err := sim.New(sim.DefaultParams(), clk, nil)
		if err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		bus := pubsub.NewBus()
		d := ODDeps{CacheDir: t.TempDir(), Simulated: true}
		sup, err := supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: odSpecs(d),
			Dialer: failingDialer{bus, "/od_reading/ods"}, Registry: db.Registry(), Board: plant.Board(), Clock: clk,
			Log: slog.New(slog.NewTextHandler(testLogOut, nil)), Conf: config.LoadDefault()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &simRig{t: t, bus: bus, plant: plant, sup: sup, cancel: cancel, done: make(chan struct{}), db: db}
		go func() { _ = sup.Run(ctx); close(r.done) }()
		defer r.close()
		time.Sleep(time.Millisecond)
		r.start("od_reading", nil)
		time.Sleep(time.Minute)
		if r.retained("od_reading", "ods") != "" {
			t.Fatal("the fake let ods through")
		}
		if r.retained("od_reading", "od2") == "" {
			t.Fatal("od2 was not published after ods failed: the reading is lost")
		}
	})
}

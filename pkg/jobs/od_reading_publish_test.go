package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
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
		r := newRig(t, rigConfig{specs: odSpecs(ODDeps{CacheDir: t.TempDir(), Simulated: true}),
			dialer: func(bus *pubsub.Bus) pubsub.Dialer { return failingDialer{bus, "/od_reading/ods"} }})
		defer r.close()
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

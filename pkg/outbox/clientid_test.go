package outbox_test

import (
	"context"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// idRecorder dials on a Bus and remembers the client ids asked for.
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

// The outbox connects on the broker's public listener: an id a stranger can guess could be
// taken over, cutting the worker off, so it carries a random suffix like every other
// connection of the daemon.
func TestOutboxClientIDUnguessable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &idRecorder{bus: pubsub.NewBus()}
		w := startWorker(t, d, filepath.Join(t.TempDir(), "outbox.db"), nil)
		time.Sleep(time.Second)
		synctest.Wait()
		w.halt(t)
		want := regexp.MustCompile(`^outbox-pio01-[a-z2-7]{16}$`)
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, id := range d.ids {
			if want.MatchString(id) {
				return
			}
		}
		t.Fatalf("the outbox dialed %q; want an id like outbox-pio01-<16 random characters>", d.ids)
	})
}

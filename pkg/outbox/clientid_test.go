package outbox_test

import (
	"path/filepath"
	"regexp"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/pubsubtest"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// The outbox connects on the broker's public listener: an id a stranger can guess could be
// taken over, cutting the worker off, so it carries a random suffix like every other
// connection of the daemon.
func TestOutboxClientIDUnguessable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &pubsubtest.IDRecorder{Dialer: pubsub.NewBus()}
		w := startWorker(t, d, filepath.Join(t.TempDir(), "outbox.db"), nil)
		time.Sleep(time.Second)
		synctest.Wait()
		w.halt(t)
		want := regexp.MustCompile(`^outbox-pio01-[a-z2-7]{16}$`)
		for _, id := range d.IDs() {
			if want.MatchString(id) {
				return
			}
		}
		t.Fatalf("the outbox dialed %q; want an id like outbox-pio01-<16 random characters>", d.IDs())
	})
}

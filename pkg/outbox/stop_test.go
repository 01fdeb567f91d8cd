package outbox_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// slowJobs dials on a Bus; the jobs' connections (not the Outbox's own) take 100 ms per
// publish, as a broker on the network does, so that messages wait in the sender's queue.
type slowJobs struct{ bus *pubsub.Bus }

func (d slowJobs) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.bus.Dial(ctx, o)
	if err != nil || strings.HasPrefix(o.ClientID, "outbox-") {
		return c, err
	}
	return slowClient{c}, nil
}

type slowClient struct{ pubsub.Client }

func (c slowClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.Client.Publish(ctx, topic, payload, qos, retain)
}

// A clean stop on a healthy link is no outage: the readings the job published just before
// it are sent, not spooled, and nothing delivered earlier is spooled either. (The sender
// used to spool whatever was queued, or being published, when Run's context ended: every
// stop of a worker left its last messages for a replay at the next start.)
func TestCleanStopSpoolsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		spool := filepath.Join(t.TempDir(), "outbox.db")
		w := startWorker(t, slowJobs{bus}, spool, nil)
		time.Sleep(time.Second)
		synctest.Wait()
		for i := range 10 {
			w.reading(t, i)
			time.Sleep(time.Second)
		}
		// The last five are still queued, or on their way, when the stop comes.
		for i := 10; i < 15; i++ {
			w.reading(t, i)
		}
		w.stop()
		if err := <-w.done; err != nil {
			t.Fatal(err)
		}
		st := w.ob.Stats()
		w.conn.Close()
		if err := w.db.Close(); err != nil {
			t.Fatal(err)
		}
		if st.Pending != 0 || st.Spooled != 0 || st.Resent != 0 {
			t.Errorf("stats after a clean stop = %+v, want nothing spooled", st)
		}
		time.Sleep(5 * time.Second) // the store's writer commits
		synctest.Wait()
		l.halt(t)
		checkReadings(t, db, 15)
	})
}

// What the spool holds at a clean stop on a healthy link is replayed before Run returns:
// here readings spooled because the sender's queue was full, which Run would replay only
// at its next probe.
func TestCleanStopReplaysTheSpool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		w := startWorker(t, slowJobs{bus}, filepath.Join(t.TempDir(), "outbox.db"), func(c *outbox.Config) { c.Queue = 1 })
		time.Sleep(time.Second)
		synctest.Wait()
		for i := range 5 { // one on its way, one queued, three spooled
			w.reading(t, i)
		}
		w.stop()
		if err := <-w.done; err != nil {
			t.Fatal(err)
		}
		st := w.ob.Stats()
		w.conn.Close()
		if err := w.db.Close(); err != nil {
			t.Fatal(err)
		}
		if st.Pending != 0 || st.Spooled == 0 || st.Replayed != st.Spooled {
			t.Errorf("stats after a clean stop = %+v, want every spooled message replayed", st)
		}
		time.Sleep(5 * time.Second) // the store's writer commits
		synctest.Wait()
		l.halt(t)
		checkReadings(t, db, 5)
	})
}

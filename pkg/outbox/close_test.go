package outbox_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// opLog records, in order, what happens on the jobs' connections.
type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) add(op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
}

// loggedJobs dials on a Bus; the jobs' connections (not the Outbox's own) take 100 ms per
// publish, as a broker on the network does, and log their publishes and their closing.
type loggedJobs struct {
	bus *pubsub.Bus
	log *opLog
}

func (d loggedJobs) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.bus.Dial(ctx, o)
	if err != nil || strings.HasPrefix(o.ClientID, "outbox-") {
		return c, err
	}
	return &loggedClient{Client: c, log: d.log}, nil
}

type loggedClient struct {
	pubsub.Client
	log *opLog
}

func (c *loggedClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	select {
	case <-time.After(100 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := c.Client.Publish(ctx, topic, payload, qos, retain); err != nil {
		return err
	}
	c.log.add("publish " + topic + " " + string(payload))
	return nil
}

func (c *loggedClient) Close() {
	c.log.add("close")
	c.Client.Close()
}

// A stopping job publishes its `disconnected` and closes its connection at once: the
// state must go out on that connection before it closes, as it would without the Outbox.
// (Close used to overtake the sender, racing its publish on the same connection.)
func TestCloseAfterQueuedState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		ops := &opLog{}
		w := startWorker(t, loggedJobs{bus: bus, log: ops}, filepath.Join(t.TempDir(), "outbox.db"), nil)
		time.Sleep(time.Second)
		synctest.Wait()
		const state = "pioreactor/pio01/exp/od_reading/$state"
		if err := w.conn.Publish(context.Background(), state, []byte("ready"), pubsub.ExactlyOnce, true); err != nil {
			t.Fatal(err)
		}
		w.reading(t, 1)
		if err := w.conn.Publish(context.Background(), state, []byte("disconnected"), pubsub.ExactlyOnce, true); err != nil {
			t.Fatal(err)
		}
		w.conn.Close()
		time.Sleep(2 * time.Second)
		synctest.Wait()
		ops.mu.Lock()
		got := slices.Clone(ops.ops)
		ops.mu.Unlock()
		last := len(got) - 1
		if last < 1 || got[last] != "close" || got[last-1] != "publish "+state+" disconnected" {
			t.Errorf("on the job's connection: %q; want its `disconnected` published, then the close", got)
		}
		w.stop()
		if err := <-w.done; err != nil {
			t.Fatal(err)
		}
		if err := w.db.Close(); err != nil {
			t.Fatal(err)
		}
		l.halt(t)
	})
}

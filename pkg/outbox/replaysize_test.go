package outbox_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// smallPackets dials bus, but a publish larger than max fails, as a broker with a small
// max_packet_size disconnects the client that sends one.
type smallPackets struct {
	bus *pubsub.Bus
	max int
}

func (d smallPackets) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.bus.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	return smallPacketsClient{c, d.max}, nil
}

type smallPacketsClient struct {
	pubsub.Client
	max int
}

func (c smallPacketsClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if len(topic)+len(payload) > c.max {
		return fmt.Errorf("packet of %d bytes: %w", len(topic)+len(payload), errDown)
	}
	return c.Client.Publish(ctx, topic, payload, qos, retain)
}

// 500 log lines of 4 KiB spooled before the leader stored anything (2.7 MB of replay
// once in base64) reach a leader whose broker takes packets of 64 KiB: replays are cut
// to MaxBytes, and every line is stored.
func TestReplayIsBoundedInBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 64 << 10
		bus := pubsub.NewBus()
		w := startWorker(t, smallPackets{bus, limit}, filepath.Join(t.TempDir(), "outbox.db"), func(c *outbox.Config) {
			c.MaxBytes = limit / 2
		})
		const n = 500
		msg := strings.Repeat("x", 4<<10)
		for i := range n {
			payload := fmt.Sprintf(`{"message":%q,"level":"INFO","task":"stirring","source":"app","timestamp":"%s"}`,
				msg, contract.FormatTime(t0.Add(time.Duration(i)*time.Second)))
			topic := contract.LogTopic("pio01", "exp1", "stirring", "INFO")
			if err := w.conn.Publish(context.Background(), topic, []byte(payload), 2, false); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if st := w.ob.Stats(); st.Pending != n {
			t.Fatalf("before the leader: %+v, want %d pending", st, n)
		}
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if st := w.ob.Stats(); st.Pending != 0 || st.Replayed != n {
			t.Errorf("after 5 min with the leader: %+v, want all %d replayed", st, n)
		}
		if c, _ := db.Count(store.Query{Table: store.Logs}); c != n {
			t.Errorf("%d log lines stored, want %d", c, n)
		}
		w.halt(t)
		l.halt(t)
	})
}

// A spooled message larger than MaxBytes on its own can never be replayed: it is dropped
// (counted), and the messages behind it are replayed.
func TestOversizedSpooledMessageIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 64 << 10
		bus := pubsub.NewBus()
		w := startWorker(t, smallPackets{bus, limit}, filepath.Join(t.TempDir(), "outbox.db"), func(c *outbox.Config) {
			c.MaxBytes = limit / 2
		})
		payload := fmt.Sprintf(`{"message":%q,"level":"INFO","timestamp":"%s"}`, strings.Repeat("x", 40<<10), contract.FormatTime(t0))
		if err := w.conn.Publish(context.Background(), contract.LogTopic("pio01", "exp1", "stirring", "INFO"), []byte(payload), 2, false); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			w.reading(t, i)
		}
		synctest.Wait()
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := w.ob.Stats(); st.Pending != 0 || st.Dropped != 1 || st.Replayed != 3 {
			t.Errorf("stats = %+v, want the large line dropped and 3 readings replayed", st)
		}
		checkReadings(t, db, 3)
		w.halt(t)
		l.halt(t)
	})
}

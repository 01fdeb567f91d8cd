package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/logtest"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// odJob reads as od_reading does: every second it publishes the retained `ods` (which the
// leader does not store) and then od1, and gives the reading up when `ods` fails, with
// the supervisor's 5 s bound on each publish.
func odJob(ctx context.Context, conn pubsub.Client, taken *[]time.Time) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		at := time.Now()
		payload := fmt.Appendf(nil, `{"calibrated":0,"timestamp":"%s","angle":"90","od":0.05,"channel":"1","ir_led_intensity":80.0}`, contract.FormatTime(at))
		*taken = append(*taken, at)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := conn.Publish(pctx, contract.JobTopic("pio01", "exp1", "od_reading", "ods"), payload, 2, true); err == nil {
			_ = conn.Publish(pctx, contract.JobTopic("pio01", "exp1", "od_reading", "od1"), payload, 2, true) // a failure is the outbox's to handle
		}
		cancel()
	}
}

// The frozen broker (kill -STOP for 30 s): publishes neither fail nor return. A
// job reading at 1 Hz keeps its pace, and every reading is stored once, with no gap
// longer than two intervals; the retained `ods` ends at the latest reading.
func TestFrozenBrokerLosesNoReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		link := &flaky{bus: bus}
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		w := startWorker(t, link, filepath.Join(t.TempDir(), "outbox.db"), nil)
		ctx, stop := context.WithCancel(context.Background())
		var taken []time.Time
		done := make(chan struct{})
		go func() { odJob(ctx, w.conn, &taken); close(done) }()
		time.Sleep(10 * time.Second)
		link.hang.Store(true)
		time.Sleep(30 * time.Second)
		link.hang.Store(false)
		time.Sleep(20 * time.Second)
		stop()
		<-done
		time.Sleep(time.Minute)
		synctest.Wait()

		var stored []time.Time
		it := db.Rows(store.Query{Table: store.ODReadings})
		for it.Next() {
			stored = append(stored, it.Row().Time)
		}
		if len(stored) != len(taken) {
			t.Errorf("%d readings stored of %d taken", len(stored), len(taken))
		}
		for i := 1; i < len(stored); i++ {
			if gap := stored[i].Sub(stored[i-1]); gap <= 0 || gap > 2*time.Second {
				t.Errorf("readings %d and %d are %v apart (at %v)", i-1, i, gap, stored[i])
			}
		}
		ods, _ := bus.Retained(contract.JobTopic("pio01", "exp1", "od_reading", "ods"))
		if want := contract.FormatTime(taken[len(taken)-1]); !bytes.Contains(ods, []byte(want)) {
			t.Errorf("retained ods = %s, want the reading at %s", ods, want)
		}
		w.halt(t)
		l.halt(t)
	})
}

// Grace is wall time: under a simulation clock 600 times faster than the wall, a message
// delivered a few wall seconds before the streamer died is still sent again.
func TestGraceIsWallTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fast, err := clock.NewScaled(600)
		if err != nil {
			t.Fatal(err)
		}
		bus := pubsub.NewBus()
		w := startWorker(t, bus, filepath.Join(t.TempDir(), "outbox.db"), func(c *outbox.Config) { c.Clock = fast })
		pub, _ := bus.Dial(context.Background(), pubsub.Options{})
		_ = pub.Publish(context.Background(), ingest.StateTopic("leader"), []byte("ready"), 2, true)
		time.Sleep(time.Second)
		for i := range 3 {
			w.reading(t, i)
			time.Sleep(time.Second)
		}
		_ = pub.Publish(context.Background(), ingest.StateTopic("leader"), []byte("lost"), 2, true)
		synctest.Wait()
		if st := w.ob.Stats(); st.Resent != 3 {
			t.Errorf("stats after the streamer died = %+v, want the 3 readings of the last 4 s resent", st)
		}
		w.halt(t)
		pub.Close()
	})
}

// failingSpool fails every write while broken.
type failingSpool struct {
	outbox.Spool
	broken atomic.Bool
}

var errDiskFull = errors.New("no space left on device")

func (f *failingSpool) Append(entries []store.OutboxEntry, limit int) (int, error) {
	if f.broken.Load() {
		return 0, errDiskFull
	}
	return f.Spool.Append(entries, limit)
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer = logtest.Buffer

// A spool that cannot be written (a full disk) is logged at its first failure, however
// the message got there (a dead link, or the Grace ring of a streamer that died), and
// reported in Stats until a write works again.
func TestSpoolFailureIsLoggedAndReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		var logs lockedBuffer
		var spool *failingSpool
		w := startWorker(t, bus, filepath.Join(t.TempDir(), "outbox.db"), func(c *outbox.Config) {
			spool = &failingSpool{Spool: c.Spool}
			c.Spool = spool
			c.Log = slog.New(slog.NewTextHandler(&logs, nil))
		})
		pub, _ := bus.Dial(context.Background(), pubsub.Options{})
		_ = pub.Publish(context.Background(), ingest.StateTopic("leader"), []byte("ready"), 2, true)
		time.Sleep(time.Second)
		spool.broken.Store(true)
		w.reading(t, 0) // delivered, kept for Grace
		_ = pub.Publish(context.Background(), ingest.StateTopic("leader"), []byte("lost"), 2, true)
		synctest.Wait()
		st := w.ob.Stats()
		if st.Failed != 1 || st.Fault == nil || st.Fault.What != "outbox spool" || !strings.Contains(st.Fault.Err, errDiskFull.Error()) || st.Fault.Since.IsZero() {
			t.Fatalf("stats after a failed spool = %+v (fault %+v)", st, st.Fault)
		}
		if n := strings.Count(logs.String(), "level=ERROR"); n != 1 || !strings.Contains(logs.String(), "outbox spool failed") {
			t.Errorf("log after a failed spool:\n%s", logs.String())
		}
		spool.broken.Store(false)
		w.reading(t, 1) // the streamer is not ready: spooled
		synctest.Wait()
		if st := w.ob.Stats(); st.Fault != nil || st.Failed != 1 {
			t.Errorf("stats once the spool works again = %+v (fault %+v)", st, st.Fault)
		}
		w.halt(t)
		pub.Close()
	})
}

// slowSubscribe makes every Subscribe after the first two wait for its context: the
// re-subscription after a reconnect that a broker answers late.
type slowSubscribe struct {
	pubsub.Dialer
	mu          sync.Mutex
	onReconnect func() // the Outbox's own connection's
	subscribes  atomic.Int64
	inFlight    atomic.Int64
}

func (d *slowSubscribe) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	if o.OnReconnect != nil {
		d.mu.Lock()
		d.onReconnect = o.OnReconnect
		d.mu.Unlock()
	}
	c, err := d.Dialer.Dial(ctx, o)
	return &slowSubscribeClient{Client: c, d: d}, err
}

type slowSubscribeClient struct {
	pubsub.Client
	d *slowSubscribe
}

func (c *slowSubscribeClient) Subscribe(ctx context.Context, filter string, qos byte, h pubsub.Handler) error {
	if c.d.subscribes.Add(1) > 2 {
		c.d.inFlight.Add(1)
		defer c.d.inFlight.Add(-1)
		<-ctx.Done()
		return ctx.Err()
	}
	return c.Client.Subscribe(ctx, filter, qos, h)
}

// Nothing Run started is still running once it has returned, even a re-subscription
// after a reconnect that the broker has not answered yet.
func TestRunJoinsItsGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &slowSubscribe{Dialer: pubsub.NewBus()}
		w := startWorker(t, d, filepath.Join(t.TempDir(), "outbox.db"), nil)
		time.Sleep(time.Second)
		synctest.Wait()
		d.mu.Lock()
		reconnected := d.onReconnect
		d.mu.Unlock()
		reconnected()
		time.Sleep(10 * time.Millisecond)
		w.halt(t) // Run has returned
		synctest.Wait()
		if n := d.inFlight.Load(); n != 0 {
			t.Errorf("%d subscriptions still running after Run returned", n)
		}
	})
}

// A job that stops publishes its last $state and closes its connection at once; the
// sender, which publishes after Publish has returned, sends it on the Outbox's own
// connection and does not take the closed one for a dead link.
func TestStoppedJobsLastValuesArePublished(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		w := startWorker(t, bus, filepath.Join(t.TempDir(), "outbox.db"), nil)
		job, err := w.ob.Dialer().Dial(context.Background(), pubsub.Options{ClientID: "stirring"})
		if err != nil {
			t.Fatal(err)
		}
		state := contract.JobTopic("pio01", "exp1", "stirring", "$state")
		time.Sleep(time.Second)
		synctest.Wait()
		// The order the sender may see them in: the connection closed before its turn.
		job.Close()
		if err := job.Publish(context.Background(), state, []byte("disconnected"), 2, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if v, _ := bus.Retained(state); string(v) != "disconnected" {
			t.Errorf("retained $state = %q, want disconnected", v)
		}
		if st := w.ob.Stats(); !st.LinkUp || st.Pending != 0 {
			t.Errorf("stats = %+v: a closed connection was taken for a dead link", st)
		}
		w.halt(t)
	})
}

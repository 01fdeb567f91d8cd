package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// flaky dials on a Bus but fails every publish while down: the worker's side of a dead
// link (the leader's side, on the same Bus, goes on).
type flaky struct {
	bus  *pubsub.Bus
	down atomic.Bool
	// hang makes publishes wait for their context instead: a frozen broker (kill -STOP)
	// takes the packets and never answers.
	hang atomic.Bool
}

func (f *flaky) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := f.bus.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	return &flakyClient{Client: c, f: f}, nil
}

type flakyClient struct {
	pubsub.Client
	f *flaky
}

var errDown = errors.New("link down")

func (c *flakyClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if c.f.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if c.f.down.Load() {
		return errDown
	}
	return c.Client.Publish(ctx, topic, payload, qos, retain)
}

// leader is a streamer on the bus with its store.
type leader struct {
	db   *store.DB
	stop context.CancelFunc
	done chan error
}

func startLeader(t *testing.T, bus pubsub.Dialer, db *store.DB) *leader {
	t.Helper()
	in, err := ingest.New(ingest.Config{Dialer: bus, Store: db, Leader: "leader"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &leader{db: db, stop: cancel, done: make(chan error, 1)}
	go func() { l.done <- in.Run(ctx) }()
	return l
}

func (l *leader) halt(t *testing.T) {
	t.Helper()
	l.stop()
	if err := <-l.done; err != nil {
		t.Fatal(err)
	}
}

// worker is an Outbox with its spool file and one wrapped connection.
type worker struct {
	ob   *outbox.Outbox
	db   *store.DB
	conn pubsub.Client
	stop context.CancelFunc
	done chan error
}

func startWorker(t *testing.T, d pubsub.Dialer, path string, mutate func(*outbox.Config)) *worker {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := outbox.Config{Dialer: d, Spool: db.Outbox(), Unit: "pio01", Leader: "leader", Clock: clock.Real{}} // virtual inside a synctest bubble
	if mutate != nil {
		mutate(&cfg)
	}
	ob, err := outbox.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{ob: ob, db: db, stop: cancel, done: make(chan error, 1)}
	go func() { w.done <- ob.Run(ctx) }()
	if w.conn, err = ob.Dialer().Dial(context.Background(), pubsub.Options{ClientID: "od_reading"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *worker) halt(t *testing.T) {
	t.Helper()
	w.conn.Close()
	w.stop()
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
	if err := w.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// reading publishes OD reading n (its timestamp is t0 + n s) as od_reading does.
func (w *worker) reading(t *testing.T, n int) {
	t.Helper()
	payload := fmt.Sprintf(`{"calibrated":0,"timestamp":"%s","angle":"90","od":%g,"channel":"1","ir_led_intensity":80.0}`,
		contract.FormatTime(t0.Add(time.Duration(n)*time.Second)), 0.05+float64(n)*1e-4)
	if err := w.conn.Publish(context.Background(), contract.JobTopic("pio01", "exp1", "od_reading", "od1"), []byte(payload), 2, true); err != nil {
		t.Fatalf("publish reading %d: %v", n, err)
	}
}

// checkReadings asserts the store holds readings 0..n-1 exactly once each.
func checkReadings(t *testing.T, db *store.DB, n int) {
	t.Helper()
	it := db.Rows(store.Query{Table: store.ODReadings})
	i := 0
	for it.Next() {
		r := it.Row()
		if want := t0.Add(time.Duration(i) * time.Second); !r.Time.Equal(want) {
			t.Fatalf("row %d at %s, want %s (a reading is missing or stored twice)", i, r.Time, want)
		}
		i++
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if i != n {
		t.Fatalf("%d readings stored, want %d", i, n)
	}
}

func openLeaderDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "leader.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A 30 s link outage, the leader's streamer stopping for 20 s and the worker restarting:
// every reading is stored once, in virtual time.
func TestNoReadingLostAcrossOutages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		link := &flaky{bus: bus}
		db := openLeaderDB(t)
		spool := filepath.Join(t.TempDir(), "outbox.db")
		l := startLeader(t, bus, db)
		w := startWorker(t, link, spool, nil)
		n := 0
		tick := func(seconds int, during func(s int)) {
			for s := range seconds {
				if during != nil {
					during(s)
				}
				w.reading(t, n)
				n++
				time.Sleep(time.Second)
			}
		}
		tick(20, nil)
		// the link dies for 30 s
		link.down.Store(true)
		tick(30, nil)
		link.down.Store(false)
		tick(10, nil)
		// the streamer stops (disconnected) for 20 s, then comes back
		l.halt(t)
		tick(20, nil)
		l = startLeader(t, bus, db)
		tick(10, nil)
		// the worker restarts with messages still in its spool
		link.down.Store(true)
		tick(5, nil)
		w.halt(t)
		link.down.Store(false)
		w = startWorker(t, link, spool, nil)
		tick(10, nil)
		time.Sleep(time.Minute)
		synctest.Wait()

		checkReadings(t, db, n)
		st := w.ob.Stats()
		if st.Pending != 0 || !st.LinkUp || !st.Ready {
			t.Errorf("worker stats after recovery = %+v", st)
		}
		w.halt(t)
		l.halt(t)
	})
}

// A message the broker took but the streamer never stored (it died: its will says lost)
// is sent again from the Grace ring; the store keeps one copy of whatever arrived twice.
func TestDeliveredMessagesAreResentWhenTheStreamerDies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		db := openLeaderDB(t)
		w := startWorker(t, bus, filepath.Join(t.TempDir(), "outbox.db"), nil)
		pub, _ := bus.Dial(context.Background(), pubsub.Options{})
		// a "streamer" that announces ready but stores nothing, then dies
		_ = pub.Publish(context.Background(), ingest.StateTopic("leader"), []byte("ready"), 2, true)
		time.Sleep(time.Second)
		for i := range 5 {
			w.reading(t, i)
			time.Sleep(time.Second)
		}
		_ = pub.Publish(context.Background(), ingest.StateTopic("leader"), []byte("lost"), 2, true)
		synctest.Wait()
		if st := w.ob.Stats(); st.Resent != 5 || st.Pending != 5 {
			t.Fatalf("stats after the streamer died = %+v, want 5 resent and pending", st)
		}
		l := startLeader(t, bus, db)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		checkReadings(t, db, 5)
		l.halt(t)
		w.halt(t)
		pub.Close()
	})
}

// Timestamp-less messages (a bioreactor variable) published during an outage are stored
// once, at the time they were published; the spool's bound drops the oldest.
func TestTimelessMessagesAndTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		link := &flaky{bus: bus}
		db := openLeaderDB(t)
		l := startLeader(t, bus, db)
		w := startWorker(t, link, filepath.Join(t.TempDir(), "outbox.db"), func(c *outbox.Config) { c.MaxEntries = 3 })
		time.Sleep(time.Second)
		volume := contract.Topic("pio01", "exp1", "bioreactor", "current_volume_ml")
		if err := w.conn.Publish(context.Background(), volume, []byte("14.0"), 2, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // delivered before the link dies
		link.down.Store(true)
		var published []time.Time
		for i := range 5 {
			time.Sleep(time.Second)
			published = append(published, time.Now())
			if err := w.conn.Publish(context.Background(), volume, fmt.Appendf(nil, "%d.5", 13-i), 2, true); err != nil {
				t.Fatal(err)
			}
		}
		link.down.Store(false)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		var got []store.Row
		it := db.Rows(store.Query{Table: store.LiquidVolumes})
		for it.Next() {
			got = append(got, *it.Row())
		}
		// the live 14.0, then the 3 newest of the 5 published during the outage
		if len(got) != 4 || got[0].Value != 14 || got[1].Value != 11.5 || got[3].Value != 9.5 ||
			!got[1].Time.Equal(published[2].Truncate(time.Millisecond)) {
			t.Errorf("volumes = %+v", got)
		}
		if st := w.ob.Stats(); st.Dropped != 2 || st.Replayed != 3 {
			t.Errorf("stats = %+v, want 2 dropped and 3 replayed", st)
		}
		l.halt(t)
		w.halt(t)
	})
}

// Non-retained non-data messages pass straight through, errors included; retained ones
// are held while the link is down, the latest per topic, and published when it is back.
// Neither is ever spooled.
func TestOtherMessagesPassThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		link := &flaky{bus: bus}
		w := startWorker(t, link, filepath.Join(t.TempDir(), "outbox.db"), nil)
		state := contract.JobTopic("pio01", "exp1", "od_reading", "$state")
		command := contract.JobTopic("pio01", "exp1", "add_media", "$state/set")
		if err := w.conn.Publish(context.Background(), state, []byte("ready"), 2, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the sender publishes it
		if v, _ := bus.Retained(state); string(v) != "ready" {
			t.Errorf("retained $state = %q", v)
		}
		link.down.Store(true)
		if err := w.conn.Publish(context.Background(), command, []byte("disconnected"), 1, false); !errors.Is(err, errDown) {
			t.Errorf("a command on a dead link returned %v, want its error", err)
		}
		for _, v := range []string{"sleeping", "ready", "sleeping"} {
			if err := w.conn.Publish(context.Background(), state, []byte(v), 2, true); err != nil {
				t.Errorf("a $state publish on a dead link returned %v, want it held", err)
			}
		}
		if v, _ := bus.Retained(state); string(v) != "ready" {
			t.Errorf("retained $state during the outage = %q", v)
		}
		link.down.Store(false)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if v, _ := bus.Retained(state); string(v) != "sleeping" {
			t.Errorf("retained $state after the outage = %q, want the latest held", v)
		}
		if n, _ := w.db.Outbox().Len(); n != 0 {
			t.Errorf("%d messages spooled, want none", n)
		}
		w.halt(t)
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	bus := pubsub.NewBus()
	for _, cfg := range []outbox.Config{{}, {Dialer: bus}, {Dialer: bus, Spool: &store.Outbox{}, Unit: "u"}} {
		if _, err := outbox.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

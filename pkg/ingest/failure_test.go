package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/internal/logtest"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

var errDiskFull = errors.New("no space left on device")

// brokenWriter fails every write while broken, as a full disk fails commits.
type brokenWriter struct {
	ingest.RowWriter
	broken atomic.Bool
}

func (w *brokenWriter) Write(ctx context.Context, rows []store.Row, done func(store.InsertStats, error)) error {
	if w.broken.Load() {
		if done != nil {
			done(store.InsertStats{}, errDiskFull)
		}
		return nil
	}
	return w.RowWriter.Write(ctx, rows, done)
}

// A failed commit takes the streamer out of ready (workers' outboxes then keep and later
// replay their data) and is reported; the first commit that works again brings it back,
// even with no new message, and stores the rows that failed.
func TestFailedCommitLeavesReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w *brokenWriter
		r := newRigWith(t, nil, func(in *ingest.Ingester) {
			ingest.WrapWriter(in, func(rw ingest.RowWriter) ingest.RowWriter { w = &brokenWriter{RowWriter: rw}; return w })
		})
		state := func() string { v, _ := r.bus.Retained(ingest.StateTopic("leader")); return string(v) }
		if s := state(); s != "ready" {
			t.Fatalf("$state = %q, want ready", s)
		}
		w.broken.Store(true)
		r.publish(golden[0].topic, golden[0].payload)
		r.settle()
		if s := state(); s != "sleeping" {
			t.Errorf("$state after a failed commit = %q, want sleeping", s)
		}
		st := r.in.Stats()
		if st.WriteErrors != 1 || st.Fault == nil || st.Fault.What != "database write" || !strings.Contains(st.Fault.Err, errDiskFull.Error()) {
			t.Errorf("stats after a failed commit = %+v (fault %+v)", st, st.Fault)
		}
		w.broken.Store(false)
		time.Sleep(10 * time.Second) // no message arrives: the streamer retries by itself
		synctest.Wait()
		if s := state(); s != "ready" {
			t.Errorf("$state once the store works again = %q, want ready", s)
		}
		if st := r.in.Stats(); st.Fault != nil {
			t.Errorf("fault once the store works again: %+v", st.Fault)
		}
		if rows := r.rows(store.ODReadings); len(rows) != 1 {
			t.Errorf("%d OD rows after the recovery, want the failed one", len(rows))
		}
	})
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer = logtest.Buffer

// A clean stop while messages still arrive stores what was received, logs no error, and
// leaves no goroutine of the streamer running.
func TestCleanStopIsNotAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		db, err := store.Open(filepath.Join(t.TempDir(), "leader.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var logs syncBuffer
		// A queue of one makes handlers wait for the writer, as under load.
		in, err := ingest.New(ingest.Config{Dialer: bus, Store: db, Leader: "leader",
			Log: slog.New(slog.NewTextHandler(&logs, nil)), Writer: store.WriterOptions{Queue: 1}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		synctest.Wait()
		pub, _ := bus.Dial(context.Background(), pubsub.Options{})
		defer pub.Close()
		// Readings keep arriving through the stop.
		published := make(chan struct{})
		go func() {
			defer close(published)
			for i := range 5000 {
				at := contract.FormatTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second))
				_ = pub.Publish(context.Background(), topic("od_reading", "od1"),
					[]byte(`{"timestamp":"`+at+`","angle":"90","od":0.1,"channel":"1"}`), 1, false)
			}
		}()
		for in.Stats().Received < 100 {
			runtime.Gosched()
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		<-published
		synctest.Wait()
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("a clean stop logged an error:\n%s", logs.String())
		}
		if st := in.Stats(); st.WriteErrors != 0 {
			t.Errorf("stats after a clean stop = %+v", st)
		}
		if c, _ := db.Count(store.Query{Table: store.ODReadings}); c != in.Stats().Inserted {
			t.Errorf("%d rows stored, stats say %d", c, in.Stats().Inserted)
		}
	})
}

// Nothing the streamer starts outlives Run, the $state it publishes after a reconnect
// included.
func TestRunJoinsItsGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := &reconnecting{Bus: pubsub.NewBus()}
		db, err := store.Open(filepath.Join(t.TempDir(), "leader.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		in, err := ingest.New(ingest.Config{Dialer: d, Store: db, Leader: "leader"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		synctest.Wait()
		d.slow.Store(true)
		d.reconnect()
		time.Sleep(time.Millisecond)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := d.inFlight.Load(); n != 0 {
			t.Errorf("%d publishes still running after Run returned", n)
		}
	})
}

// reconnecting is a Bus whose first client can be told it reconnected, and whose
// publishes of "ready", once slow, wait for their context (a broker that answers late).
type reconnecting struct {
	*pubsub.Bus
	mu       sync.Mutex
	hook     func()
	slow     atomic.Bool
	inFlight atomic.Int64
}

func (d *reconnecting) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.Bus.Dial(ctx, o)
	if o.OnReconnect != nil {
		d.mu.Lock()
		d.hook = o.OnReconnect
		d.mu.Unlock()
	}
	return &slowClient{Client: c, d: d}, err
}

func (d *reconnecting) reconnect() {
	d.mu.Lock()
	h := d.hook
	d.mu.Unlock()
	h()
}

type slowClient struct {
	pubsub.Client
	d *reconnecting
}

func (c *slowClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if c.d.slow.Load() && string(payload) == "ready" {
		c.d.inFlight.Add(1)
		defer c.d.inFlight.Add(-1)
		<-ctx.Done()
		return ctx.Err()
	}
	return c.Client.Publish(ctx, topic, payload, qos, retain)
}

// The leader's restarted broker has forgotten the retained assignments: the streamer
// republishes them from the store when it starts.
func TestAssignmentsRepublishedAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRigWith(t, nil, func(*ingest.Ingester) {}) // the rig's store, assigned below before a restart
		if err := r.db.PutWorker(store.Worker{Unit: "pio01"}); err != nil {
			t.Fatal(err)
		}
		if err := r.db.CreateExperiment(store.Experiment{Name: "exp1"}); err != nil {
			t.Fatal(err)
		}
		assigned := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
		if _, err := r.db.Assign("pio01", "exp1", assigned); err != nil {
			t.Fatal(err)
		}
		r.shutdown()
		bus := pubsub.NewBus() // the restarted broker
		in, err := ingest.New(ingest.Config{Dialer: bus, Store: r.db, Leader: "leader", Clock: fixedClock{}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		synctest.Wait()
		got, ok := bus.Retained(contract.AssignmentTopicFor("pio01"))
		want := `{"pioreactor_unit":"pio01","experiment":"exp1","assigned_at":"2026-03-01T11:00:00.000Z","updated_at":"2026-03-01T12:00:10.000Z"}`
		if !ok || string(got) != want {
			t.Errorf("retained assignment = %s, want %s", got, want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// A log message is stored with at most MaxLogMessage bytes, marked as cut.
func TestHugeLogMessageIsTruncated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		huge := strings.Repeat("é", 1<<20) // 2 MiB, two bytes a rune
		r.publish(topic("logs", "app", "info"), `{"message":"`+huge+`","level":"INFO","task":"od_reading","timestamp":"`+ts+`"}`)
		r.settle()
		rows := r.rows(store.Logs)
		if len(rows) != 1 {
			t.Fatalf("%d log rows, want 1", len(rows))
		}
		m := rows[0].Message
		if len(m) > ingest.MaxLogMessage || !strings.HasSuffix(m, "… (truncated, 2097152 bytes)") || !strings.HasPrefix(m, "éé") {
			t.Errorf("stored message of %d bytes ends %q", len(m), m[max(0, len(m)-40):])
		}
		if !strings.ContainsRune(m[:len(m)-len("… (truncated, 2097152 bytes)")], 'é') || strings.ContainsRune(m, '\uFFFD') {
			t.Errorf("message cut inside a rune")
		}
	})
}

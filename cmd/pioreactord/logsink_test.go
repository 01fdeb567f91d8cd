package main

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// downDialer dials bus; while down, every publish fails, as against an unreachable broker.
type downDialer struct {
	bus  *pubsub.Bus
	down atomic.Bool
}

func (d *downDialer) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	c, err := d.bus.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	return downClient{c, &d.down}, nil
}

type downClient struct {
	pubsub.Client
	down *atomic.Bool
}

func (c downClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if c.down.Load() {
		return errors.New("broker unreachable")
	}
	return c.Client.Publish(ctx, topic, payload, qos, retain)
}

// A worker's log lines logged while the leader is unreachable are spooled by its outbox,
// like its readings.
func TestWorkerLogSinkSpoolsDuringOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dialer := &downDialer{bus: pubsub.NewBus()}
		db, err := store.Open(filepath.Join(t.TempDir(), "outbox.db"), store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		box, err := outbox.New(outbox.Config{Dialer: dialer, Spool: db.Outbox(), Unit: "pio01", Leader: "leader"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = box.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		d := &daemon{dialer: dialer, units: []*unit{{name: "pio01", box: box}}}
		conn, err := d.dialer.Dial(ctx, pubsub.Options{ClientID: "logs-pio01"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		dialer.down.Store(true)
		time.Sleep(10 * time.Second) // the outbox's probes find the link down
		if box.Stats().LinkUp {
			t.Fatal("the outbox did not notice the outage")
		}
		topic := contract.LogTopic("pio01", "exp", "stirring", "INFO")
		payload := []byte(`{"message":"hello","task":"stirring","level":"INFO","timestamp":"2026-03-01T12:00:00.000000Z","source":"app"}`)
		_ = d.logSink(conn).Publish(ctx, topic, payload, pubsub.AtLeastOnce, false)
		if st := box.Stats(); st.Spooled != 1 || st.Pending != 1 {
			t.Fatalf("a log line published during the outage: spooled %d, pending %d; want 1, 1", st.Spooled, st.Pending)
		}
	})
}

package outbox_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// stateClient is a connection that knows whether it is up.
type stateClient struct {
	pubsub.Client
	up *atomic.Bool
}

func (c stateClient) Connected() bool { return c.up.Load() }

// TestWrappedConnectionReportsItsLink: a job's connection wrapped by the Outbox still tells
// whether it is up (the monitor's MQTT check), and one that cannot tell counts as up.
func TestWrappedConnectionReportsItsLink(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "outbox.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bus := pubsub.NewBus()
	o, err := outbox.New(outbox.Config{Dialer: bus, Spool: db.Outbox(), Unit: "pio01", Leader: "leader", Clock: clock.Real{}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	up := &atomic.Bool{}
	wrapped := o.Wrap(stateClient{Client: raw, up: up})
	state, ok := wrapped.(interface{ Connected() bool })
	if !ok {
		t.Fatalf("%T does not tell whether it is connected", wrapped)
	}
	for _, want := range []bool{false, true, false} {
		up.Store(want)
		if got := state.Connected(); got != want {
			t.Fatalf("Connected() = %v with the link %v", got, want)
		}
	}
	if !o.Wrap(raw).(interface{ Connected() bool }).Connected() {
		t.Fatal("a connection that cannot tell is reported down")
	}
}

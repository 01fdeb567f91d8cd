package outbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// outageEnv sets the broker outage of TestOutageOfTheRealBroker (default 3s); the issue's
// scenario is PIOREACTORD_OUTAGE=30s.
const outageEnv = "PIOREACTORD_OUTAGE"

// runBroker serves the embedded broker on addr until the returned stop is called.
func runBroker(t *testing.T, addr string) (string, func()) {
	t.Helper()
	var b *broker.Broker
	var err error
	for try := 0; try < 50; try++ { // the old listener's port may take a moment to free
		if b, err = broker.Listen(broker.Config{TCPAddr: addr, Username: "u", Password: "p"}, nil); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	return b.TCPAddr(), func() { cancel(); <-done }
}

// The outage test on the real stack: a worker publishes readings through its
// outbox and paho while the leader's broker is stopped and restarted, and while the
// worker itself restarts; afterwards the leader holds every reading exactly once.
func TestOutageOfTheRealBroker(t *testing.T) {
	outage := 3 * time.Second
	if v := os.Getenv(outageEnv); v != "" {
		var err error
		if outage, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	addr, stopBroker := runBroker(t, "127.0.0.1:0")
	defer func() { stopBroker() }()
	dialer := pubsub.NewDialer(addr, "u", "p", nil)
	db, err := store.Open(filepath.Join(t.TempDir(), "leader.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := startLeader(t, dialer, db)
	defer func() { l.halt(t) }()
	spool := filepath.Join(t.TempDir(), "outbox.db")
	w := startWorker(t, dialer, spool, nil)

	n := 0
	publishFor := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); n++ {
			w.reading(t, n)
			time.Sleep(20 * time.Millisecond)
		}
	}
	publishFor(time.Second)
	stopBroker()
	t.Logf("broker stopped after %d readings", n)
	publishFor(outage)
	_, stopBroker = runBroker(t, addr)
	t.Logf("broker restarted after %d readings", n)
	publishFor(2 * time.Second)
	w.halt(t)
	t.Logf("worker restarted after %d readings", n)
	w = startWorker(t, dialer, spool, nil)
	publishFor(time.Second)

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, _ := db.Count(store.Query{Table: store.ODReadings}); c == int64(n) && w.ob.Stats().Pending == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkReadings(t, db, n)
	t.Logf("%d readings stored once each; worker %+v", n, w.ob.Stats())
	w.halt(t)
}

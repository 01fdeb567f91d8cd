package pubsub_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

func TestPahoPublishSubscribe(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	sub := dial(t, rb.dialer(), pubsub.Options{ClientID: clientID("sub")})
	pub := dial(t, rb.dialer(), pubsub.Options{})
	all := subscribe(t, sub, "a/#")
	one := subscribe(t, sub, "a/b") // overlaps a/#: each handler gets a/b once
	publish(t, pub, "a/b", "1", false)
	publish(t, pub, "a/c", "2", false)
	publish(t, pub, "a/z", "3", false)
	eventually(t, "a/# to get 3 messages", hasN(all, 3))

	if got, want := all.topics(), []string{"a/b=1", "a/c=2", "a/z=3"}; !slices.Equal(got, want) {
		t.Errorf("a/# got %q, want %q", got, want)
	}
	if got, want := one.topics(), []string{"a/b=1"}; !slices.Equal(got, want) {
		t.Errorf("a/b got %q, want %q", got, want)
	}

	if err := sub.Unsubscribe(t.Context(), "a/#"); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, "a/b", "4", false)
	eventually(t, "a/b to get its second message", hasN(one, 2))
	if n := len(all.got()); n != 3 {
		t.Errorf("a/# got %d messages after Unsubscribe, want 3", n)
	}
}

func TestPahoRetained(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	pub := dial(t, rb.dialer(), pubsub.Options{})
	publish(t, pub, "u/exp/job/$state", "ready", true)
	publish(t, pub, "u/exp/job/rpm", "500", true)

	early := subscribe(t, dial(t, rb.dialer(), pubsub.Options{}), "u/exp/job/#")
	eventually(t, "retained messages", hasN(early, 2))
	publish(t, pub, "u/exp/job/rpm", "", true) // clears
	publish(t, pub, "u/exp/job/rpm", "600", false)
	eventually(t, "live messages", hasN(early, 4))
	got := early.topics()
	slices.Sort(got[:2]) // mochi sends retained messages in map order
	want := []string{"u/exp/job/$state=ready (retained)", "u/exp/job/rpm=500 (retained)", "u/exp/job/rpm=", "u/exp/job/rpm=600"}
	if !slices.Equal(got, want) {
		t.Errorf("early subscriber got %q, want %q", got, want)
	}

	// The cleared topic is not sent to a new subscriber. mochi queues a subscription's
	// retained messages together, just after its SUBACK; a live sentinel published once
	// the first has arrived comes after the rest.
	late := subscribe(t, dial(t, rb.dialer(), pubsub.Options{}), "u/exp/job/#")
	eventually(t, "the retained $state", hasN(late, 1))
	publish(t, pub, "u/exp/job/zz", "sentinel", false)
	eventually(t, "the sentinel", func() bool {
		return slices.ContainsFunc(late.got(), func(m pubsub.Message) bool { return m.Topic == "u/exp/job/zz" })
	})
	if got, want := late.topics(), []string{"u/exp/job/$state=ready (retained)", "u/exp/job/zz=sentinel"}; !slices.Equal(got, want) {
		t.Errorf("late subscriber got %q, want %q", got, want)
	}
}

// The original lost data when the broker restarted: subscriptions must be renewed.
func TestPahoResubscribeAfterBrokerRestart(t *testing.T) {
	t.Parallel()
	first := runBroker(t, "127.0.0.1:0")
	addr := first.TCPAddr()
	reconnected := make(chan struct{}, 10)
	sub := dial(t, first.dialer(), pubsub.Options{
		ClientID:    clientID("stirring-sub"),
		OnReconnect: func() { reconnected <- struct{}{} },
	})
	r := subscribe(t, sub, "pioreactor/+/exp/stirring/target_rpm/set")

	first.stop(t)
	second := runBroker(t, addr)
	select {
	case <-reconnected:
	case <-time.After(waitFor):
		t.Fatal("OnReconnect did not run")
	}
	// OnReconnect runs after the renewal's SUBACK, so this publish must be delivered.
	pub := dial(t, second.dialer(), pubsub.Options{})
	publish(t, pub, "pioreactor/u1/exp/stirring/target_rpm/set", "700", false)
	eventually(t, "delivery after restart", hasN(r, 1))
	if got, want := r.topics(), []string{"pioreactor/u1/exp/stirring/target_rpm/set=700"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestPahoWillOnConnectionLoss(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	px := newProxy(t, rb.TCPAddr())
	obs := dial(t, rb.dialer(), pubsub.Options{})
	// Live messages only: mochi may also send a duplicate retained copy of "ready".
	state := &recorder{}
	err := obs.Subscribe(t.Context(), "u/exp/job/$state", pubsub.ExactlyOnce, func(m pubsub.Message) {
		if !m.Retained {
			state.handle(m)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	reconnected := make(chan struct{}, 10)
	job := dial(t, pubsub.NewDialer(px.addr(), user, pass, nil), pubsub.Options{
		ClientID:    clientID("job-sub"),
		Will:        &pubsub.Will{Topic: "u/exp/job/$state", Payload: []byte("lost"), QoS: pubsub.ExactlyOnce, Retain: true},
		KeepAlive:   5 * time.Second,
		OnReconnect: func() { reconnected <- struct{}{} },
	})
	set := subscribe(t, job, "u/exp/job/rpm/set")
	publish(t, job, "u/exp/job/$state", "ready", true)
	eventually(t, "ready", hasN(state, 1))

	// Network loss: no DISCONNECT reaches the broker. The proxy stays down until the will
	// is seen; were paho back first, mochi would treat it as a session take-over, which
	// ends the old connection without a will.
	px.cut()
	eventually(t, "the will", hasN(state, 2))
	px.restore()
	if got, want := state.topics(), []string{"u/exp/job/$state=ready", "u/exp/job/$state=lost"}; !slices.Equal(got, want) {
		t.Errorf("observer got %q, want %q", got, want)
	}

	// paho reconnects through the proxy; the subscription works again.
	select {
	case <-reconnected:
	case <-time.After(waitFor):
		t.Fatal("OnReconnect did not run")
	}
	publish(t, obs, "u/exp/job/rpm/set", "300", false)
	eventually(t, "a command after reconnect", hasN(set, 1))

	// A clean Close does not fire the will. The broker handles the DISCONNECT within
	// milliseconds; a will would then be queued to the observer before the sentinel.
	job.Close()
	job.Close()
	time.Sleep(100 * time.Millisecond)
	publish(t, obs, "u/exp/job/$state", "sentinel", false)
	eventually(t, "the sentinel", hasN(state, 3))
	if got := state.got()[2]; string(got.Payload) != "sentinel" {
		t.Errorf("after Close the observer got %q, want the sentinel", got.Payload)
	}
	if err := job.Publish(t.Context(), "u/x", nil, 0, false); !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

// A handler that blocks holds up its own subscription only; its messages queue up and
// arrive in order once it is released.
func TestPahoSlowHandler(t *testing.T) {
	t.Parallel()
	const n = 300
	rb := runBroker(t, "127.0.0.1:0")
	sub := dial(t, rb.dialer(), pubsub.Options{ClientID: clientID("sub")})
	release := make(chan struct{})
	var mu sync.Mutex
	var seqs []int
	err := sub.Subscribe(t.Context(), "slow", pubsub.AtLeastOnce, func(m pubsub.Message) {
		<-release
		i, _ := strconv.Atoi(string(m.Payload))
		mu.Lock()
		seqs = append(seqs, i)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	fast := subscribe(t, sub, "fast")
	pub := dial(t, rb.dialer(), pubsub.Options{})
	for i := range n {
		if err := pub.Publish(t.Context(), "slow", strconv.AppendInt(nil, int64(i), 10), pubsub.AtLeastOnce, false); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, pub, "fast", "x", false)
	eventually(t, "the fast subscription despite the blocked one", hasN(fast, 1))

	close(release)
	eventually(t, "the slow subscription's backlog", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seqs) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for i, s := range seqs {
		if s != i {
			t.Fatalf("message %d has sequence %d: out of order", i, s)
		}
	}
}

func TestPahoDialErrors(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	noBroker := free.Addr().String()
	free.Close()
	tests := []struct {
		name    string
		dialer  pubsub.Dialer
		timeout time.Duration
		want    error
	}{
		{"wrong password is refused at once", pubsub.NewDialer(rb.TCPAddr(), user, "nope", nil), time.Minute, pubsub.ErrRefused},
		{"no broker retries until ctx ends", pubsub.NewDialer(noBroker, user, pass, nil), 700 * time.Millisecond, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			c, err := tt.dialer.Dial(ctx, pubsub.Options{ClientID: clientID("x")})
			if !errors.Is(err, tt.want) {
				t.Errorf("Dial error = %v, want %v", err, tt.want)
			}
			if c != nil {
				t.Error("Dial returned a client with its error")
			}
		})
	}
}

func TestPahoRejects(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	c := dial(t, rb.dialer(), pubsub.Options{})
	if err := c.Publish(t.Context(), "a/#", nil, 0, false); !errors.Is(err, pubsub.ErrInvalidTopic) {
		t.Errorf("Publish to a/# = %v", err)
	}
	if err := c.Subscribe(t.Context(), "a/b#", 0, func(pubsub.Message) {}); !errors.Is(err, pubsub.ErrInvalidFilter) {
		t.Errorf("Subscribe to a/b# = %v", err)
	}
	c.Close()
	if err := c.Subscribe(t.Context(), "a", 0, func(pubsub.Message) {}); !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
}

// A NoLateDelivery connection refuses to publish while it is down, and nothing it tried
// to send then reaches subscribers after it reconnects: a command sent during an outage is
// refused, not carried out when the broker returns.
func TestPahoNoLateDelivery(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	px := newProxy(t, rb.TCPAddr())
	obs := subscribe(t, dial(t, rb.dialer(), pubsub.Options{}), "cmd/#")
	reconnected := make(chan struct{}, 10)
	sender := dial(t, pubsub.NewDialer(px.addr(), user, pass, nil), pubsub.Options{
		ClientID: clientID("leader-api"), NoLateDelivery: true, KeepAlive: 5 * time.Second,
		OnReconnect: func() { reconnected <- struct{}{} },
	})
	px.cut()
	eventually(t, "Publish to fail with ErrNotConnected", func() bool {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		err := sender.Publish(ctx, "cmd/pump", []byte("late"), pubsub.ExactlyOnce, false)
		return errors.Is(err, pubsub.ErrNotConnected)
	})
	px.restore()
	select {
	case <-reconnected:
	case <-time.After(waitFor):
		t.Fatal("no reconnect")
	}
	publish(t, sender, "cmd/sentinel", "now", false)
	eventually(t, "the sentinel", func() bool {
		return slices.ContainsFunc(obs.got(), func(m pubsub.Message) bool { return m.Topic == "cmd/sentinel" })
	})
	if got := obs.topics(); !slices.Equal(got, []string{"cmd/sentinel=now"}) {
		t.Fatalf("observer got %q: a message sent during the outage arrived late", got)
	}
}

// TestPahoConnectedFollowsTheLink: Connected (what the monitor's MQTT check reads) is false
// while the link to the broker is cut, true again once paho has reconnected, false after Close.
func TestPahoConnectedFollowsTheLink(t *testing.T) {
	t.Parallel()
	rb := runBroker(t, "127.0.0.1:0")
	px := newProxy(t, rb.TCPAddr())
	reconnected := make(chan struct{}, 10)
	c := dial(t, pubsub.NewDialer(px.addr(), user, pass, nil), pubsub.Options{
		ClientID: clientID("monitor"), KeepAlive: 5 * time.Second,
		OnReconnect: func() { reconnected <- struct{}{} },
	})
	state, ok := c.(interface{ Connected() bool })
	if !ok {
		t.Fatalf("%T does not tell whether it is connected", c)
	}
	if !state.Connected() {
		t.Fatal("not connected after Dial")
	}
	px.cut()
	eventually(t, "Connected to turn false", func() bool { return !state.Connected() })
	px.restore()
	select {
	case <-reconnected:
	case <-time.After(waitFor):
		t.Fatal("no reconnect")
	}
	if !state.Connected() {
		t.Fatal("not connected after the reconnect")
	}
	c.Close()
	if state.Connected() {
		t.Fatal("connected after Close")
	}
}

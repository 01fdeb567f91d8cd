package pubsub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

func TestBusRouting(t *testing.T) {
	t.Parallel()
	published := []string{"a", "a/b", "a/b/c", "a/c", "b/b", "$SYS/x"}
	tests := []struct {
		name    string
		filters []string // all on one client
		want    map[string][]string
	}{
		{"exact", []string{"a/b"}, map[string][]string{"a/b": {"a/b=1"}}},
		{"plus", []string{"+/b"}, map[string][]string{"+/b": {"a/b=1", "b/b=1"}}},
		{"hash", []string{"a/#"}, map[string][]string{"a/#": {"a=1", "a/b=1", "a/b/c=1", "a/c=1"}}},
		{"everything but $", []string{"#"}, map[string][]string{"#": {"a=1", "a/b=1", "a/b/c=1", "a/c=1", "b/b=1"}}},
		{"$SYS explicitly", []string{"$SYS/#"}, map[string][]string{"$SYS/#": {"$SYS/x=1"}}},
		{
			"overlapping filters each get it once",
			[]string{"a/#", "a/b", "+/b"},
			map[string][]string{
				"a/#": {"a=1", "a/b=1", "a/b/c=1", "a/c=1"},
				"a/b": {"a/b=1"},
				"+/b": {"a/b=1", "b/b=1"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				bus := pubsub.NewBus()
				sub := dial(t, bus, pubsub.Options{})
				recs := map[string]*recorder{}
				for _, f := range tt.filters {
					recs[f] = subscribe(t, sub, f)
				}
				pub := dial(t, bus, pubsub.Options{})
				for _, topic := range published {
					publish(t, pub, topic, "1", false)
				}
				synctest.Wait()
				for f, want := range tt.want {
					if got := recs[f].topics(); !slices.Equal(got, want) {
						t.Errorf("%s got %q, want %q", f, got, want)
					}
				}
			})
		})
	}
}

func TestBusRetained(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		pub := dial(t, bus, pubsub.Options{})
		publish(t, pub, "u/exp/job/$state", "ready", true)
		publish(t, pub, "u/exp/job/rpm", "500", true)
		publish(t, pub, "u/exp/job/log", "not retained", false)

		early := subscribe(t, dial(t, bus, pubsub.Options{}), "u/exp/job/#")
		publish(t, pub, "u/exp/job/rpm", "", true) // clears
		publish(t, pub, "u/exp/job/rpm", "600", false)
		late := subscribe(t, dial(t, bus, pubsub.Options{}), "u/exp/job/#")
		synctest.Wait()

		wantEarly := []string{"u/exp/job/$state=ready (retained)", "u/exp/job/rpm=500 (retained)", "u/exp/job/rpm=", "u/exp/job/rpm=600"}
		if got := early.topics(); !slices.Equal(got, wantEarly) {
			t.Errorf("early subscriber got %q, want %q", got, wantEarly)
		}
		if got, want := late.topics(), []string{"u/exp/job/$state=ready (retained)"}; !slices.Equal(got, want) {
			t.Errorf("late subscriber got %q, want %q", got, want)
		}
		if v, ok := bus.Retained("u/exp/job/$state"); !ok || string(v) != "ready" {
			t.Errorf("Retained($state) = %q, %v", v, ok)
		}
		if v, ok := bus.Retained("u/exp/job/rpm"); ok {
			t.Errorf("Retained(rpm) = %q after clear", v)
		}
	})
}

func TestBusWill(t *testing.T) {
	t.Parallel()
	will := &pubsub.Will{Topic: "u/exp/job/$state", Payload: []byte("lost"), QoS: pubsub.ExactlyOnce, Retain: true}
	tests := []struct {
		name     string
		will     *pubsub.Will
		end      func(*pubsub.Bus, pubsub.Client)
		wantWill bool
	}{
		{"crash fires the will", will, func(b *pubsub.Bus, c pubsub.Client) { b.Crash(c) }, true},
		{"close does not", will, func(_ *pubsub.Bus, c pubsub.Client) { c.Close() }, false},
		{"crash after close does not", will, func(b *pubsub.Bus, c pubsub.Client) { c.Close(); b.Crash(c) }, false},
		{"crash twice fires once", will, func(b *pubsub.Bus, c pubsub.Client) { b.Crash(c); b.Crash(c) }, true},
		{"no will, nothing", nil, func(b *pubsub.Bus, c pubsub.Client) { b.Crash(c) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				bus := pubsub.NewBus()
				obs := subscribe(t, dial(t, bus, pubsub.Options{}), "u/#")
				c := dial(t, bus, pubsub.Options{ClientID: "job-sub", Will: tt.will})
				ownSub := subscribe(t, c, "u/#")
				tt.end(bus, c)
				synctest.Wait()

				var want []string
				if tt.wantWill {
					want = []string{"u/exp/job/$state=lost"}
				}
				if got := obs.topics(); !slices.Equal(got, want) {
					t.Errorf("observer got %q, want %q", got, want)
				}
				if _, ok := bus.Retained(will.Topic); ok != tt.wantWill {
					t.Errorf("will retained = %v, want %v", ok, tt.wantWill)
				}
				if got := ownSub.got(); len(got) != 0 {
					t.Errorf("ended client still received %v", got)
				}
				if err := c.Publish(t.Context(), "u/x", nil, 0, false); !errors.Is(err, pubsub.ErrClosed) {
					t.Errorf("Publish after end = %v, want ErrClosed", err)
				}
			})
		})
	}
}

// Many publishers, one slow subscriber: nothing is lost, each publisher's messages arrive
// in order, and the publishers never wait for the subscriber.
func TestBusOrderingUnderLoad(t *testing.T) {
	t.Parallel()
	const publishers, perPublisher = 4, 2000
	bus := pubsub.NewBus()
	sub := dial(t, bus, pubsub.Options{})
	release := make(chan struct{})
	done := make(chan struct{})
	var mu sync.Mutex
	last := map[string]int{}
	count, outOfOrder := 0, 0
	err := sub.Subscribe(t.Context(), "load/#", pubsub.AtLeastOnce, func(m pubsub.Message) {
		<-release // blocked until every publisher has finished
		seq, _ := strconv.Atoi(string(m.Payload))
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := last[m.Topic]; ok && seq != prev+1 {
			outOfOrder++
		}
		last[m.Topic] = seq
		if count++; count == publishers*perPublisher {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := range publishers {
		c := dial(t, bus, pubsub.Options{})
		wg.Go(func() {
			for i := range perPublisher {
				if err := c.Publish(t.Context(), fmt.Sprintf("load/%d", p), fmt.Append(nil, i), 1, false); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait() // returns although the handler is blocked: Publish never waits for handlers
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("received %d of %d", count, publishers*perPublisher)
	}
	mu.Lock()
	defer mu.Unlock()
	if outOfOrder != 0 {
		t.Errorf("%d messages out of order", outOfOrder)
	}
}

// In a synctest bubble an idle subscriber is durably blocked: synctest.Wait returns,
// virtual time advances past a long sleep at once, and the bubble ends after Close.
func TestBusInSynctestBubble(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		sub, err := bus.Dial(context.Background(), pubsub.Options{})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := bus.Dial(context.Background(), pubsub.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan pubsub.Message, 10)
		if err := sub.Subscribe(t.Context(), "od/+", 0, func(m pubsub.Message) { got <- m }); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range 3 {
			time.Sleep(time.Hour) // virtual: passes at once because everything else is idle
			publish(t, pub, fmt.Sprintf("od/%d", i), "0.5", false)
		}
		synctest.Wait()
		if len(got) != 3 {
			t.Fatalf("got %d messages, want 3", len(got))
		}
		if elapsed := time.Since(start); elapsed != 3*time.Hour {
			t.Errorf("virtual time advanced %v, want 3h", elapsed)
		}
		for i := range 3 {
			if m := <-got; m.Topic != fmt.Sprintf("od/%d", i) {
				t.Errorf("message %d on %s", i, m.Topic)
			}
		}

		// A handler may publish and close its own client without deadlocking.
		if err := sub.Subscribe(t.Context(), "stop", 0, func(pubsub.Message) {
			_ = sub.Publish(context.Background(), "stopped", []byte("yes"), 0, true)
			sub.Close()
		}); err != nil {
			t.Fatal(err)
		}
		publish(t, pub, "stop", "", false)
		synctest.Wait()
		if v, _ := bus.Retained("stopped"); string(v) != "yes" {
			t.Errorf("handler's publish not seen: %q", v)
		}
		pub.Close()
		// Returning from the bubble waits for every goroutine: the delivery goroutines of
		// both clients must have ended.
	})
}

func TestBusRejects(t *testing.T) {
	t.Parallel()
	bus := pubsub.NewBus()
	c := dial(t, bus, pubsub.Options{})
	ctx := t.Context()
	if err := c.Publish(ctx, "a/+", nil, 0, false); !errors.Is(err, pubsub.ErrInvalidTopic) {
		t.Errorf("Publish to a wildcard topic = %v", err)
	}
	if err := c.Subscribe(ctx, "a/#/b", 0, func(pubsub.Message) {}); !errors.Is(err, pubsub.ErrInvalidFilter) {
		t.Errorf("Subscribe to a/#/b = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Publish(cancelled, "a", nil, 0, false); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with cancelled ctx = %v", err)
	}
	if _, err := bus.Dial(cancelled, pubsub.Options{}); err == nil {
		t.Error("Dial with cancelled ctx succeeded")
	}
	c.Close()
	c.Close() // idempotent
	if err := c.Subscribe(ctx, "a", 0, func(pubsub.Message) {}); !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
}

func TestBusUnsubscribe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		sub := dial(t, bus, pubsub.Options{})
		pub := dial(t, bus, pubsub.Options{})
		r := subscribe(t, sub, "a")
		publish(t, pub, "a", "1", false)
		synctest.Wait()
		if err := sub.Unsubscribe(t.Context(), "a", "never-subscribed"); err != nil {
			t.Fatal(err)
		}
		publish(t, pub, "a", "2", false)
		synctest.Wait()
		if got, want := r.topics(), []string{"a=1"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

// A panicking handler is logged and later messages are still delivered.
func TestHandlerPanicIsContained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bus := pubsub.NewBus()
		c, _ := bus.Dial(context.Background(), pubsub.Options{})
		defer c.Close()
		var got []string
		_ = c.Subscribe(context.Background(), "t", 0, func(m pubsub.Message) {
			if string(m.Payload) == "boom" {
				panic("handler bug")
			}
			got = append(got, string(m.Payload))
		})
		for _, p := range []string{"a", "boom", "b"} {
			_ = c.Publish(context.Background(), "t", []byte(p), 0, false)
		}
		synctest.Wait()
		if fmt.Sprint(got) != "[a b]" {
			t.Fatalf("delivered %v", got)
		}
	})
}

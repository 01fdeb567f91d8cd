package pubsub

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// A full queue drops incoming messages, keeps the ones it holds in order, and logs each
// burst twice at most (when it starts dropping, and the count once drained).
func TestQueueBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const limit, extra = 8, 5
		logs := &capture{}
		var bursts atomic.Int32
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		q := startQueue(func(m Message) {
			<-release
			mu.Lock()
			got = append(got, string(m.Payload))
			mu.Unlock()
		}, slog.New(logs), limit, func() { bursts.Add(1) })
		defer close(release) // after q.close: a failed test leaves no handler blocked
		defer q.close()
		burst := func(from int) {
			// The handler takes the first message at once and blocks on it: the queue then
			// holds limit more.
			for i := from; i < from+1+limit+extra; i++ {
				q.push(Message{Topic: "t", Payload: []byte(strconv.Itoa(i))})
				synctest.Wait()
			}
		}
		for round := range 2 {
			burst(round * 100)
			if n := q.droppedTotal(); n != extra*(round+1) {
				t.Fatalf("round %d: dropped %d, want %d", round, n, extra*(round+1))
			}
			release <- struct{}{}
			for range limit {
				release <- struct{}{}
			}
			synctest.Wait()
			if full, drained := logs.count("queue full"), logs.count("drained"); full != round+1 || drained != round+1 {
				t.Fatalf("round %d: %d 'full' and %d 'drained' log lines, want one each per burst", round, full, drained)
			}
			if n := bursts.Load(); n != int32(round+1) {
				t.Fatalf("round %d: OnDrop ran %d times, want once per burst", round, n)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for i, p := range got[:limit+1] {
			if p != strconv.Itoa(i) {
				t.Fatalf("delivered %v: the oldest messages must be kept, in order", got)
			}
		}
	})
}

// The byte bound holds a few large messages back as well.
func TestQueueByteBound(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		q := startQueue(func(Message) { <-release }, slog.New(slog.DiscardHandler), 0, nil)
		defer func() { close(release); q.close() }()
		big := make([]byte, maxQueuedBytes/4+1)
		for range 6 {
			q.push(Message{Topic: "t", Payload: big})
			synctest.Wait()
		}
		// A payload counts until its handler returns: one in the handler and two queued make
		// three quarters of the bound and a little more; the other three are dropped.
		if n := q.droppedTotal(); n != 3 {
			t.Fatalf("dropped %d large messages, want 3", n)
		}
	})
}

// Options.MaxQueued and Options.OnDrop reach the subscriptions of a connection.
func TestBusDropOptions(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		bus := NewBus()
		dropped := make(chan string, 4)
		c, _ := bus.Dial(ctx, Options{MaxQueued: 2, OnDrop: func(f string) { dropped <- f }})
		defer c.Close()
		release := make(chan struct{})
		defer close(release)
		if err := c.Subscribe(ctx, "x/#", 1, func(Message) { <-release }); err != nil {
			t.Fatal(err)
		}
		pub, _ := bus.Dial(ctx, Options{})
		defer pub.Close()
		for range 5 {
			_ = pub.Publish(ctx, "x/y", []byte("1"), 1, false)
			synctest.Wait()
		}
		select {
		case f := <-dropped:
			if f != "x/#" {
				t.Fatalf("OnDrop(%q), want x/#", f)
			}
		default:
			t.Fatal("OnDrop did not run")
		}
	})
}

package pubsub

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
)

// queue delivers one subscription's messages to its handler, in order, on its own
// goroutine. push never blocks and never drops: the backlog is an unbounded slice, so a
// slow handler delays only its own subscription, never the network or the publisher.
// Idle, the goroutine waits on a channel receive, which testing/synctest counts as
// durably blocked (a mutex wait or a polling loop would not be).
type queue struct {
	mu      sync.Mutex
	pending []Message
	closed  bool
	wake    chan struct{} // capacity 1: "pending may be non-empty"
	done    chan struct{} // closed by close
}

// startQueue starts the delivery goroutine for h. A panic in h is logged on log (nil: the
// default logger) and delivery goes on: a bug in one job's handler must not take the daemon
// down.
func startQueue(h Handler, log *slog.Logger) *queue {
	if log == nil {
		log = slog.Default()
	}
	q := &queue{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run(func(m Message) { deliver(h, m, log) })
	return q
}

func deliver(h Handler, m Message, log *slog.Logger) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("message handler panicked", "topic", m.Topic, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	h(m)
}

func (q *queue) push(m Message) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.pending = append(q.pending, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// close stops delivery: the handler is not called again once its current call returns.
// It does not wait for that call, so a handler may close its own subscription.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.pending = nil
		close(q.done)
	}
}

func (q *queue) run(h Handler) {
	for {
		select {
		case <-q.done:
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			batch := q.pending
			q.pending = nil
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, m := range batch {
				select {
				case <-q.done:
					return
				default:
				}
				h(m)
			}
		}
	}
}

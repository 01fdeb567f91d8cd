package pubsub

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
)

const (
	// DefaultMaxQueued is how many messages may wait for one subscription's handler
	// (Options.MaxQueued overrides it).
	DefaultMaxQueued = 65536
	// maxQueuedBytes bounds the payload bytes waiting for one subscription's handler, so
	// a few large messages cannot exhaust memory either.
	maxQueuedBytes = 64 << 20
)

// queue delivers one subscription's messages to its handler, in order, on its own
// goroutine. push never blocks, so a slow handler delays only its own subscription, never
// the network or the publisher. The backlog is bounded (limit messages, maxQueuedBytes):
// when it is full the incoming message is dropped. Blocking instead would stall paho's
// router goroutine, hence every subscription of the connection and its keepalive, until the
// broker dropped or disconnected us: the loss would come anyway, larger and unreported.
// Drops are counted and logged once per burst: when the first is dropped, and with the
// count once the backlog has drained.
// Idle, the goroutine waits on a channel receive, which testing/synctest counts as
// durably blocked (a mutex wait or a polling loop would not be).
type queue struct {
	log    *slog.Logger
	limit  int
	onDrop func() // nil, or run on its own goroutine at the first drop of a burst

	mu      sync.Mutex
	pending []Message
	bytes   int // payload bytes in pending
	dropped int // in the current burst
	total   int // since the start
	closed  bool
	wake    chan struct{} // capacity 1: "pending may be non-empty"
	done    chan struct{} // closed by close
}

// startQueue starts the delivery goroutine for h, holding at most limit messages (≤ 0:
// DefaultMaxQueued). A panic in h is logged on log (nil: the default logger) and delivery
// goes on: a bug in one job's handler must not take the daemon down. onDrop (may be nil)
// is told of each burst of drops.
func startQueue(h Handler, log *slog.Logger, limit int, onDrop func()) *queue {
	if log == nil {
		log = slog.Default()
	}
	if limit <= 0 {
		limit = DefaultMaxQueued
	}
	q := &queue{log: log, limit: limit, onDrop: onDrop, wake: make(chan struct{}, 1), done: make(chan struct{})}
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
	if len(q.pending) >= q.limit || q.bytes+len(m.Payload) > maxQueuedBytes && len(q.pending) > 0 {
		q.dropped++
		q.total++
		first := q.dropped == 1
		n, size := len(q.pending), q.bytes
		q.mu.Unlock()
		if first && q.onDrop != nil {
			go q.onDrop()
		}
		if first {
			q.log.Warn("mqtt delivery queue full; dropping messages until the handler catches up",
				"queued", n, "queued_bytes", size, "limit", q.limit, "topic", m.Topic)
		}
		return
	}
	q.pending = append(q.pending, m)
	q.bytes += len(m.Payload)
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
		q.pending, q.bytes = nil, 0
		close(q.done)
	}
}

// droppedTotal is how many messages the queue dropped since it started.
func (q *queue) droppedTotal() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.total
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
				q.endBurst()
				break
			}
			for i, m := range batch {
				select {
				case <-q.done:
					return
				default:
				}
				h(m)
				batch[i] = Message{} // let the payload go
				q.mu.Lock()
				q.bytes -= len(m.Payload)
				q.mu.Unlock()
			}
		}
	}
}

// endBurst reports the drops of a burst once the backlog has drained.
func (q *queue) endBurst() {
	q.mu.Lock()
	n := q.dropped
	q.dropped = 0
	q.mu.Unlock()
	if n > 0 {
		q.log.Warn("mqtt delivery queue drained; messages were dropped while it was full", "dropped", n)
	}
}

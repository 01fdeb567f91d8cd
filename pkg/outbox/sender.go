package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// A job publishing through the Outbox never waits for the broker: od_reading publishes
// `ods`, then od1, at every reading, and the seconds each publish waited on a dead broker
// before failing lost every reading of an outage. Publish queues a data message, or a
// retained non-data one (a setting, a $state), for the sender: one goroutine of Run that
// publishes them in order, each on the connection it came from, and, when a publish fails,
// spools the data message and holds the retained one. While the link is down, Publish
// spools data at once and holds retained messages, the latest per topic: a retained
// message says what is current, so only its latest value matters. When the link is back
// the sender publishes what is held, oldest first, and never a value older than one
// already published (sentSeq). Non-retained non-data messages (commands, events) are
// never queued nor held: a late command is worse than none.

// outgoing is a message for the sender.
type outgoing struct {
	conn    pubsub.Client
	topic   string
	payload []byte
	qos     byte
	retain  bool
	data    bool      // a data message: spooled when it cannot be sent
	at      time.Time // Clock time of its publication: a replay's published_at
	seq     uint64    // a retained non-data message's number (Outbox.seq)
	// closeConn marks no message but the closing of conn, in order after what it queued.
	closeConn bool
}

func (m outgoing) entry() store.OutboxEntry {
	return store.OutboxEntry{Topic: m.topic, Payload: m.payload, At: m.at}
}

// heldSet keeps the latest message per topic in first-held order; guarded by Outbox.mu.
type heldSet struct {
	order    []string
	byTopic  map[string]outgoing
	flushing bool // the sender is publishing them: new ones queue behind, so none goes backwards
}

// put holds m unless a newer value of its topic is held already.
func (h *heldSet) put(m outgoing) {
	if h.byTopic == nil {
		h.byTopic = make(map[string]outgoing)
	}
	old, ok := h.byTopic[m.topic]
	switch {
	case !ok:
		h.order = append(h.order, m.topic)
	case old.seq > m.seq:
		return
	}
	h.byTopic[m.topic] = m
}

func (h *heldSet) len() int { return len(h.byTopic) }

// pop removes the first held message.
func (h *heldSet) pop() (outgoing, bool) {
	for len(h.order) > 0 {
		topic := h.order[0]
		h.order = h.order[1:]
		if m, ok := h.byTopic[topic]; ok {
			delete(h.byTopic, topic)
			return m, true
		}
	}
	return outgoing{}, false
}

// enqueue hands m to the sender; false when its queue is full.
func (o *Outbox) enqueue(m outgoing) bool {
	select {
	case o.queue <- m:
		return true
	default:
		return false
	}
}

// current queues a retained non-data message, or holds it while the link is down or
// older ones wait.
func (o *Outbox) current(conn pubsub.Client, topic string, payload []byte, qos byte) {
	o.mu.Lock()
	o.seq++
	m := outgoing{conn: conn, topic: topic, payload: append([]byte(nil), payload...), qos: qos, retain: true, seq: o.seq}
	hold := !o.linkUp || o.closed || o.held.len() > 0 || o.held.flushing
	if hold {
		o.held.put(m)
	}
	queued := !hold && o.enqueue(m)
	o.mu.Unlock()
	if hold {
		o.heldN.Add(1)
	}
	if !hold && !queued {
		o.setAside(m)
	}
}

// setAside keeps a message the sender could not publish: data in the spool, a retained
// message held (unless a newer one is).
func (o *Outbox) setAside(m outgoing) {
	if m.closeConn {
		m.conn.Close()
		return
	}
	if m.data {
		// A failure is counted, logged and reported by spool.
		_ = o.spool([]store.OutboxEntry{m.entry()})
		return
	}
	o.mu.Lock()
	if m.seq > o.sentSeq[m.topic] {
		o.held.put(m)
	}
	o.mu.Unlock()
	o.heldN.Add(1)
}

func (o *Outbox) requestFlush() {
	select {
	case o.flushReq <- struct{}{}:
	default:
	}
}

// send is the sender: it publishes queued messages and, on request, the held ones, until
// quit is closed; then it finishes. Its publishes use ctx, which Run cancels only after.
func (o *Outbox) send(ctx context.Context, quit <-chan struct{}) {
	for {
		select {
		case <-quit:
			o.finish(ctx)
			return
		case <-o.flushReq:
			o.flushHeld(ctx)
		case m := <-o.queue:
			o.deliver(ctx, m)
		}
	}
}

// finish publishes what is still queued when Run stops, within one Timeout in all, and
// spools the data it could not send. A clean stop on a healthy link thus leaves the spool
// as it was: the jobs' last messages (their $state, the shutdown's log lines) are sent, not
// kept for a replay at the next start, and the Grace ring is not spooled (only a failed
// publish, not a closing connection, means the link died). Publish spools what comes after.
func (o *Outbox) finish(ctx context.Context) {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	for {
		select {
		case m := <-o.queue:
			if ctx.Err() != nil {
				o.setAside(m)
				continue
			}
			o.deliver(ctx, m)
		default:
			return
		}
	}
}

// deliver publishes one queued message. A data message that was delivered stays in the
// Grace ring while the streamer is ready, or goes to the spool, if a second copy is
// recognised, while it is not (a delivered message without a time is sent at most once).
func (o *Outbox) deliver(ctx context.Context, m outgoing) {
	if m.closeConn {
		m.conn.Close()
		return
	}
	o.mu.Lock()
	up, ready := o.linkUp, o.ready
	stale := !m.data && m.seq < o.sentSeq[m.topic]
	o.mu.Unlock()
	switch {
	case stale:
		return
	case !up:
		o.setAside(m)
		return
	}
	if err := o.publish(ctx, m); err != nil {
		if ctx.Err() == nil && !linkError(err) {
			o.log.Warn("message not published", "topic", m.topic, "err", err)
			return
		}
		o.log.Debug("publish failed, keeping the message", "topic", m.topic, "err", err)
		o.setAside(m)
		if ctx.Err() == nil {
			o.linkDown()
		}
		return
	}
	switch {
	case !m.data:
	case ready && o.remember(m.topic, m.payload, m.at, time.Now()):
	case o.cfg.Resend(m.topic):
		_ = o.spool([]store.OutboxEntry{m.entry()})
	}
}

// publish sends m on its connection, waiting at most Timeout. When that connection fails
// at once (a job that stopped closed it: its last values still count), the Outbox's own
// connection sends it: only a broker that does not answer in time means the link is down.
func (o *Outbox) publish(ctx context.Context, m outgoing) error {
	err := o.publishOn(ctx, m.conn, m)
	if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, pubsub.ErrInvalidTopic) {
		o.mu.Lock()
		own := o.client
		o.mu.Unlock()
		if own != nil && own != m.conn {
			err = o.publishOn(ctx, own, m)
		}
	}
	if err == nil && !m.data {
		o.mu.Lock()
		o.sentSeq[m.topic] = max(o.sentSeq[m.topic], m.seq)
		o.mu.Unlock()
	}
	return err
}

func (o *Outbox) publishOn(ctx context.Context, c pubsub.Client, m outgoing) error {
	pctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	return c.Publish(pctx, m.topic, m.payload, m.qos, m.retain)
}

// linkError tells a failure of the link from one of the message or the connection.
func linkError(err error) bool {
	return !errors.Is(err, pubsub.ErrInvalidTopic) && !errors.Is(err, pubsub.ErrClosed)
}

// flushHeld publishes the held messages, oldest first, while the link is up.
func (o *Outbox) flushHeld(ctx context.Context) {
	for {
		o.mu.Lock()
		if !o.linkUp || ctx.Err() != nil {
			o.held.flushing = false
			o.mu.Unlock()
			return
		}
		m, ok := o.held.pop()
		o.held.flushing = ok
		o.mu.Unlock()
		if !ok {
			return
		}
		err := o.publish(ctx, m)
		if err == nil || !linkError(err) {
			if err != nil {
				o.log.Warn("held retained message not published", "topic", m.topic, "err", err)
			}
			continue
		}
		o.mu.Lock()
		if _, newer := o.held.byTopic[m.topic]; !newer {
			o.held.put(m)
			// back to the front: it is older than the rest
			o.held.order = append([]string{m.topic}, o.held.order[:len(o.held.order)-1]...)
		}
		o.held.flushing = false
		o.mu.Unlock()
		if ctx.Err() == nil {
			o.linkDown()
		}
		return
	}
}

package outbox

import (
	"context"
	"errors"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// Retained non-data messages (a job's settings, its $state) say what is current, so only
// the latest of each topic matters. While the link is down a job publishing one must not
// wait for a broker that does not answer: od_reading publishes `ods`, then od1, at every
// reading, and a 5 s wait on `ods` followed by an error lost every reading of an outage.
// Such a message is held instead (the latest per topic), Publish returns nil, and Run
// publishes the held messages, on the connection that published them, when the link is
// back. Non-retained ones (commands, events) are never held: a late command is worse than
// none.

// held is one held message and the connection it came from.
type held struct {
	conn    pubsub.Client
	payload []byte
	qos     byte
}

// heldSet keeps the latest message per topic in first-held order; guarded by Outbox.mu.
type heldSet struct {
	order    []string
	byTopic  map[string]held
	flushing bool // Run is publishing them: new ones queue behind, so none goes backwards
}

func (h *heldSet) put(topic string, m held) {
	if h.byTopic == nil {
		h.byTopic = make(map[string]held)
	}
	if _, ok := h.byTopic[topic]; !ok {
		h.order = append(h.order, topic)
	}
	h.byTopic[topic] = m
}

func (h *heldSet) len() int { return len(h.byTopic) }

// pop removes the first held message.
func (h *heldSet) pop() (string, held, bool) {
	for len(h.order) > 0 {
		topic := h.order[0]
		h.order = h.order[1:]
		if m, ok := h.byTopic[topic]; ok {
			delete(h.byTopic, topic)
			return topic, m, true
		}
	}
	return "", held{}, false
}

// publishCurrent publishes a retained non-data message, or holds it when the link is down,
// when older ones still wait, or when the publish fails for want of the broker.
func (o *Outbox) publishCurrent(ctx context.Context, c pubsub.Client, topic string, payload []byte, qos byte) error {
	m := held{conn: c, payload: append([]byte(nil), payload...), qos: qos}
	o.mu.Lock()
	if !o.linkUp || o.held.len() > 0 || o.held.flushing {
		o.held.put(topic, m)
		o.mu.Unlock()
		o.heldN.Add(1)
		return nil
	}
	o.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	err := c.Publish(pctx, topic, payload, qos, true)
	cancel()
	if err == nil || ctx.Err() != nil || !linkError(err) {
		return err
	}
	o.log.Debug("publish failed, holding the retained message", "topic", topic, "err", err)
	o.mu.Lock()
	if _, newer := o.held.byTopic[topic]; !newer {
		o.held.put(topic, m)
	}
	o.mu.Unlock()
	o.heldN.Add(1)
	o.linkDown()
	return nil
}

// linkError tells a failure of the link from one of the message or the connection.
func linkError(err error) bool {
	return !errors.Is(err, pubsub.ErrInvalidTopic) && !errors.Is(err, pubsub.ErrClosed)
}

// flushHeld publishes the held messages, oldest first, while the link is up. A job whose
// connection closed meanwhile (it stopped) has its last values published on the Outbox's.
func (o *Outbox) flushHeld(ctx context.Context) {
	for {
		o.mu.Lock()
		if !o.linkUp || ctx.Err() != nil {
			o.held.flushing = false
			o.mu.Unlock()
			return
		}
		topic, m, ok := o.held.pop()
		o.held.flushing = ok
		own := o.client
		o.mu.Unlock()
		if !ok {
			return
		}
		err := o.publishHeld(ctx, m.conn, topic, m)
		if errors.Is(err, pubsub.ErrClosed) && own != nil {
			err = o.publishHeld(ctx, own, topic, m)
		}
		if err == nil || !linkError(err) {
			if err != nil {
				o.log.Warn("held retained message not published", "topic", topic, "err", err)
			}
			continue
		}
		o.mu.Lock()
		if _, newer := o.held.byTopic[topic]; !newer {
			o.held.put(topic, m)
			// back to the front: it is older than the rest
			o.held.order = append([]string{topic}, o.held.order[:len(o.held.order)-1]...)
		}
		o.held.flushing = false
		o.mu.Unlock()
		if ctx.Err() == nil {
			o.linkDown()
		}
		return
	}
}

func (o *Outbox) publishHeld(ctx context.Context, c pubsub.Client, topic string, m held) error {
	pctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	return c.Publish(pctx, topic, m.payload, m.qos, true)
}

package pubsub

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Bus is an in-memory broker for tests. It keeps a broker's observable semantics:
// retained messages (an empty retained payload clears the topic; new subscribers get the
// matching retained messages with Retained=true; live deliveries have Retained=false),
// MQTT wildcards, and last wills that fire only on Crash, never on Close.
//
// Every published message reaches every matching subscription exactly once, whatever its
// QoS: the Bus never drops (short of a subscription's delivery bound, Options.MaxQueued)
// and never reorders messages from one publisher. Each
// subscription has its own delivery goroutine, so a slow handler never blocks Publish.
//
// The Bus works inside a testing/synctest bubble (create it inside the bubble): idle
// delivery goroutines are durably blocked, so virtual time advances when all is quiet.
//
// Not simulated: client ids (session take-over), keepalive, and reconnects (OnReconnect
// never runs).
type Bus struct {
	mu       sync.Mutex // held across a whole publish, so retained state and fan-out agree
	retained map[string][]byte
	clients  map[*busClient]struct{}
}

var _ Dialer = (*Bus)(nil)

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{retained: make(map[string][]byte), clients: make(map[*busClient]struct{})}
}

// Dial connects a new client. It fails only if ctx is already done.
func (b *Bus) Dial(ctx context.Context, o Options) (Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := &busClient{bus: b, limit: o.MaxQueued, onDrop: o.OnDrop, subs: make(map[string]*queue)}
	if w := o.Will; w != nil {
		c.will = &Will{Topic: w.Topic, Payload: bytes.Clone(w.Payload), QoS: w.QoS, Retain: w.Retain}
	}
	b.mu.Lock()
	b.clients[c] = struct{}{}
	b.mu.Unlock()
	return c, nil
}

// Crash ends c uncleanly, like kill -9 or a pulled network cable: its subscriptions stop
// and the bus publishes its last will, if it has one. Crashing a closed client does
// nothing. c must come from b.Dial.
func (b *Bus) Crash(c Client) {
	bc, ok := c.(*busClient)
	if !ok || bc.bus != b {
		panic(fmt.Sprintf("pubsub: Bus.Crash of a client not dialled on this bus (%T)", c))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.endLocked(bc) && bc.will != nil {
		b.publishLocked(bc.will.Topic, bc.will.Payload, bc.will.Retain)
	}
}

// Retained returns a copy of the retained payload of topic, if there is one.
func (b *Bus) Retained(topic string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.retained[topic]
	return bytes.Clone(p), ok
}

// publishLocked stores (or clears) the retained value and queues the message to every
// matching subscription. The payload is copied once, so the publisher may reuse its buffer;
// subscribers share the copy and must not modify it.
func (b *Bus) publishLocked(topic string, payload []byte, retain bool) {
	p := bytes.Clone(payload)
	if p == nil {
		p = []byte{}
	}
	if retain {
		if len(p) == 0 {
			delete(b.retained, topic)
		} else {
			b.retained[topic] = p
		}
	}
	m := Message{Topic: topic, Payload: p}
	for c := range b.clients {
		for filter, q := range c.subs {
			if match(filter, topic) {
				q.push(m)
			}
		}
	}
}

// endLocked disconnects c; it reports false if c had already ended.
func (b *Bus) endLocked(c *busClient) bool {
	if c.closed {
		return false
	}
	c.closed = true
	delete(b.clients, c)
	for _, q := range c.subs {
		q.close()
	}
	c.subs = nil
	return true
}

// busClient is one connection to a Bus. Its mutable fields are guarded by bus.mu.
type busClient struct {
	bus    *Bus
	limit  int // Options.MaxQueued
	onDrop func(string)
	will   *Will
	subs   map[string]*queue
	closed bool
}

func (c *busClient) Publish(ctx context.Context, topic string, payload []byte, _ byte, retain bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validTopic(topic) {
		return fmt.Errorf("publish %q: %w", topic, ErrInvalidTopic)
	}
	c.bus.mu.Lock()
	defer c.bus.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.bus.publishLocked(topic, payload, retain)
	return nil
}

// Subscribe registers h for filter, replacing any handler this client had for the same
// filter, and queues the matching retained messages (sorted by topic) to it.
func (c *busClient) Subscribe(ctx context.Context, filter string, _ byte, h Handler) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validFilter(filter) {
		return fmt.Errorf("subscribe %q: %w", filter, ErrInvalidFilter)
	}
	b := c.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if old, ok := c.subs[filter]; ok {
		old.close()
	}
	q := startQueue(h, nil, c.limit, dropHook(c.onDrop, filter))
	c.subs[filter] = q
	for _, topic := range slices.Sorted(maps.Keys(b.retained)) {
		if match(filter, topic) {
			q.push(Message{Topic: topic, Payload: b.retained[topic], Retained: true})
		}
	}
	return nil
}

func (c *busClient) Unsubscribe(ctx context.Context, filters ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.bus.mu.Lock()
	defer c.bus.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	for _, f := range filters {
		if q, ok := c.subs[f]; ok {
			q.close()
			delete(c.subs, f)
		}
	}
	return nil
}

// Close disconnects cleanly: the will is discarded.
func (c *busClient) Close() {
	c.bus.mu.Lock()
	defer c.bus.mu.Unlock()
	c.bus.endLocked(c)
}

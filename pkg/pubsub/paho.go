package pubsub

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// renewTimeout bounds the wait for the SUBACK when subscriptions are renewed on reconnect.
const renewTimeout = 30 * time.Second

// pahoClient is a Client over one paho connection.
//
// Subscriptions are kept here, not in paho: on every reconnect onConnect subscribes to all
// of them again (a restarted broker has forgotten them; the original lost data exactly
// there), and route hands each incoming message to the queue of every matching one.
// After a reconnect, or when a subscription overlaps an older one, a handler may see a
// retained message again (the broker resends retained messages on every SUBSCRIBE), but
// never one older than a live message it has already had (see subscription.live).
type pahoClient struct {
	paho        paho.Client // set by Dial before the client is returned
	log         *slog.Logger
	onReconnect func()
	maxQueued   int // Options.MaxQueued
	onDrop      func(filter string)
	noLate      bool          // Options.NoLateDelivery
	up          chan struct{} // closed by the first onConnect

	ctx    context.Context // ends on Close; bounds renewals in onConnect
	cancel context.CancelFunc

	mu     sync.Mutex
	subs   map[string]*subscription
	closed bool

	renewMu   sync.Mutex // one onConnect at a time
	connected bool       // guarded by renewMu: an onConnect has run before
	closeOnce sync.Once
}

type subscription struct {
	filter string
	qos    byte
	q      *queue
	// live holds the topics this subscription has had a live message on since it was last
	// (re)subscribed; guarded by pahoClient.mu. mochi queues retained messages after the
	// SUBACK, so a live message published meanwhile can overtake an older retained one.
	// A retained message only answers a SUBSCRIBE, and every retained publish made after
	// the subscription exists also arrives live, so a retained copy of a topic already
	// seen live is stale and dropped: a handler never sees a value go backwards.
	live map[string]struct{}
}

var _ Client = (*pahoClient)(nil)

func newPahoClient(log *slog.Logger, o Options) *pahoClient {
	ctx, cancel := context.WithCancel(context.Background())
	return &pahoClient{
		log:         log,
		onReconnect: o.OnReconnect,
		maxQueued:   o.MaxQueued,
		onDrop:      o.OnDrop,
		noLate:      o.NoLateDelivery,
		up:          make(chan struct{}),
		ctx:         ctx,
		cancel:      cancel,
		subs:        make(map[string]*subscription),
	}
}

// Publish waits for the broker's acknowledgement (QoS 1, 2) or for the packet to be
// written (QoS 0), or for ctx. While reconnecting, paho keeps QoS>0 messages and sends
// them once connected, so an error (ctx) does not mean the message is lost; a QoS 0
// message is dropped and reported as sent, as QoS 0 allows. A NoLateDelivery connection
// refuses instead (ErrNotConnected).
func (c *pahoClient) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if !validTopic(topic) {
		return fmt.Errorf("publish %q: %w", topic, ErrInvalidTopic)
	}
	if c.isClosed() {
		return ErrClosed
	}
	if c.noLate && !c.paho.IsConnectionOpen() {
		return fmt.Errorf("publish %s: %w", topic, ErrNotConnected)
	}
	if err := waitToken(ctx, c.paho.Publish(topic, qos, retain, payload)); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Connected reports whether the connection to the broker is up now (false while paho
// reconnects, and after Close).
func (c *pahoClient) Connected() bool { return !c.isClosed() && c.paho.IsConnectionOpen() }

// Subscribe registers h for filter (replacing this client's handler for the same filter)
// and waits for the broker's SUBACK. If the connection is down, the subscription stays
// registered, is made on reconnect, and Subscribe returns nil.
func (c *pahoClient) Subscribe(ctx context.Context, filter string, qos byte, h Handler) error {
	if !validFilter(filter) {
		return fmt.Errorf("subscribe %q: %w", filter, ErrInvalidFilter)
	}
	s := &subscription{filter: filter, qos: qos, q: startQueue(h, c.log.With("filter", filter), c.maxQueued, dropHook(c.onDrop, filter)), live: make(map[string]struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		s.q.close()
		return ErrClosed
	}
	if old, ok := c.subs[filter]; ok {
		old.q.close()
	}
	// Registered before the SUBSCRIBE goes out, so no message, retained or live, and no
	// concurrent reconnect can miss it.
	c.subs[filter] = s
	c.mu.Unlock()

	err := waitSuback(ctx, c.paho.Subscribe(filter, qos, nil))
	if err == nil {
		return nil
	}
	if !c.paho.IsConnectionOpen() && !c.isClosed() {
		c.log.Debug("mqtt subscribe deferred to reconnect", "filter", filter, "err", err)
		return nil
	}
	c.mu.Lock()
	if c.subs[filter] == s {
		delete(c.subs, filter)
	}
	c.mu.Unlock()
	s.q.close()
	return fmt.Errorf("subscribe %q: %w", filter, err)
}

// Unsubscribe stops delivery at once, then tells the broker. When disconnected there is
// nothing to tell: the subscription is simply not renewed.
func (c *pahoClient) Unsubscribe(ctx context.Context, filters ...string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	for _, f := range filters {
		if s, ok := c.subs[f]; ok {
			s.q.close()
			delete(c.subs, f)
		}
	}
	c.mu.Unlock()
	if len(filters) == 0 {
		return nil
	}
	err := waitToken(ctx, c.paho.Unsubscribe(filters...))
	if err != nil && c.paho.IsConnectionOpen() {
		return fmt.Errorf("unsubscribe %q: %w", filters, err)
	}
	return nil
}

// Close sends DISCONNECT (so the will does not fire), stops reconnecting and stops the
// delivery goroutines. It does not wait for a handler that is running, so a handler may
// call Close.
func (c *pahoClient) Close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		subs := c.subs
		c.subs = nil
		c.mu.Unlock()
		for _, s := range subs {
			s.q.close()
		}
		c.cancel()
		c.paho.Disconnect(closeQuiesce)
	})
}

func (c *pahoClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// route runs on paho's router goroutine; it must not block (see SetOrderMatters in dial.go).
func (c *pahoClient) route(_ paho.Client, pm paho.Message) {
	m := Message{Topic: pm.Topic(), Payload: pm.Payload(), Retained: pm.Retained()}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.subs {
		if !match(s.filter, m.Topic) {
			continue
		}
		if !m.Retained {
			s.live[m.Topic] = struct{}{}
		} else if _, seen := s.live[m.Topic]; seen {
			continue // stale, see subscription.live
		}
		s.q.push(m)
	}
}

// onConnect runs on its own goroutine after every successful connection. The first one
// only releases Dial; later ones renew every subscription and only then run OnReconnect,
// so that a job republishing its state after a reconnect already hears the replies, and
// the leader's ingester never announces `ready` without its subscriptions.
func (c *pahoClient) onConnect(pc paho.Client) {
	c.renewMu.Lock()
	defer c.renewMu.Unlock()
	if !c.connected {
		c.connected = true
		close(c.up)
		return
	}
	if c.isClosed() {
		return
	}
	c.log.Info("mqtt client reconnected")
	if !c.renew(pc) {
		return // closed, or the connection is gone: the next onConnect renews
	}
	if c.onReconnect != nil && !c.isClosed() {
		c.onReconnect()
	}
}

// renew subscribes again to every filter, retrying the ones that failed (no SUBACK, or a
// refusal) with back-off for as long as the connection is up. It reports whether all are
// renewed.
func (c *pahoClient) renew(pc paho.Client) bool {
	c.mu.Lock()
	todo := make(map[string]byte, len(c.subs))
	for f, s := range c.subs {
		todo[f] = s.qos
		clear(s.live) // the renewal's retained messages are current again
	}
	c.mu.Unlock()
	wait := firstRetry
	for attempt := 1; len(todo) > 0; attempt++ {
		ctx, cancel := context.WithTimeout(c.ctx, renewTimeout)
		t := pc.SubscribeMultiple(todo, nil)
		err := waitToken(ctx, t)
		cancel()
		if err == nil {
			if st, ok := t.(*paho.SubscribeToken); ok {
				for f, code := range st.Result() {
					if code < 0x80 {
						delete(todo, f)
					} else {
						err = fmt.Errorf("broker refused subscription to %q (code %#x)", f, code)
					}
				}
			} else {
				clear(todo)
			}
		}
		if len(todo) == 0 {
			if attempt > 1 {
				c.log.Info("mqtt subscriptions renewed", "attempts", attempt)
			}
			break
		}
		if attempt == 1 || attempt%10 == 0 {
			c.log.Warn("mqtt subscriptions not renewed; retrying", "failed", len(todo), "attempt", attempt, "err", err, "in", wait)
		}
		select {
		case <-time.After(wait):
		case <-c.ctx.Done():
			return false
		}
		if !pc.IsConnectionOpen() {
			c.log.Warn("mqtt connection lost before the subscriptions were renewed")
			return false
		}
		wait = min(2*wait, maxRetry)
		c.mu.Lock()
		for f := range todo { // an Unsubscribe meanwhile needs no renewal
			if _, ok := c.subs[f]; !ok {
				delete(todo, f)
			}
		}
		c.mu.Unlock()
	}
	return !c.isClosed()
}

func (c *pahoClient) onLost(_ paho.Client, err error) {
	c.log.Warn("mqtt connection lost, reconnecting", "err", err)
}

// waitSuback waits for a SUBSCRIBE token and turns a refused filter into an error. paho
// reports refusals only in the return codes: 0x80 in MQTT 3.1.1 (mochi may also send a
// 5.0 reason code, also >= 0x80).
func waitSuback(ctx context.Context, t paho.Token) error {
	if err := waitToken(ctx, t); err != nil {
		return err
	}
	if st, ok := t.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("broker refused subscription to %q (code %#x)", f, code)
			}
		}
	}
	return nil
}

// dropHook binds Options.OnDrop to one filter (nil stays nil).
func dropHook(onDrop func(string), filter string) func() {
	if onDrop == nil {
		return nil
	}
	return func() { onDrop(filter) }
}

package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Spool is the on-disk queue; *store.Outbox implements it.
type Spool interface {
	Append(entries []store.OutboxEntry, limit int) (dropped int, err error)
	Oldest(n int) ([]store.OutboxEntry, error)
	Delete(ids []uint64) error
	Len() (int, error)
}

// DefaultMaxBytes is Config.MaxBytes by default: half the broker's default maximum packet
// size (1 MiB), leaving room for the packet's topic and headers.
const DefaultMaxBytes = 512 << 10

// Config configures an Outbox. Dialer, Spool, Unit and Leader are required.
type Config struct {
	// Dialer reaches the leader's broker; the Outbox dials its own connection with it and
	// wraps the connections others dial through Dialer().
	Dialer pubsub.Dialer
	Spool  Spool
	Unit   string // this unit: its replays go to ingest.ReplayTopic(Unit)
	Leader string // the leader's unit name, whose streamer's $state opens the gate
	Clock  clock.Clock
	Log    *slog.Logger
	// Keep selects the data messages (default ingest.Stored); Resend, those of them whose
	// copies the leader recognises, which may therefore be sent twice (default
	// ingest.Timestamped).
	Keep, Resend func(topic string) bool
	// MaxEntries bounds the spool; beyond it the oldest entries are dropped (default
	// 500,000: days of a unit's data, some 50 MB).
	MaxEntries int
	// Grace is how long a delivered message stays ready to be sent again, should the link
	// turn out to have been dead (default 30 s: more than the probe's detection time).
	// Like Probe and the timeouts it is wall time, whatever Clock says: it measures the
	// network, not the experiment.
	Grace time.Duration
	// Batch is the most messages per replay (default 500).
	Batch int
	// MaxBytes bounds one replay message, in bytes (default DefaultMaxBytes): a replay
	// larger than the broker's maximum packet size would be refused on every try. Set it
	// to at most half the broker's [mqtt] max_packet_size.
	MaxBytes int
	// Queue is how many messages may wait for the sender (default 1024); beyond it a data
	// message is spooled at once and a retained one held.
	Queue int
	// Probe is the interval of the link check (default 1 s); Timeout bounds one publish
	// before the link counts as down (default 2 s); AckTimeout, the wait for the
	// streamer's acknowledgement of a replay (default 10 s).
	Probe, Timeout, AckTimeout time.Duration
}

func (c *Config) defaults() error {
	switch {
	case c.Dialer == nil || c.Spool == nil:
		return errors.New("outbox: Dialer and Spool are required")
	case c.Unit == "" || c.Leader == "":
		return errors.New("outbox: Unit and Leader are required")
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Keep == nil {
		c.Keep = ingest.Stored
	}
	if c.Resend == nil {
		c.Resend = ingest.Timestamped
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 500_000
	}
	if c.Grace <= 0 {
		c.Grace = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Queue <= 0 {
		c.Queue = 1024
	}
	if c.Probe <= 0 {
		c.Probe = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	return nil
}

// Outbox keeps a unit's data messages until the leader has stored them. See doc.go.
type Outbox struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	linkUp bool   // the last publish or probe reached the broker
	ready  bool   // the streamer's $state said ready since the link came up
	ring   []sent // delivered while the gate was open, within Grace
	client pubsub.Client
	// refollow asks Run to subscribe to the streamer's $state again (the link is back).
	refollow bool
	held     heldSet           // retained non-data messages waiting for the link (sender.go)
	closed   bool              // Run is stopping: the sender takes nothing more (sender.go)
	seq      uint64            // numbers retained non-data messages in publication order
	sentSeq  map[string]uint64 // per topic, the number of the latest value published

	queue    chan outgoing // messages for the sender (sender.go)
	flushReq chan struct{} // asks the sender to publish what is held
	wake     chan struct{}
	acks     chan ingest.Ack
	batch    atomic.Uint64
	fault    *ingest.Fault // the spool's failures, for health

	spooled, resent, replayed, dropped, failed, heldN atomic.Int64
}

// sent is a delivered message kept for Grace.
type sent struct {
	topic   string
	payload []byte
	at      time.Time // Clock time: the replay's publication time
	wall    time.Time // wall time: Grace is measured on it
}

// Stats are an Outbox's counters since it started.
type Stats struct {
	Spooled  int64 // messages written to the spool (the leader could not store them then)
	Resent   int64 // of them, delivered ones queued again when the link turned out dead
	Replayed int64 // messages the leader acknowledged from replays
	Dropped  int64 // messages lost to the spool's bound
	Failed   int64 // messages neither delivered nor spooled (the disk failed)
	Held     int64 // retained non-data messages held while the link was down
	Pending  int   // messages in the spool now
	LinkUp   bool
	Ready    bool
	// Fault is the spool's failure while it fails (nil once a write works again).
	Fault *ingest.FaultState
}

// New checks cfg and builds an Outbox; Run starts it. Until Run has seen the streamer say
// ready, every data message is also spooled.
func New(cfg Config) (*Outbox, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Log.With("outbox", cfg.Unit)
	return &Outbox{cfg: cfg, log: log, linkUp: true, wake: make(chan struct{}, 1), acks: make(chan ingest.Ack, 16),
		queue: make(chan outgoing, cfg.Queue), flushReq: make(chan struct{}, 1), sentSeq: map[string]uint64{},
		fault: ingest.NewFault("outbox spool", log, cfg.Clock.Now)}, nil
}

// Dialer wraps cfg.Dialer: every connection it dials passes its data messages through
// the Outbox. Give it to the supervisor (and dial the log sink with it).
func (o *Outbox) Dialer() pubsub.Dialer { return dialer{o} }

type dialer struct{ o *Outbox }

func (d dialer) Dial(ctx context.Context, opts pubsub.Options) (pubsub.Client, error) {
	c, err := d.o.cfg.Dialer.Dial(ctx, opts)
	if err != nil {
		return nil, err
	}
	return d.o.Wrap(c), nil
}

// Wrap returns c with its data messages passing through the Outbox.
func (o *Outbox) Wrap(c pubsub.Client) pubsub.Client { return &client{Client: c, o: o} }

// client is a wrapped connection: Publish and Close are the Outbox's, the rest is c's.
type client struct {
	pubsub.Client
	o *Outbox
}

// Connected is the wrapped connection's own state (true when it cannot tell): a job that
// asks (the monitor) learns about its link, not about the Outbox.
func (c *client) Connected() bool {
	if s, ok := c.Client.(interface{ Connected() bool }); ok {
		return s.Connected()
	}
	return true
}

// Close closes the connection after what it queued has been published: the sender closes
// it when it reaches it in its queue. A stopping job publishes its `disconnected` and then
// closes; closing at once raced the sender's publish of that state on the same
// connection, and a broker could be left showing the job `lost`. When the sender is not
// taking messages (the link is down, the Outbox stopped, held messages wait) it closes now.
func (c *client) Close() {
	o := c.o
	o.mu.Lock()
	queued := o.linkUp && !o.closed && o.held.len() == 0 && !o.held.flushing &&
		o.enqueue(outgoing{conn: c.Client, closeConn: true})
	o.mu.Unlock()
	if !queued {
		c.Client.Close()
	}
}

// Publish hands a data message to the sender, which publishes it live (other jobs and the
// dashboard read it there) and spools it when the leader may not have stored it (see
// sender.go); while the link is down it is spooled at once. A retained non-data message
// (a setting, a $state) goes to the sender too, or is held while the link is down. Either
// way Publish never waits for the broker, so no job stalls on a dead one, and only a spool
// failure is an error. Other messages (commands, events) pass through unchanged.
func (c *client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	o := c.o
	if !o.cfg.Keep(topic) || len(payload) == 0 {
		if retain && qos > 0 {
			o.current(c.Client, topic, payload, qos)
			return nil
		}
		return c.Client.Publish(ctx, topic, payload, qos, retain)
	}
	m := outgoing{conn: c.Client, topic: topic, payload: append([]byte(nil), payload...), qos: qos, retain: retain,
		data: true, at: o.cfg.Clock.Now()}
	// Queued under mu, so that the sender's last look at its queue (finish) sees it.
	o.mu.Lock()
	queued := o.linkUp && !o.closed && o.enqueue(m)
	o.mu.Unlock()
	if queued {
		return nil
	}
	return o.spool([]store.OutboxEntry{m.entry()})
}

// remember keeps a delivered message for Grace, if a second copy of it would be
// recognised. It returns false when the gate closed while the message was on its way:
// closeGate has spooled the ring already, so the caller spools this one.
func (o *Outbox) remember(topic string, payload []byte, at, wall time.Time) bool {
	if !o.cfg.Resend(topic) {
		return true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.linkUp || !o.ready {
		return false
	}
	o.pruneLocked(wall)
	o.ring = append(o.ring, sent{topic, append([]byte(nil), payload...), at, wall})
	return true
}

// pruneLocked forgets what was delivered more than Grace ago (wall time).
func (o *Outbox) pruneLocked(wall time.Time) {
	i := 0
	for i < len(o.ring) && wall.Sub(o.ring[i].wall) > o.cfg.Grace {
		i++
	}
	o.ring = o.ring[i:]
}

// closeGate marks the leader unreachable (link) or not storing (streamer), and spools
// what was delivered within Grace: it may have been lost on the way.
func (o *Outbox) closeGate(link bool) {
	o.mu.Lock()
	if link {
		o.linkUp = false
	}
	o.ready = false
	o.pruneLocked(time.Now())
	ring := o.ring
	o.ring = nil
	o.mu.Unlock()
	if len(ring) == 0 {
		return
	}
	entries := make([]store.OutboxEntry, len(ring))
	for i, s := range ring {
		entries[i] = store.OutboxEntry{Topic: s.topic, Payload: s.payload, At: s.at}
	}
	// A failure is counted, logged and reported by spool.
	if err := o.spool(entries); err == nil {
		o.resent.Add(int64(len(entries)))
	}
}

func (o *Outbox) linkDown() {
	o.mu.Lock()
	was := o.linkUp
	o.mu.Unlock()
	if was {
		o.log.Warn("leader unreachable: keeping data messages on disk")
	}
	o.closeGate(true)
}

// spool writes entries to the spool. A failure loses them: it is counted, logged (rate
// limited) and reported by health until a write works again.
func (o *Outbox) spool(entries []store.OutboxEntry) error {
	dropped, err := o.cfg.Spool.Append(entries, o.cfg.MaxEntries)
	if err != nil {
		o.failed.Add(int64(len(entries)))
		o.fault.Fail(err, "messages_lost", len(entries))
		return fmt.Errorf("outbox: %w", err)
	}
	o.fault.OK()
	o.spooled.Add(int64(len(entries)))
	if dropped > 0 {
		o.dropped.Add(int64(dropped))
		o.log.Warn("outbox full: oldest messages dropped", "n", dropped, "max", o.cfg.MaxEntries)
	}
	return nil
}

// Stats returns the counters.
func (o *Outbox) Stats() Stats {
	n, _ := o.cfg.Spool.Len()
	st := Stats{Spooled: o.spooled.Load(), Resent: o.resent.Load(), Replayed: o.replayed.Load(),
		Dropped: o.dropped.Load(), Failed: o.failed.Load(), Held: o.heldN.Load(), Pending: n}
	if f, failing := o.fault.State(); failing {
		st.Fault = &f
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	st.LinkUp, st.Ready = o.linkUp, o.ready
	return st
}

// Run connects, follows the streamer's $state, checks the link every Probe and replays
// the spool whenever the leader is reachable and storing. It returns nil when ctx ends;
// the spool keeps what is left for the next start.
func (o *Outbox) Run(ctx context.Context) error {
	c, err := o.cfg.Dialer.Dial(ctx, pubsub.Options{ClientID: "outbox-" + o.cfg.Unit + "-" + pubsub.ClientSuffix(),
		OnReconnect: func() { o.linkRestored() }})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("outbox: connect: %w", err)
	}
	defer c.Close()
	o.mu.Lock()
	o.client = c
	o.mu.Unlock()
	// The sender's publishes outlive ctx (each bounded by Timeout): a stop is not a dead
	// link, and what the jobs published last is sent before Run returns (finish).
	sctx, stopSender := context.WithCancel(context.WithoutCancel(ctx))
	quit := make(chan struct{})
	var sender sync.WaitGroup
	sender.Go(func() { o.send(sctx, quit) })
	defer func() {
		close(quit)
		sender.Wait()
		if ctx.Err() != nil {
			o.lastReplay(sctx)
		}
		stopSender()
	}()
	err = o.follow(ctx)
	if err == nil {
		if err = c.Subscribe(ctx, ingest.AckTopic(o.cfg.Unit), pubsub.AtLeastOnce, o.onAck); err != nil {
			err = fmt.Errorf("outbox: subscribe acks: %w", err)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Network pacing is wall time, whatever the experiment's clock does (Grace too).
	tick := time.NewTicker(o.cfg.Probe)
	defer tick.Stop()
	for {
		o.mu.Lock()
		refollow := o.refollow && o.linkUp
		o.refollow = false
		flush := o.linkUp && o.held.len() > 0 && !o.held.flushing
		o.mu.Unlock()
		if refollow {
			if err := o.follow(ctx); err != nil {
				o.log.Debug("resubscribe to the streamer's state", "err", err)
			}
		}
		if flush {
			o.requestFlush()
		}
		if err := o.drain(ctx); err != nil {
			return nil // ctx ended
		}
		select {
		case <-ctx.Done():
			return nil
		case <-o.wake:
		case <-tick.C:
			o.probe(ctx)
		}
	}
}

// lastReplay replays, within one Timeout, what the spool holds at a clean stop while the
// gate is open (what the sender set aside, what was spooled since the last drain), so
// that a stop on a healthy link leaves nothing behind; the rest waits for the next start.
func (o *Outbox) lastReplay(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	_ = o.drain(ctx) // an error is the deadline: the spool keeps the rest
}

// follow (re)subscribes to the streamer's $state: a new SUBSCRIBE makes the broker send
// the retained value again, which is how a restored link learns whether it is ready.
func (o *Outbox) follow(ctx context.Context) error {
	if err := o.client.Subscribe(ctx, ingest.StateTopic(o.cfg.Leader), pubsub.AtLeastOnce, o.onState); err != nil {
		return fmt.Errorf("outbox: subscribe %s: %w", ingest.StateTopic(o.cfg.Leader), err)
	}
	return nil
}

func (o *Outbox) onState(m pubsub.Message) {
	if string(m.Payload) != "ready" {
		o.mu.Lock()
		was := o.ready
		o.mu.Unlock()
		if was {
			o.log.Warn("leader's streamer not ready: keeping data messages on disk", "state", string(m.Payload))
		}
		o.closeGate(false)
		return
	}
	o.mu.Lock()
	changed := !o.ready && o.linkUp
	o.ready = o.linkUp
	o.mu.Unlock()
	if changed {
		o.log.Info("leader's streamer ready")
		o.poke()
	}
}

func (o *Outbox) onAck(m pubsub.Message) {
	var a ingest.Ack
	if err := json.Unmarshal(m.Payload, &a); err != nil {
		o.log.Debug("malformed outbox ack", "err", err)
		return
	}
	select {
	case o.acks <- a:
	default:
	}
}

func (o *Outbox) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// probe checks the link with a QoS 1 publish on the Outbox's own connection: it detects
// a dead link when no job happens to publish, and a restored one.
func (o *Outbox) probe(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	err := o.client.Publish(pctx, contract.Topic(o.cfg.Unit, contract.UniversalExp, "outbox", "probe"), []byte("1"), pubsub.AtLeastOnce, false)
	o.mu.Lock()
	up := o.linkUp
	o.mu.Unlock()
	switch {
	case err != nil && up && ctx.Err() == nil:
		o.linkDown()
	case err == nil && !up:
		o.linkRestored()
	}
}

// linkRestored reopens the link half of the gate and has Run ask for the streamer's
// state anew and publish what was held (Run does it: no goroutine outlives Run).
func (o *Outbox) linkRestored() {
	o.mu.Lock()
	was := o.linkUp
	o.linkUp = true
	o.refollow = true
	o.mu.Unlock()
	if !was {
		o.log.Info("leader reachable again")
	}
	o.requestFlush()
	o.poke()
}

package ingest

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
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Store is where rows go; *store.DB implements it.
type Store interface {
	NewWriter(o store.WriterOptions) *store.Writer
}

// rowWriter is what the streamer uses of a *store.Writer.
type rowWriter interface {
	Run(ctx context.Context) error
	Write(ctx context.Context, rows []store.Row, done func(store.InsertStats, error)) error
	Stats() store.WriterStats
}

// Config configures an Ingester. Dialer, Store and Leader are required.
type Config struct {
	// Dialer connects to the leader's broker. The streamer dials its own connection: it
	// needs its own last will ($state lost) and a reconnect hook that says ready again.
	Dialer pubsub.Dialer
	Store  Store
	// Leader is the leader's unit name, under which the streamer's $state is published.
	Leader string
	// Clock times the rows whose payload has no timestamp; nil means the wall clock.
	Clock clock.Clock
	Log   *slog.Logger
	// QoS of the subscriptions; 0 means 1. The reference subscribes at 2; 1 costs half the
	// packets, and a message the broker sends twice is dropped by the store as a duplicate,
	// so each row is still stored once.
	QoS byte
	// PWMPins maps PWM channel 1..5 to its GPIO pin for pwm_dcs; nil means DefaultPWMPins.
	PWMPins map[int]string
	// Writer tunes the batching of rows into transactions.
	Writer store.WriterOptions
	// StatsEvery is how often the counters are logged (0: a minute, as the reference).
	StatsEvery time.Duration
	// Connections is how many broker connections share the subscriptions (0 means 4).
	Connections int
}

// Ingester is the leader's MQTT → store streamer (the reference's mqtt_to_db_streaming).
type Ingester struct {
	cfg    Config
	log    *slog.Logger
	clock  clock.Clock
	qos    byte
	writer rowWriter
	pwm    func(msg, *store.Row) error

	wctx context.Context // the writer's: handlers queue rows until the writer stops
	acks chan ack
	// wake asks Run to publish the $state again (a reconnect, or storing changed): Run
	// alone publishes it, so no goroutine outlives Run.
	wake  chan struct{}
	fault *Fault // failed commits: logged, and $state leaves ready until one works

	received, retained, empty, testing, unmatched, malformed atomic.Int64
	writeErrors, replays, replayed                           atomic.Int64
	warned                                                   atomic.Int64 // warnings in the current stats period

	mu             sync.Mutex
	client         pubsub.Client
	lastWriteError string
	failing        bool        // the latest commit failed: the streamer does not say ready
	retryRows      []store.Row // the rows of the latest failed commit, written again to probe the store
	// closed stops new handler calls from writing once Run is stopping; inflight counts
	// those still writing, which Run waits for before it stops the writer.
	closed   bool
	inflight sync.WaitGroup
}

type ack struct {
	unit string
	Ack
}

// Stats are an Ingester's counters since it started.
type Stats struct {
	Received   int64 // messages delivered to the streamer (replayed ones included)
	Inserted   int64 // rows stored
	Duplicates int64 // rows already stored (redeliveries, replays)
	Retained   int64 // skipped: retained replays of the broker
	Empty      int64 // skipped: empty payload
	Testing    int64 // skipped: _testing_ experiments
	Unmatched  int64 // skipped: a topic the mapping does not store
	Malformed  int64 // skipped: a payload that does not parse (logged)
	// WriteErrors counts rows lost to failed transactions; LastWriteError is the latest.
	WriteErrors    int64
	LastWriteError string
	Replays        int64 // outbox batches received
	Replayed       int64 // messages in them
	// Fault is the failing commits, from the first since the last that worked; nil while
	// commits work.
	Fault *FaultState
}

// New checks cfg and builds an Ingester; Run starts it.
func New(cfg Config) (*Ingester, error) {
	switch {
	case cfg.Dialer == nil:
		return nil, errors.New("ingest: Dialer is required")
	case cfg.Store == nil:
		return nil, errors.New("ingest: Store is required")
	case cfg.Leader == "":
		return nil, errors.New("ingest: Leader is required")
	case cfg.QoS > 2:
		return nil, fmt.Errorf("ingest: QoS %d is not 0, 1 or 2", cfg.QoS)
	}
	in := &Ingester{cfg: cfg, log: cfg.Log, clock: cfg.Clock, qos: cfg.QoS, acks: make(chan ack, 256), wake: make(chan struct{}, 1)}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	in.log = in.log.With("job", JobName)
	if in.clock == nil {
		in.clock = clock.Real{}
	}
	in.fault = NewFault("database write", in.log, in.clock.Now)
	if in.qos == 0 {
		in.qos = pubsub.AtLeastOnce
	}
	pins := cfg.PWMPins
	if pins == nil {
		pins = DefaultPWMPins
	}
	in.pwm = parsePWM(pins)
	if in.cfg.Connections <= 0 {
		in.cfg.Connections = 4
	}
	if in.cfg.StatsEvery <= 0 {
		in.cfg.StatsEvery = time.Minute
	}
	in.writer = cfg.Store.NewWriter(cfg.Writer)
	return in, nil
}

// Run connects, republishes the assignments, subscribes, says ready and stores until
// ctx ends; then it says disconnected, stops receiving, commits what it holds and returns
// nil. While commits fail its $state says sleeping, so that workers keep their data.
func (in *Ingester) Run(ctx context.Context) error {
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	in.wctx = wctx
	writerDone := make(chan error, 1)
	go func() { writerDone <- in.writer.Run(wctx) }()
	defer func() {
		// Handlers still writing finish (the writer takes their rows), later ones drop
		// theirs (workers' outboxes keep them: the streamer said disconnected), then the
		// writer commits what it holds.
		in.mu.Lock()
		in.closed = true
		in.mu.Unlock()
		in.inflight.Wait()
		stopWriter()
		<-writerDone
	}()

	state := StateTopic(in.cfg.Leader)
	id := JobName + "-" + in.cfg.Leader + "-" + pubsub.ClientSuffix()
	c, err := in.cfg.Dialer.Dial(ctx, pubsub.Options{
		ClientID:    id,
		Will:        &pubsub.Will{Topic: state, Payload: []byte("lost"), QoS: pubsub.ExactlyOnce, Retain: true},
		OnReconnect: in.poke,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: connect: %w", JobName, err)
	}
	in.mu.Lock()
	in.client = c
	in.mu.Unlock()
	defer c.Close()
	in.announceAssignments(ctx, c)
	// The subscriptions are spread over Connections connections: each has its own
	// in-order delivery pipeline and its own in-flight window at the broker, which drops
	// messages for a client that falls more than that window behind.
	conns := []pubsub.Client{c}
	for i := 1; i < in.cfg.Connections; i++ {
		extra, err := in.cfg.Dialer.Dial(ctx, pubsub.Options{ClientID: fmt.Sprintf("%s-%d", id, i)})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("%s: connect: %w", JobName, err)
		}
		defer extra.Close()
		conns = append(conns, extra)
	}
	for i, f := range Filters() {
		if err := conns[i%len(conns)].Subscribe(ctx, f, in.qos, in.handle); err != nil {
			return fmt.Errorf("%s: subscribe %s: %w", JobName, f, err)
		}
	}
	if err := c.Subscribe(ctx, replayFilter, pubsub.AtLeastOnce, in.handleReplay); err != nil {
		return fmt.Errorf("%s: subscribe %s: %w", JobName, replayFilter, err)
	}
	in.announce(in.state())
	in.log.Info("storing mqtt data", "subscriptions", len(Filters())+1)

	// The periods are wall time: they pace logging and retries, not the experiment.
	ticker := clock.Real{}.NewTicker(in.cfg.StatsEvery)
	defer ticker.Stop()
	retry := clock.Real{}.NewTicker(commitRetry)
	defer retry.Stop()
	var last Stats
	for {
		select {
		case <-ctx.Done():
			in.announce("disconnected")
			return nil
		case <-in.wake:
			in.announce(in.state())
		case a := <-in.acks:
			in.sendAck(ctx, a)
		case <-retry.C():
			in.mu.Lock()
			failing, rows := in.failing, in.retryRows
			in.mu.Unlock()
			if failing {
				// Real rows, so that the probe needs what failed (room on the disk);
				// stored once whatever else stores them meanwhile.
				in.write(rows, func(store.InsertStats, error) {})
			}
		case <-ticker.C():
			st := in.Stats()
			in.log.Debug("ingest stats", "inserts_in_last_period", st.Inserted-last.Inserted,
				"database_write_errors_in_last_period", st.WriteErrors-last.WriteErrors,
				"latest_database_write_error", st.LastWriteError, "malformed", st.Malformed-last.Malformed)
			if n := in.warned.Swap(0); n > maxWarnings {
				in.log.Warn("malformed payloads not logged", "n", n-maxWarnings)
			}
			last = st
		}
	}
}

// maxWarnings is how many malformed payloads are logged per stats period; the rest are
// only counted, so a misbehaving publisher cannot flood the logs (which are stored too).
const maxWarnings = 20

// commitRetry is how often a failing store is tried again with the rows that failed, so
// that the streamer says ready again even when no message arrives.
const commitRetry = 5 * time.Second

// state is the $state the streamer announces while it runs.
func (in *Ingester) state() string {
	if in.isFailing() {
		return "sleeping"
	}
	return "ready"
}

func (in *Ingester) isFailing() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.failing
}

func (in *Ingester) poke() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// announce publishes the streamer's retained $state.
func (in *Ingester) announce(state string) {
	in.mu.Lock()
	c := in.client
	in.mu.Unlock()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Publish(ctx, StateTopic(in.cfg.Leader), []byte(state), pubsub.ExactlyOnce, true); err != nil {
		in.log.Warn("publish $state", "state", state, "err", err)
	}
}

func (in *Ingester) sendAck(ctx context.Context, a ack) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// A lost ack only makes the worker send the batch again.
	if err := in.client.Publish(ctx, AckTopic(a.unit), contract.Marshal(a.Ack), pubsub.AtLeastOnce, false); err != nil {
		in.log.Debug("publish outbox ack", "unit", a.unit, "batch", a.Batch, "err", err)
	}
}

// Stats returns the counters.
func (in *Ingester) Stats() Stats {
	ws := in.writer.Stats()
	in.mu.Lock()
	lastErr := in.lastWriteError
	in.mu.Unlock()
	st := Stats{Received: in.received.Load(), Inserted: ws.Inserted, Duplicates: ws.Duplicates,
		Retained: in.retained.Load(), Empty: in.empty.Load(), Testing: in.testing.Load(),
		Unmatched: in.unmatched.Load(), Malformed: in.malformed.Load() + ws.Invalid,
		WriteErrors: in.writeErrors.Load(), LastWriteError: lastErr,
		Replays: in.replays.Load(), Replayed: in.replayed.Load()}
	if f, failing := in.fault.State(); failing {
		st.Fault = &f
	}
	return st
}

// handle is the subscriptions' handler: it maps one live message to a row and queues it.
func (in *Ingester) handle(m pubsub.Message) {
	in.received.Add(1)
	if m.Retained {
		in.retained.Add(1)
		return
	}
	row, ok := in.toRow(m.Topic, m.Payload, in.clock.Now())
	if !ok {
		return
	}
	in.write([]store.Row{row}, nil)
}

// handleReplay stores a batch from a worker's outbox and acknowledges it once committed.
func (in *Ingester) handleReplay(m pubsub.Message) {
	in.received.Add(1)
	if m.Retained || len(m.Payload) == 0 {
		in.retained.Add(1)
		return
	}
	unit, _, _, _ := split(m.Topic)
	var r Replay
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		in.malformed.Add(1)
		in.warn("malformed outbox batch", m.Topic, err)
		return
	}
	in.replays.Add(1)
	in.replayed.Add(int64(len(r.Messages)))
	rows := make([]store.Row, 0, len(r.Messages))
	for _, rm := range r.Messages {
		if row, ok := in.toRow(rm.Topic, rm.Payload, rm.PublishedAt.Time()); ok {
			rows = append(rows, row)
		}
	}
	skipped := len(r.Messages) - len(rows)
	in.write(rows, func(st store.InsertStats, err error) {
		if err != nil {
			return // no ack: the worker sends the batch again
		}
		a := ack{unit, Ack{Batch: r.Batch, Inserted: st.Inserted, Duplicates: st.Duplicates, Skipped: skipped + st.Invalid}}
		select {
		case in.acks <- a:
		default: // the ack loop is behind; the worker will resend and get a later ack
		}
	})
}

// toRow maps one message, counting why it is not stored when it is not.
func (in *Ingester) toRow(topic string, payload []byte, now time.Time) (store.Row, bool) {
	if len(payload) == 0 {
		in.empty.Add(1)
		return store.Row{}, false
	}
	if contract.IsTesting(topic) {
		in.testing.Add(1)
		return store.Row{}, false
	}
	unit, exp, rest, ok := split(topic)
	mp, found := lookup(rest)
	if !ok || !found {
		in.unmatched.Add(1)
		return store.Row{}, false
	}
	parse := mp.parse
	if mp.table == store.PWMDCs {
		parse = in.pwm
	}
	row := store.Row{Table: mp.table, Unit: unit, Experiment: exp}
	if err := parse(msg{unit: unit, exp: exp, rest: rest, payload: payload, now: now}, &row); err != nil {
		if errors.Is(err, errSkip) {
			in.unmatched.Add(1)
			return store.Row{}, false
		}
		in.malformed.Add(1)
		in.warn("malformed payload", topic, err)
		return store.Row{}, false
	}
	return row, true
}

// write queues rows for the writer. Once Run is stopping they are dropped, not failed:
// the streamer has said disconnected, so workers' outboxes keep them.
func (in *Ingester) write(rows []store.Row, done func(store.InsertStats, error)) {
	if len(rows) == 0 && done == nil {
		return
	}
	in.mu.Lock()
	if in.closed || in.wctx == nil {
		in.mu.Unlock()
		return
	}
	in.inflight.Add(1)
	in.mu.Unlock()
	defer in.inflight.Done()
	// wctx ends only after every handler has returned, so this waits for room, never
	// for shutdown.
	err := in.writer.Write(in.wctx, rows, func(st store.InsertStats, err error) {
		in.committed(rows, err)
		if done != nil {
			done(st, err)
		}
	})
	if err != nil {
		in.committed(rows, err)
	}
}

// maxRetryRows bounds the rows kept to probe a failing store.
const maxRetryRows = 1000

// committed records a commit's outcome: a failure leaves ready (workers keep their data
// and replay it later), the next success comes back to it.
func (in *Ingester) committed(rows []store.Row, err error) {
	if err == nil {
		in.fault.OK()
	} else {
		in.writeErrors.Add(int64(len(rows)))
		in.fault.Fail(err, "rows", len(rows))
	}
	in.mu.Lock()
	changed := in.failing != (err != nil)
	in.failing = err != nil
	switch {
	case err == nil:
		in.retryRows = nil
	case len(rows) > 0:
		in.lastWriteError = err.Error()
		in.retryRows = rows[max(0, len(rows)-maxRetryRows):]
	default:
		in.lastWriteError = err.Error()
	}
	in.mu.Unlock()
	if changed {
		in.poke()
	}
}

func (in *Ingester) warn(what, topic string, err error) {
	if in.warned.Add(1) <= maxWarnings {
		in.log.Warn(what, "topic", topic, "err", err)
	}
}

package jobs

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// simRig is the one test rig of the package: a simulated unit (pio01, experiment exp) with a
// supervisor on an in-memory bus. Build it with newRig inside a synctest bubble: time then
// runs as fast as the CPU allows. Families wrap it (newDosingRig, newODRig, newStirRig) to
// choose their job table and add their own helpers.
type simRig struct {
	t      *testing.T
	bus    *pubsub.Bus
	plant  *sim.Bioreactor
	sup    *supervisor.Supervisor
	cancel context.CancelFunc
	done   chan struct{}
	db     *store.DB
	conf   *config.Config
	logs   *logRecords  // with rigConfig.keepLogs
	msgs   *busRecorder // with rigConfig.record
}

// rigConfig chooses what differs between rigs; the zero value is the default plant and
// configuration with no jobs.
type rigConfig struct {
	specs     []supervisor.Spec
	params    *sim.Params                     // nil: sim.DefaultParams()
	overrides [][3]string                     // [section, key, value] over the default config
	board     func(*sim.Bioreactor) hal.Board // nil: the plant's board
	clock     clock.Clock                     // nil: clock.Real
	dialer    func(*pubsub.Bus) pubsub.Dialer // nil: the bus itself
	log       slog.Handler                    // nil: text to testLogOut at debug
	keepLogs  bool                            // log to r.logs (overrides log)
	record    bool                            // keep every live message in r.msgs
}

func newRig(t *testing.T, c rigConfig) *simRig {
	t.Helper()
	p := sim.DefaultParams()
	if c.params != nil {
		p = *c.params
	}
	plant, err := sim.New(p, clock.Real{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	board := plant.Board()
	if c.board != nil {
		board = c.board(plant)
	}
	var clk clock.Clock = clock.Real{}
	if c.clock != nil {
		clk = c.clock
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{NoSync: true}) // a volatile registry
	if err != nil {
		t.Fatal(err)
	}
	bus := pubsub.NewBus()
	var dialer pubsub.Dialer = bus
	if c.dialer != nil {
		dialer = c.dialer(bus)
	}
	r := &simRig{t: t, bus: bus, plant: plant, db: db, done: make(chan struct{}),
		conf: config.LoadDefault().With(c.overrides)}
	log := c.log
	if c.keepLogs {
		r.logs = &logRecords{}
		log = r.logs
	}
	if log == nil {
		log = slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	r.sup, err = supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: c.specs, Dialer: dialer,
		Registry: db.Registry(), Board: board, Clock: clk, Log: slog.New(log), Conf: r.conf})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	var obs pubsub.Client
	if c.record {
		r.msgs = &busRecorder{}
		if obs, err = bus.Dial(ctx, pubsub.Options{ClientID: "recorder"}); err != nil {
			t.Fatal(err)
		}
		if err := obs.Subscribe(ctx, "pioreactor/#", 0, r.msgs.handle); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		_ = r.sup.Run(ctx)
		if obs != nil {
			obs.Close()
		}
		close(r.done)
	}()
	synctest.Wait() // the supervisor has reset the registry before any job registers
	return r
}

// newSimRig is the default unit running specs.
func newSimRig(t *testing.T, specs ...supervisor.Spec) *simRig {
	t.Helper()
	return newRig(t, rigConfig{specs: specs})
}

// newAutoRig is a unit on plant parameters p and config overrides that keeps its log
// records and every message on the bus.
func newAutoRig(t *testing.T, p sim.Params, overrides [][3]string, specs ...supervisor.Spec) *simRig {
	t.Helper()
	return newRig(t, rigConfig{specs: specs, params: &p, overrides: overrides, keepLogs: true, record: true})
}

func (r *simRig) close() {
	r.cancel()
	<-r.done
	_ = r.db.Close()
}

// start starts a job in experiment exp, failing the test if the supervisor refuses.
func (r *simRig) start(job string, options map[string]any) {
	r.t.Helper()
	if err := r.startErr(job, options); err != nil {
		r.t.Fatalf("start %s: %v", job, err)
	}
}

// startErr starts a job in experiment exp and returns the supervisor's answer.
func (r *simRig) startErr(job string, options map[string]any) error {
	return r.sup.StartJob(context.Background(), job, contract.RunRequest{Options: options, Env: map[string]string{"EXPERIMENT": "exp"}})
}

// retained is a job's retained attribute in experiment exp.
func (r *simRig) retained(job, attr string) string { return r.retainedAt("exp", job, attr) }

// retainedAt is a job's retained attribute under any experiment.
func (r *simRig) retainedAt(exp, job, attr string) string {
	return r.retainedTopic(contract.JobTopic("pio01", exp, job, attr))
}

// retainedTopic is the retained payload of any topic.
func (r *simRig) retainedTopic(topic string) string {
	b, _ := r.bus.Retained(topic)
	return string(b)
}

// set publishes a /set as an external client would.
func (r *simRig) set(job, attr, value string) {
	r.publish(contract.SetTopic("pio01", "exp", job, attr), value, false)
}

// publish sends a message as an external client would.
func (r *simRig) publish(topic, payload string, retain bool) {
	r.t.Helper()
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), topic, []byte(payload), 1, retain); err != nil {
		r.t.Fatal(err)
	}
}

// watch records every message on filter from now on.
type watch struct {
	ch chan pubsub.Message
}

func (r *simRig) watch(filter string) *watch {
	r.t.Helper()
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	w := &watch{ch: make(chan pubsub.Message, 4096)}
	if err := c.Subscribe(context.Background(), filter, 2, func(m pubsub.Message) {
		select {
		case w.ch <- m:
		default:
		}
	}); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Close)
	return w
}

// drain returns the messages received so far.
func (w *watch) drain() []pubsub.Message {
	var out []pubsub.Message
	for {
		select {
		case m := <-w.ch:
			out = append(out, m)
		default:
			return out
		}
	}
}

var testLogOut io.Writer = io.Discard

// busRecorder keeps every live (non-retained) message.
type busRecorder struct {
	mu   sync.Mutex
	msgs []pubsub.Message
}

func (b *busRecorder) handle(m pubsub.Message) {
	if m.Retained {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
}

// on returns the payloads published on topic so far.
func (b *busRecorder) on(topic string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if m.Topic == topic {
			out = append(out, string(m.Payload))
		}
	}
	return out
}

// withPrefix lists the topics published with prefix, one per message.
func (b *busRecorder) withPrefix(prefix string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.msgs {
		if strings.HasPrefix(m.Topic, prefix) {
			out = append(out, m.Topic)
		}
	}
	return out
}

// logRecords is a slog handler that keeps "LEVEL message" lines.
type logRecords struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			line += " err=" + a.Value.String()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	testLog(line)
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }

// has reports whether a line contains every part.
func (l *logRecords) has(parts ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func (l *logRecords) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// testLog prints log lines when debugging (set to a fmt.Println).
var testLog = func(string) {}

// decode unmarshals a retained JSON setting.
func decode[T any](t *testing.T, raw string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
	return v
}

package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// autoRig is a simRig with chosen plant parameters and config overrides, whose log records
// are kept, and with a recorder of every message on the bus.
type autoRig struct {
	*simRig
	logs *logRecords
	msgs *busRecorder
}

func newAutoRig(t *testing.T, p sim.Params, overrides [][3]string, specs ...supervisor.Spec) *autoRig {
	t.Helper()
	clk := clock.Real{}
	plant, err := sim.New(p, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus := pubsub.NewBus()
	logs := &logRecords{}
	sup, err := supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: specs, Dialer: bus,
		Registry: db.Registry(), Board: plant.Board(), Clock: clk, Log: slog.New(logs),
		Conf: config.LoadDefault().With(overrides)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &simRig{t: t, bus: bus, plant: plant, sup: sup, cancel: cancel, done: make(chan struct{}), db: db}
	msgs := &busRecorder{}
	obs, err := bus.Dial(ctx, pubsub.Options{ClientID: "recorder"})
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Subscribe(ctx, "pioreactor/#", 0, msgs.handle); err != nil {
		t.Fatal(err)
	}
	go func() { _ = sup.Run(ctx); obs.Close(); close(r.done) }()
	synctest.Wait() // the supervisor has reset the registry before any job registers
	return &autoRig{simRig: r, logs: logs, msgs: msgs}
}

// startErr starts a job and returns the supervisor's answer.
func (r *autoRig) startErr(job string, options map[string]any) error {
	return r.sup.StartJob(context.Background(), job, contract.RunRequest{Options: options, Env: map[string]string{"EXPERIMENT": "exp"}})
}

// publish sends a message as an external client would.
func (r *autoRig) publish(topic, payload string, retain bool) {
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), topic, []byte(payload), 1, retain); err != nil {
		r.t.Fatal(err)
	}
}

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

// jobTopics lists the distinct topics published under a job (or any topic with prefix).
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

// retainedTopic is the retained payload of any topic.
func (r *autoRig) retainedTopic(topic string) string {
	b, _ := r.bus.Retained(topic)
	return string(b)
}

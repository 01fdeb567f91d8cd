package supervisor

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// memRegistry is an in-memory Registry.
type memRegistry struct {
	mu       sync.Mutex
	rows     []contract.JobRow
	settings map[int64]map[string]string
}

func newMemRegistry() *memRegistry { return &memRegistry{settings: map[int64]map[string]string{}} }

func (r *memRegistry) Reset() error { return nil }
func (r *memRegistry) Add(row contract.JobRow) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	row.JobID = int64(len(r.rows) + 1)
	r.rows = append(r.rows, row)
	r.settings[row.JobID] = map[string]string{}
	return row.JobID, nil
}
func (r *memRegistry) End(id int64, at string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows[id-1].IsRunning = 0
	r.rows[id-1].EndedAt = &at
	return nil
}
func (r *memRegistry) PutSetting(id int64, k, v string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settings[id][k] = v
	return nil
}
func (r *memRegistry) DeleteSetting(id int64, k string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.settings[id], k)
	return nil
}
func (r *memRegistry) Running() ([]contract.JobRow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []contract.JobRow
	for _, row := range r.rows {
		if row.IsRunning == 1 {
			out = append(out, row)
		}
	}
	return out, nil
}
func (r *memRegistry) History() ([]contract.JobRow, error) { return r.Running() }
func (r *memRegistry) Settings(id int64) (map[string]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.settings[id] {
		out[k] = v
	}
	return out, nil
}

// fakePWM records duty cycles.
type fakePWM struct {
	mu sync.Mutex
	dc float64
}

func (p *fakePWM) SetDutyCycle(v float64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dc = v
	return nil
}
func (p *fakePWM) get() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dc
}

// logSink captures log messages.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }
func (s *logSink) has(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

// rig is a supervisor on an in-memory bus, for use inside a synctest bubble.
type rig struct {
	t      *testing.T
	bus    *pubsub.Bus
	sup    *Supervisor
	logs   *logSink
	pwm    *fakePWM
	reg    *memRegistry
	obs    pubsub.Client
	seen   chan string // every $state observed on the bus, "job=state"
	stop   context.CancelFunc
	done   chan struct{}
	runErr error // Run's result, once done is closed
}

func newRig(t *testing.T, specs ...Spec) *rig {
	t.Helper()
	return newRigWith(t, rigOptions{}, specs...)
}

// rigOptions adjust a rig before its supervisor starts.
type rigOptions struct {
	dialer func(bus *pubsub.Bus) pubsub.Dialer // nil: the bus itself
	before func(r *rig)                        // runs before the supervisor's Run
}

func newRigWith(t *testing.T, o rigOptions, specs ...Spec) *rig {
	t.Helper()
	r := &rig{t: t, bus: pubsub.NewBus(), logs: &logSink{}, pwm: &fakePWM{}, reg: newMemRegistry(), seen: make(chan string, 256), done: make(chan struct{})}
	var dialer pubsub.Dialer = r.bus
	if o.dialer != nil {
		dialer = o.dialer(r.bus)
	}
	if o.before != nil {
		o.before(r)
	}
	sup, err := New(Config{Unit: "pio01", Leader: "leader", Jobs: specs, Dialer: dialer, Registry: r.reg,
		Board: hal.Board{PWM: map[string]hal.PWM{"1": r.pwm}}, Clock: clock.Real{}, Log: slog.New(r.logs), Conf: config.LoadDefault()})
	if err != nil {
		t.Fatal(err)
	}
	r.sup = sup
	ctx := context.Background()
	r.obs, _ = r.bus.Dial(ctx, pubsub.Options{ClientID: "observer"})
	_ = r.obs.Subscribe(ctx, "pioreactor/pio01/+/+/$state", 0, func(m pubsub.Message) {
		p, _ := contract.Parse(m.Topic)
		r.seen <- p.Job + "=" + string(m.Payload)
	})
	runCtx, cancel := context.WithCancel(ctx)
	r.stop = cancel
	go func() { r.runErr = sup.Run(runCtx); close(r.done) }()
	return r
}

func (r *rig) shutdown() {
	r.stop()
	<-r.done
	if r.runErr != nil {
		r.t.Errorf("supervisor Run: %v", r.runErr)
	}
	synctest.Wait() // let the observer see the last messages before it closes
	r.obs.Close()
}

func (r *rig) retained(job, attr string) string {
	b, _ := r.bus.Retained(contract.JobTopic("pio01", "exp", job, attr))
	return string(b)
}

func (r *rig) set(job, attr, value string) {
	if err := r.obs.Publish(context.Background(), contract.SetTopic("pio01", "exp", job, attr), []byte(value), 1, false); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) start(job string) error {
	return r.sup.StartJob(context.Background(), job, contract.RunRequest{Env: map[string]string{"EXPERIMENT": "exp"}})
}

// drain returns the states seen so far, in order.
func (r *rig) drain() []string {
	var out []string
	for {
		select {
		case s := <-r.seen:
			out = append(out, s)
		default:
			return out
		}
	}
}

// count returns how many log messages contain sub.
func (s *logSink) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// longest returns the length of the longest log message.
func (s *logSink) longest() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		n = max(n, len(m))
	}
	return n
}

// stallDialer dials on the bus, except that a Dial whose client id starts with a blocked
// prefix waits until its ctx ends (a broker frozen by kill -STOP, or an id it never
// accepts), and one with a delayed prefix takes that long before connecting.
type stallDialer struct {
	bus     *pubsub.Bus
	mu      sync.Mutex
	blocked map[string]int // prefix -> how many Dials still block
	delay   map[string]time.Duration
	entered chan string // receives the client id of every blocked Dial
}

func newStallDialer(bus *pubsub.Bus) *stallDialer {
	return &stallDialer{bus: bus, blocked: map[string]int{}, delay: map[string]time.Duration{}, entered: make(chan string, 16)}
}

func (d *stallDialer) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	d.mu.Lock()
	var block bool
	var wait time.Duration
	for p, n := range d.blocked {
		if strings.HasPrefix(o.ClientID, p) && n > 0 {
			d.blocked[p] = n - 1
			block = true
		}
	}
	for p, w := range d.delay {
		if strings.HasPrefix(o.ClientID, p) {
			wait = w
		}
	}
	d.mu.Unlock()
	if block {
		d.entered <- o.ClientID
		<-ctx.Done()
		return nil, ctx.Err()
	}
	time.Sleep(wait) // ignores ctx: a connect that the network finally lets through late
	return d.bus.Dial(ctx, o)
}

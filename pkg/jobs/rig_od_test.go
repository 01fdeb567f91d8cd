package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// odRig is a simRig with chosen plant parameters and configuration, and a unit cache dir for
// the OD family of jobs. Build it inside a synctest bubble.
type odRig struct {
	*simRig
	cacheDir string
}

// odSpecs are the OD family's job table entries on one unit's deps, as the daemon builds them.
func odSpecs(d ODDeps) []supervisor.Spec {
	return []supervisor.Spec{NewODReadingSpec(d), NewGrowthRateSpec(d.CacheDir), NewODBlankSpec(d), NewSelfTestSpec(d), NewStirringSpec(nil)}
}

// newODRig builds a unit on plant parameters p with the default config overridden by
// overrides ([section, key, value]). cacheDir "" makes a fresh one.
func newODRig(t *testing.T, p sim.Params, cacheDir string, overrides ...[3]string) *odRig {
	t.Helper()
	return newODRigDeps(t, p, ODDeps{CacheDir: cacheDir, Simulated: true}, overrides...)
}

// newODRigDeps is newODRig with chosen deps (calibrations); an empty CacheDir makes a fresh one.
func newODRigDeps(t *testing.T, p sim.Params, d ODDeps, overrides ...[3]string) *odRig {
	t.Helper()
	if d.CacheDir == "" {
		d.CacheDir = t.TempDir()
	}
	cacheDir := d.CacheDir
	clk := clock.Real{}
	plant, err := sim.New(p, clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{NoSync: true}) // as the daemon's registry
	if err != nil {
		t.Fatal(err)
	}
	bus := pubsub.NewBus()
	sup, err := supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: odSpecs(d), Dialer: bus,
		Registry: db.Registry(), Board: plant.Board(), Clock: clk,
		Log:  slog.New(slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Conf: config.LoadDefault().With(overrides)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &simRig{t: t, bus: bus, plant: plant, sup: sup, cancel: cancel, done: make(chan struct{}), db: db}
	go func() { _ = sup.Run(ctx); close(r.done) }()
	// Let Run reset the registry before any start: a reset after it would forget that job.
	time.Sleep(time.Millisecond)
	return &odRig{simRig: r, cacheDir: cacheDir}
}

// tryStart starts a job and returns the supervisor's answer.
func (r *odRig) tryStart(job string, options map[string]any) error {
	return r.sup.StartJob(context.Background(), job, contract.RunRequest{Options: options, Env: map[string]string{"EXPERIMENT": "exp"}})
}

// retainedAt reads a retained topic under any experiment.
func (r *odRig) retainedAt(exp, job, attr string) string {
	b, _ := r.bus.Retained(contract.JobTopic("pio01", exp, job, attr))
	return string(b)
}

// watch records every message on filter from now on.
type watch struct {
	ch chan pubsub.Message
}

func (r *odRig) watch(filter string) *watch {
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

// publish sends a message as an external client would.
func (r *odRig) publish(topic string, payload []byte, retain bool) {
	r.t.Helper()
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), topic, payload, 2, retain); err != nil {
		r.t.Fatal(err)
	}
}

func decodeField(t *testing.T, payload, field string) float64 {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		t.Fatalf("%q: %v", payload, err)
	}
	v, ok := m[field].(float64)
	if !ok {
		t.Fatalf("%q has no number %s", payload, field)
	}
	return v
}

// warmParams is the default plant at 30 °C (room and vial), still exponential for hours.
func warmParams() sim.Params {
	p := sim.DefaultParams()
	p.AmbientC = 30
	return p
}

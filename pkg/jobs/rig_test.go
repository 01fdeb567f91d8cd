package jobs

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// simRig is one simulated unit with a supervisor on an in-memory bus. Create it inside a
// synctest bubble: time then runs as fast as the CPU allows.
type simRig struct {
	t      *testing.T
	bus    *pubsub.Bus
	plant  *sim.Bioreactor
	sup    *supervisor.Supervisor
	cancel context.CancelFunc
	done   chan struct{}
	db     *store.DB
}

func newSimRig(t *testing.T, specs ...supervisor.Spec) *simRig {
	t.Helper()
	clk := clock.Real{}
	plant, err := sim.New(sim.DefaultParams(), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "unit.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bus := pubsub.NewBus()
	sup, err := supervisor.New(supervisor.Config{Unit: "pio01", Leader: "leader", Jobs: specs, Dialer: bus,
		Registry: db.Registry(), Board: plant.Board(), Clock: clk,
		Log: slog.New(slog.NewTextHandler(testLogOut, &slog.HandlerOptions{Level: slog.LevelDebug})), Conf: config.LoadDefault()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &simRig{t: t, bus: bus, plant: plant, sup: sup, cancel: cancel, done: make(chan struct{}), db: db}
	go func() { _ = sup.Run(ctx); close(r.done) }()
	return r
}

func (r *simRig) close() {
	r.cancel()
	<-r.done
	_ = r.db.Close()
}

func (r *simRig) start(job string, options map[string]any) {
	r.t.Helper()
	err := r.sup.StartJob(context.Background(), job, contract.RunRequest{Options: options, Env: map[string]string{"EXPERIMENT": "exp"}})
	if err != nil {
		r.t.Fatalf("start %s: %v", job, err)
	}
}

func (r *simRig) retained(job, attr string) string {
	b, _ := r.bus.Retained(contract.JobTopic("pio01", "exp", job, attr))
	return string(b)
}

// set publishes a /set as an external client would.
func (r *simRig) set(job, attr, value string) {
	c, err := r.bus.Dial(context.Background(), pubsub.Options{})
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), contract.SetTopic("pio01", "exp", job, attr), []byte(value), 1, false); err != nil {
		r.t.Fatal(err)
	}
}

var testLogOut io.Writer = io.Discard

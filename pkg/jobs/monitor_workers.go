package jobs

import (
	"context"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The leader's lost-worker watch (docs/jobs.md "monitor"): the leader's monitor follows every
// unit's monitor/$state. A worker of the inventory whose monitor goes `lost` (the broker's
// last will: the worker's process died, or it was silent for 1.5 keep-alives) is marked
// lost in the inventory and logged once, "<unit> seems to be lost."; when its monitor is
// back (ready, init, sleeping) or stopped cleanly (disconnected), the mark goes, without a
// restart of either side.

// WorkerLiveness is the leader's inventory as the watch needs it.
type WorkerLiveness interface {
	// InInventory reports whether unit is a worker of the inventory.
	InInventory(unit string) (bool, error)
	// SetLost marks the worker lost since a time, or not lost with a zero time.
	SetLost(unit string, since time.Time) error
}

// NewLeaderMonitorSpec is the leader's monitor: NewMonitorSpec's, plus the lost-worker watch
// over workers.
func NewLeaderMonitorSpec(version string, workers WorkerLiveness) supervisor.Spec {
	spec := NewMonitorSpec(version)
	build := spec.New
	spec.New = func(o supervisor.Options) (supervisor.Job, error) {
		j, err := build(o)
		if err != nil {
			return nil, err
		}
		m := j.(*Monitor)
		m.workers = workers
		return m, nil
	}
	return spec
}

// workerState is one monitor/$state message of another unit.
type workerState struct {
	unit  string
	state supervisor.State
}

// lostWorkers is the watch's memory: which workers it marked, which it has seen.
type lostWorkers struct {
	states chan workerState
	lost   map[string]bool
	seen   map[string]bool
}

// watchWorkers subscribes to every unit's monitor/$state (retained ones too: a leader that
// restarts learns who is back, and clears marks it left).
func (m *Monitor) watchWorkers(ctx context.Context) error {
	m.lw = lostWorkers{states: make(chan workerState, 64), lost: map[string]bool{}, seen: map[string]bool{}}
	filter := contract.JobTopic("+", "+", "monitor", contract.StateAttr)
	return m.rt.Subscribe(ctx, filter, pubsub.ExactlyOnce, func(msg pubsub.Message) {
		p, ok := contract.Parse(msg.Topic)
		if !ok || p.Unit == m.rt.Unit() || len(msg.Payload) == 0 {
			return
		}
		select {
		case m.lw.states <- workerState{unit: p.Unit, state: supervisor.State(msg.Payload)}:
		case <-ctx.Done():
		}
	})
}

// workerStates delivers the watched states; nil (never ready) on a unit without the watch.
func (m *Monitor) workerStates() <-chan workerState {
	if m.workers == nil {
		return nil
	}
	return m.lw.states
}

// onWorkerState marks or clears a worker of the inventory.
func (m *Monitor) onWorkerState(s workerState) {
	in, err := m.workers.InInventory(s.unit)
	if err != nil {
		m.rt.Log().Debug("lost-worker watch: read the inventory", "unit", s.unit, "err", err)
		return
	}
	if !in {
		return
	}
	first := !m.lw.seen[s.unit]
	m.lw.seen[s.unit] = true
	switch s.state {
	case supervisor.Lost:
		if m.lw.lost[s.unit] {
			return
		}
		m.lw.lost[s.unit] = true
		m.rt.Log().Warn(s.unit + " seems to be lost.")
		if err := m.workers.SetLost(s.unit, m.rt.Clock().Now()); err != nil {
			m.rt.Log().Debug("lost-worker watch: mark", "unit", s.unit, "err", err)
		}
	case supervisor.Init, supervisor.Ready, supervisor.Sleeping, supervisor.Disconnected:
		if !m.lw.lost[s.unit] && !first {
			return
		}
		if m.lw.lost[s.unit] {
			m.rt.Log().Info(s.unit + " is back.")
		}
		m.lw.lost[s.unit] = false
		if err := m.workers.SetLost(s.unit, time.Time{}); err != nil {
			m.rt.Log().Debug("lost-worker watch: clear", "unit", s.unit, "err", err)
		}
	}
}

package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// BioreactorProjection turns a unit's dosing events into bioreactor values (spec/jobs.md
// §7.3): it queues every non-retained event of pioreactor/<unit>/+/dosing_events, applies
// them in arrival order on its owner's goroutine, and publishes the five moving variables
// retained. The monitor job owns one when it exists; until then the long-running job of
// NewBioreactorSpec does. The owner calls Subscribe before ready, Process when Pending
// fires, Flush once events pause (flushQuiet) or at least every flushAtMost, and Process then
// Flush when it stops.
type BioreactorProjection struct {
	book *Bioreactor
	conf *config.Config

	mu      sync.Mutex
	queue   []pubsub.Message
	pending chan struct{} // signalled when the queue becomes non-empty
}

// NewBioreactorProjection projects into book; conf gives the defaults of new experiments.
func NewBioreactorProjection(book *Bioreactor, conf *config.Config) *BioreactorProjection {
	return &BioreactorProjection{book: book, conf: conf, pending: make(chan struct{}, 1)}
}

// Subscribe starts queueing the unit's dosing events (QoS 1, non-retained only).
func (p *BioreactorProjection) Subscribe(ctx context.Context, rt *supervisor.Runtime) error {
	topic := contract.DosingEventsFilter(rt.Unit())
	if err := rt.Subscribe(ctx, topic, pubsub.AtLeastOnce, p.enqueue); err != nil {
		return fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	return nil
}

func (p *BioreactorProjection) enqueue(m pubsub.Message) {
	if m.Retained {
		return
	}
	p.mu.Lock()
	p.queue = append(p.queue, m)
	p.mu.Unlock()
	select {
	case p.pending <- struct{}{}:
	default:
	}
}

// Persisting the book: once the events of a dose pause for flushQuiet, and at least every
// flushAtMost while they keep coming (a running pump sends one every half second).
const (
	flushQuiet  = 5 * time.Second
	flushAtMost = time.Minute
)

// Flush persists what the processed events changed.
func (p *BioreactorProjection) Flush(rt *supervisor.Runtime) {
	if err := p.book.Flush(); err != nil {
		rt.Log().Warn(err.Error())
	}
}

// Pending is signalled when events wait to be processed.
func (p *BioreactorProjection) Pending() <-chan struct{} { return p.pending }

// Process applies every queued event, in order. Failures (an unknown event, a volume above
// capacity, a malformed message) are logged as warnings and skip the event.
func (p *BioreactorProjection) Process(ctx context.Context, rt *supervisor.Runtime) {
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		p.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, m := range batch {
			if err := p.apply(ctx, rt, m); err != nil {
				rt.Log().Warn(err.Error())
			}
		}
	}
}

func (p *BioreactorProjection) apply(ctx context.Context, rt *supervisor.Runtime, m pubsub.Message) error {
	t, ok := contract.Parse(m.Topic)
	if !ok {
		return fmt.Errorf("dosing event on %s: not a unit topic", m.Topic)
	}
	var ev contract.DosingEvent
	if err := json.Unmarshal(m.Payload, &ev); err != nil {
		return fmt.Errorf("bioreactor.%s: malformed dosing event %q: %w", t.Experiment, m.Payload, err)
	}
	if ev.SourceOfEvent != nil && *ev.SourceOfEvent == contract.SourcePumpCalibration {
		return nil
	}
	v, err := p.book.Apply(t.Experiment, p.conf, ev.Event, float64(ev.VolumeChange))
	if err != nil {
		return fmt.Errorf("bioreactor.%s: %w", t.Experiment, err)
	}
	return publishBioreactor(ctx, rt, t.Experiment, v, contract.AltMediaFraction, contract.CurrentVolumeML,
		contract.CumulativeMediaAddedML, contract.CumulativeAltMediaAddedML, contract.CumulativeWasteRemovedML)
}

// bioreactorJob is the stand-in owner of the projection until the monitor job takes it over.
type bioreactorJob struct{ proj *BioreactorProjection }

// BioreactorJobName is the long-running job that owns the projection until monitor does.
const BioreactorJobName = "bioreactor_projection"

// NewBioreactorSpec is the long-running job that keeps the unit's bioreactor book up to date
// from its dosing events. The daemon starts it with the unit, like monitor.
func NewBioreactorSpec(d *Dosing) supervisor.Spec {
	return supervisor.Spec{Name: BioreactorJobName, LongRunning: true, New: func(o supervisor.Options) (supervisor.Job, error) {
		if d == nil || d.Bioreactor == nil {
			return nil, fmt.Errorf("%s: no bioreactor book configured", BioreactorJobName)
		}
		if _, err := BioreactorDefaults(o.Config, d.Bioreactor.Vessel()); err != nil {
			return nil, err
		}
		return &bioreactorJob{proj: NewBioreactorProjection(d.Bioreactor, o.Config)}, nil
	}}
}

// Run implements supervisor.Job.
func (j *bioreactorJob) Run(ctx context.Context, rt *supervisor.Runtime) error {
	if err := j.proj.Subscribe(ctx, rt); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	clk := rt.Clock()
	tick := newRepeat(ctx, clk, flushQuiet, flushQuiet)
	defer tick.Stop()
	var lastEvent, lastFlush time.Time
	dirty := false
	for {
		select {
		case <-ctx.Done():
			j.proj.Process(context.WithoutCancel(ctx), rt) // drain what arrived before the stop
			j.proj.Flush(rt)
			return nil
		case now := <-tick.C:
			if dirty && (now.Sub(lastEvent) >= flushQuiet || now.Sub(lastFlush) >= flushAtMost) {
				j.proj.Flush(rt)
				dirty, lastFlush = false, now
			}
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-j.proj.Pending():
			j.proj.Process(ctx, rt)
			if !dirty {
				lastFlush = clk.Now() // the at-most window starts with the first unsaved event
			}
			dirty, lastEvent = true, clk.Now()
		}
	}
}

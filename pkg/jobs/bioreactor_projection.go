package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// BioreactorProjection turns a unit's dosing events into bioreactor values (docs/jobs.md,
// "Bioreactor bookkeeping"): it queues every non-retained event of pioreactor/<unit>/+/dosing_events, applies
// them in arrival order on its owner's goroutine, and publishes the five moving variables
// retained. The monitor job owns one when it exists; until then the long-running job of
// NewBioreactorSpec does. The owner calls Subscribe before ready, Process when Pending
// fires, and Process then Flush when it stops.
//
// Process saves the book (fsync'd) after each batch of events and before publishing the
// values they produced: the book on disk is never behind the retained values, so a worker
// killed mid-dose restarts from what the leader and the broker last saw. A running pump
// sends an event every half second; batches coalesce when the disk is slower than that.
type BioreactorProjection struct {
	book *Bioreactor
	conf *config.Config

	mu      sync.Mutex
	queue   []pubsub.Message
	pending chan struct{} // signalled when the queue becomes non-empty
	joined  string        // the experiment the unit was last assigned to, not yet announced
	joins   chan struct{} // signalled when joined is set
}

// NewBioreactorProjection projects into book; conf gives the defaults of new experiments.
func NewBioreactorProjection(book *Bioreactor, conf *config.Config) *BioreactorProjection {
	return &BioreactorProjection{book: book, conf: conf, pending: make(chan struct{}, 1), joins: make(chan struct{}, 1)}
}

// WatchAssignment follows the unit's retained assignment, so that Announce can publish the
// values of each experiment the unit joins: a page opened later sees them retained.
func (p *BioreactorProjection) WatchAssignment(ctx context.Context, rt *supervisor.Runtime) error {
	topic := contract.AssignmentTopicFor(rt.Unit())
	return rt.Subscribe(ctx, topic, pubsub.AtLeastOnce, func(m pubsub.Message) {
		var a contract.Assignment
		if len(m.Payload) == 0 || json.Unmarshal(m.Payload, &a) != nil || a.Experiment == nil || *a.Experiment == "" {
			return // unassigned, or not an assignment: nothing to announce
		}
		p.mu.Lock()
		p.joined = *a.Experiment
		p.mu.Unlock()
		select {
		case p.joins <- struct{}{}:
		default:
		}
	})
}

// Joins is signalled when the unit joined an experiment whose values Announce should publish.
func (p *BioreactorProjection) Joins() <-chan struct{} { return p.joins }

// Announce publishes all six variables of the experiment the unit last joined, retained.
func (p *BioreactorProjection) Announce(ctx context.Context, rt *supervisor.Runtime) {
	p.mu.Lock()
	exp := p.joined
	p.joined = ""
	p.mu.Unlock()
	if exp == "" {
		return
	}
	v, err := p.book.Values(exp, p.conf)
	if err != nil {
		rt.Log().Warn("read the bioreactor values", "experiment", exp, "err", err)
		return
	}
	if err := publishBioreactor(ctx, rt, exp, v, BioreactorVariables...); err != nil {
		rt.Log().Warn(err.Error())
	}
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

// Flush persists what the processed events changed and Process has not saved yet.
func (p *BioreactorProjection) Flush(rt *supervisor.Runtime) {
	if err := p.book.Flush(); err != nil {
		rt.Log().Warn(err.Error())
	}
}

// Pending is signalled when events wait to be processed.
func (p *BioreactorProjection) Pending() <-chan struct{} { return p.pending }

// Process applies every queued event, in order, saves the book, then publishes the values
// each event produced. Failures (an unknown event, a volume out of range, a malformed
// message) are logged as warnings and skip the event; a failed save is logged as an error
// and the values are still published.
func (p *BioreactorProjection) Process(ctx context.Context, rt *supervisor.Runtime) {
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		p.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		type applied struct {
			exp string
			v   BioreactorValues
		}
		var out []applied
		for _, m := range batch {
			exp, v, err := p.apply(m)
			switch {
			case err != nil:
				rt.Log().Warn(err.Error())
			case exp != "":
				out = append(out, applied{exp, v})
			}
		}
		if err := p.book.Flush(); err != nil {
			rt.Log().Error("could not save the bioreactor book", "err", err)
		}
		for _, a := range out {
			if err := publishBioreactor(ctx, rt, a.exp, a.v, contract.AltMediaFraction, contract.CurrentVolumeML,
				contract.CumulativeMediaAddedML, contract.CumulativeAltMediaAddedML, contract.CumulativeWasteRemovedML); err != nil {
				rt.Log().Warn(err.Error())
			}
		}
	}
}

// apply moves the book by one event; exp is "" for an event that changes nothing.
func (p *BioreactorProjection) apply(m pubsub.Message) (exp string, v BioreactorValues, err error) {
	t, ok := contract.Parse(m.Topic)
	if !ok {
		return "", v, fmt.Errorf("dosing event on %s: not a unit topic", m.Topic)
	}
	var ev contract.DosingEvent
	if err := json.Unmarshal(m.Payload, &ev); err != nil {
		return "", v, fmt.Errorf("bioreactor.%s: malformed dosing event %q: %w", t.Experiment, m.Payload, err)
	}
	if ev.SourceOfEvent != nil && *ev.SourceOfEvent == contract.SourcePumpCalibration {
		return "", v, nil
	}
	v, err = p.book.Apply(t.Experiment, p.conf, ev.Event, float64(ev.VolumeChange))
	if err != nil {
		return "", v, fmt.Errorf("bioreactor.%s: %w", t.Experiment, err)
	}
	return t.Experiment, v, nil
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
	if err := j.proj.WatchAssignment(ctx, rt); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			j.proj.Process(context.WithoutCancel(ctx), rt) // drain what arrived before the stop
			j.proj.Flush(rt)
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-j.proj.Pending():
			j.proj.Process(ctx, rt)
		case <-j.proj.Joins():
			j.proj.Announce(ctx, rt)
		}
	}
}

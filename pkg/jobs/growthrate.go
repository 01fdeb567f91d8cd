package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// GrowthRate turns od_reading's `ods` stream into a filtered normalised OD and a specific
// growth rate with the extended Kalman filter of docs/algorithms.md, "Growth rate" (docs/jobs.md, "growth_rate_calculating").
type GrowthRate struct {
	cache unitCache
	// fused: the unit is an XR model with an active od_fused estimator, so the input is
	// od_reading's od_fused, one pseudo-channel "1" (docs/jobs.md, "growth_rate_calculating").
	fused   bool
	delta   float64 // expected spacing of readings, hours
	warmupN int
	tau     float64

	rt        *supervisor.Runtime
	events    chan grEvent
	discarded int        // OD messages dropped at start, up to grDiscard
	warmup    []grSample // collected warm-up readings
	factors   map[string]float64
	channels  []string // factor channels, descending: the filter's sensor order
	filter    *ekf
	last      time.Time // timestamp of the last processed reading (zero before the first)
	dilution  int       // updates still to flag as "recent dilution"
}

// growthRateJobName is the job's name on the wire.
const growthRateJobName = "growth_rate_calculating"

// grDiscard is how many OD messages are dropped after start: the first readings of a fresh
// od_reading are the least settled.
const grDiscard = 5

const growthRateSection = "growth_rate_calculating.config"

// NewGrowthRateSpec is the job table entry. It reads what od_reading writes, so it takes the
// same deps: d.CacheDir keeps the experiment's normalisation factors ("" for none), and an
// active fused-OD estimator in d.Estimators makes an XR unit read od_fused.
func NewGrowthRateSpec(d ODDeps) supervisor.Spec {
	return supervisor.Spec{Name: growthRateJobName, New: func(o supervisor.Options) (supervisor.Job, error) {
		g, err := newGrowthRate(o, unitCache{dir: d.CacheDir})
		if err != nil {
			return nil, err
		}
		if g.fused, err = readsFusedOD(o, d.Estimators); err != nil {
			return nil, err
		}
		return g, nil
	}}
}

// readsFusedOD reports whether growth rate reads od_fused: on an XR model with an active
// od_fused estimator (one that cannot be read refuses the start, as od_reading's does).
func readsFusedOD(o supervisor.Options, estimators string) (bool, error) {
	if !o.Model.XR() {
		return false, nil
	}
	est, err := loadActiveFusedEstimator(estimators)
	if err != nil {
		return false, err
	}
	return est != nil, nil
}

func newGrowthRate(o supervisor.Options, cache unitCache) (*GrowthRate, error) {
	var r collect
	sps := r.float(o.Config.Float(odSection, "samples_per_second", defaultSamplesPerSecond))
	tau := r.float(o.Config.Float(growthRateSection, "ekf_outlier_std_threshold", 5.0))
	n, err := o.Config.Int(growthRateSection, "samples_for_od_statistics", 10)
	if err := errors.Join(r.err(), err); err != nil {
		return nil, err
	}
	if _, err := odIntervalOfRate(sps); err != nil {
		return nil, err
	}
	switch {
	case n < 1:
		return nil, fmt.Errorf("[%s] samples_for_od_statistics must be an integer of at least 1", growthRateSection)
	case !(tau > 2) || math.IsInf(tau, 0):
		return nil, fmt.Errorf("[%s] ekf_outlier_std_threshold must be greater than 2.0", growthRateSection)
	}
	return &GrowthRate{cache: cache, delta: 1 / (3600 * sps), warmupN: n, tau: tau}, nil
}

// grEvent is one input message: an OD reading or a dosing event.
type grEvent struct {
	od    *grSample
	dosed bool
}

type grSample struct {
	at  time.Time
	ods map[string]float64
}

// Run implements supervisor.Job.
func (g *GrowthRate) Run(ctx context.Context, rt *supervisor.Runtime) error {
	g.rt = rt
	if err := rt.Declare(
		supervisor.Setting{Name: "growth_rate", Datatype: contract.TypeGrowthRate, Unit: "h⁻¹"},
		supervisor.Setting{Name: "od_filtered", Datatype: contract.TypeODFiltered},
	); err != nil {
		return err
	}
	if s := float64(g.warmupN) * g.delta * 3600; s >= 600 {
		rt.Log().Warn(fmt.Sprintf("Warm-up of %d samples takes %.0f s: growth rate starts late.", g.warmupN, s))
	}
	g.events = make(chan grEvent, 16)
	unit, exp := rt.Unit(), rt.Experiment()
	input, decode := "ods", decodeODs
	if g.fused {
		input, decode = "od_fused", decodeFusedOD
		rt.Log().Info("reading od_fused: an XR model with an active od_fused estimator")
	}
	if err := rt.Subscribe(ctx, contract.JobTopic(unit, exp, odReadingJobName, input), pubsub.ExactlyOnce, g.onODs(ctx, decode)); err != nil {
		return fmt.Errorf("subscribe to %s: %w", input, err)
	}
	if err := rt.Subscribe(ctx, contract.DosingEventsTopic(unit, exp), pubsub.ExactlyOnce, g.onDosing(ctx)); err != nil {
		return fmt.Errorf("subscribe to dosing events: %w", err)
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case ev := <-g.events:
			if err := g.handle(ctx, ev); err != nil {
				return err
			}
		}
	}
}

// onODs decodes on the delivery goroutine and hands the reading to the job's loop.
func (g *GrowthRate) onODs(ctx context.Context, decode func([]byte) (grSample, error)) pubsub.Handler {
	return func(m pubsub.Message) {
		if m.Retained || len(m.Payload) == 0 {
			return
		}
		s, err := decode(m.Payload)
		if err != nil {
			g.rt.Log().Warn("skipped an undecodable OD reading", "err", err)
			return
		}
		g.send(ctx, grEvent{od: &s})
	}
}

func (g *GrowthRate) onDosing(ctx context.Context) pubsub.Handler {
	return func(m pubsub.Message) {
		if m.Retained || len(m.Payload) == 0 {
			return
		}
		var d contract.DosingEvent
		if err := json.Unmarshal(m.Payload, &d); err != nil {
			g.rt.Log().Warn("skipped an undecodable dosing event", "err", err)
			return
		}
		g.send(ctx, grEvent{dosed: true})
	}
}

// send blocks the subscription's own delivery goroutine, never the network: the bus queues
// behind it, so no reading is lost while the filter works.
func (g *GrowthRate) send(ctx context.Context, ev grEvent) {
	select {
	case g.events <- ev:
	case <-ctx.Done():
	}
}

// fusedChannel is the pseudo-channel an od_fused reading is filtered as (angle 90).
const fusedChannel = "1"

// decodeFusedOD reads an ODFused payload as a reading of the pseudo-channel "1".
func decodeFusedOD(b []byte) (grSample, error) {
	var p struct {
		Timestamp *contract.Timestamp `json:"timestamp"`
		ODFused   *float64            `json:"od_fused"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return grSample{}, err
	}
	if p.Timestamp == nil || p.ODFused == nil {
		return grSample{}, errors.New("ODFused needs od_fused and a timestamp")
	}
	return grSample{at: p.Timestamp.Time(), ods: map[string]float64{fusedChannel: *p.ODFused}}, nil
}

// decodeODs reads an ODReadings payload into channel → od.
func decodeODs(b []byte) (grSample, error) {
	var p struct {
		Timestamp *contract.Timestamp `json:"timestamp"`
		ODs       map[string]struct {
			OD *float64 `json:"od"`
		} `json:"ods"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return grSample{}, err
	}
	if p.Timestamp == nil || len(p.ODs) == 0 {
		return grSample{}, errors.New("ODReadings needs a timestamp and at least one channel")
	}
	s := grSample{at: p.Timestamp.Time(), ods: make(map[string]float64, len(p.ODs))}
	for ch, r := range p.ODs {
		if r.OD == nil {
			return grSample{}, fmt.Errorf("channel %s has no od", ch)
		}
		s.ods[ch] = *r.OD
	}
	return s, nil
}

// handle processes one event on the job's goroutine; an error ends the job.
func (g *GrowthRate) handle(ctx context.Context, ev grEvent) error {
	if ev.dosed {
		if g.filter == nil {
			g.warmup = g.warmup[:0] // a dose changes the culture: restart the warm-up
			return nil
		}
		g.dilution = 2 // not additive: exactly the next two updates are flagged
		return nil
	}
	if g.discarded < grDiscard {
		g.discarded++
		return nil
	}
	if g.filter == nil {
		g.warmup = append(g.warmup, *ev.od)
		if len(g.warmup) < g.warmupN {
			return nil
		}
		return g.initialise(ctx)
	}
	if g.rt.State() != supervisor.Ready {
		return nil
	}
	if err := g.observe(ctx, *ev.od); err != nil && ctx.Err() == nil {
		g.rt.Log().Error(err.Error())
	}
	return nil
}

// initialise fixes the normalisation factors and starts the filter from the warm-up.
func (g *GrowthRate) initialise(ctx context.Context) error {
	exp := g.rt.Experiment()
	var cached map[string]float64
	found, err := g.cache.get(cacheODNormalization, exp, &cached)
	if err != nil {
		g.rt.Log().Warn("ignoring the cached OD normalization factors", "err", err)
	}
	if found && len(cached) > 0 {
		g.factors = cached
	} else {
		g.factors = map[string]float64{}
		for ch := range g.warmup[0].ods {
			vals := make([]float64, 0, len(g.warmup))
			for _, s := range g.warmup {
				if v, ok := s.ods[ch]; ok {
					vals = append(vals, v)
				}
			}
			g.factors[ch] = odMedian(vals)
		}
		if err := g.cache.put(cacheODNormalization, exp, g.factors); err != nil {
			g.rt.Log().Warn("could not store the OD normalization factors", "err", err)
		}
		g.rt.Log().Info(fmt.Sprintf("OD normalization factors: %s", formatFactors(g.factors)))
	}
	g.channels = sortedKeys(g.factors)
	slices.Reverse(g.channels)
	ys := make([][]float64, 0, len(g.warmup))
	for _, s := range g.warmup {
		y, err := g.scale(s)
		if err != nil {
			return fmt.Errorf("scale warm-up readings: %w", err)
		}
		ys = append(ys, y)
	}
	start, err := warmupStart(ys, g.delta, g.tau)
	if err != nil {
		return err
	}
	if g.filter, err = newEKF(start); err != nil {
		return err
	}
	g.warmup = nil
	return ctx.Err()
}

// scale divides each channel's OD by its factor, in the filter's channel order.
func (g *GrowthRate) scale(s grSample) ([]float64, error) {
	y := make([]float64, len(g.channels))
	var badF, badY []string
	for i, ch := range g.channels {
		f := g.factors[ch]
		od, ok := s.ods[ch]
		switch {
		case !(f > 0):
			badF = append(badF, ch)
		case !ok:
			return nil, fmt.Errorf("the reading has no channel %s, which the normalization factors have", ch)
		default:
			y[i] = od / f
			if !(y[i] > 0) || math.IsInf(y[i], 0) {
				badY = append(badY, ch)
			}
		}
	}
	if len(badF) > 0 {
		return nil, fmt.Errorf("non-positive OD normalization factor(s) for channel(s) %s: %s", strings.Join(badF, ", "), formatFactors(g.factors))
	}
	if len(badY) > 0 {
		return nil, fmt.Errorf("non-positive normalized value(s) for channel(s) %s", strings.Join(badY, ", "))
	}
	return y, nil
}

// observe feeds one live reading and publishes the estimates.
func (g *GrowthRate) observe(ctx context.Context, s grSample) error {
	y, err := g.scale(s)
	if err != nil {
		return err
	}
	dt := g.delta
	if !g.last.IsZero() {
		dt = s.at.Sub(g.last).Hours()
		if dt < 0 {
			return fmt.Errorf("late arriving data: %s is before %s", contract.FormatTime(s.at), contract.FormatTime(g.last))
		}
	}
	if _, err := g.filter.update(y, dt, g.dilution > 0); err != nil {
		return err
	}
	g.last = s.at
	g.dilution = max(0, g.dilution-1)
	stamp := contract.Timestamp(s.at)
	if err := g.rt.Set(ctx, "growth_rate", contract.GrowthRate{GrowthRate: contract.Decimal(g.filter.growthRate()), Timestamp: stamp}); err != nil {
		return err
	}
	return g.rt.Set(ctx, "od_filtered", contract.ODFiltered{ODFiltered: contract.Decimal(g.filter.odFiltered()), Timestamp: stamp})
}

func formatFactors(f map[string]float64) string {
	b, _ := json.Marshal(f) // a map of finite floats always marshals; NaN shows as ""
	return string(b)
}

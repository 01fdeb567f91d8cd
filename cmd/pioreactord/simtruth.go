package main

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/simtruth"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// newSimTruth builds the truth publisher of a simulated unit (nil plant: none, and so
// never outside --sim). It samples at the OD job's interval, at most DefaultEvery, so that
// each OD reading has a truth of the same instant or a few seconds before.
func newSimTruth(unit string, plant *sim.Bioreactor, sup *supervisor.Supervisor, dialer pubsub.Dialer, d unitDeps) (*simtruth.Publisher, error) {
	if plant == nil {
		return nil, nil
	}
	every := simtruth.DefaultEvery
	if sps, err := d.conf.Float("od_reading.config", "samples_per_second", 0.2); err == nil && sps > 0 {
		every = min(every, time.Duration(float64(time.Second)/sps))
	}
	return simtruth.New(simtruth.Config{Unit: unit, Truth: plant.Truth, Experiment: sup.Experiment,
		Dialer: dialer, Clock: d.clock, Log: d.log, Every: every})
}

// simTruthAPI answers GET /unit_api/simulation/truth for u (api.Config.SimTruth); nil
// when u is not simulated.
func (u *unit) simTruthAPI() func() (contract.SimulationTruth, bool) {
	if u.truth == nil {
		return nil
	}
	return func() (contract.SimulationTruth, bool) { return u.truth.Latest() }
}

// runSimTruth starts the truth publishers of the simulated units in g.
func (d *daemon) runSimTruth(ctx context.Context, g *errgroup.Group) {
	for _, u := range d.units {
		if u.truth != nil {
			g.Go(func() error { return u.truth.Run(ctx) })
		}
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// unit is one Pioreactor run by this daemon: its registry, its hardware and its supervisor.
type unit struct {
	name   string
	db     *store.DB
	sup    *supervisor.Supervisor
	dosing *jobs.Dosing // calibrations and the bioreactor book, shared with the API
}

type unitDeps struct {
	dataDir string
	leader  string
	dialer  pubsub.Dialer
	clock   clock.Clock
	log     *slog.Logger
	conf    *config.Config
	simSeed int64 // >0: a simulated bioreactor seeded with it; 0: no hardware
}

func openUnit(name string, d unitDeps) (*unit, error) {
	// The registry is volatile (reset at every start), so fsync buys nothing.
	db, err := store.Open(filepath.Join(d.dataDir, name, "unit.db"), store.Options{NoSync: true, Clock: d.clock})
	if err != nil {
		return nil, err
	}
	board := hal.Board{}
	if d.simSeed > 0 {
		p := sim.DefaultParams()
		p.Seed = d.simSeed
		plant, err := sim.New(p, d.clock, d.conf.PWMRoles())
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("simulated bioreactor of %s: %w", name, err)
		}
		board = plant.Board()
	}
	table, dosing, err := unitJobs(filepath.Join(d.dataDir, name), d.simSeed > 0)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("jobs of %s: %w", name, err)
	}
	sup, err := supervisor.New(supervisor.Config{Unit: name, Leader: d.leader, Jobs: table, Dialer: d.dialer,
		Registry: db.Registry(), Board: board, Clock: d.clock, Log: d.log, Conf: d.conf, Autostart: autostart})
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &unit{name: name, db: db, sup: sup, dosing: dosing}, nil
}

// unitAPI presents a supervisor to the HTTP API, translating its errors into the API's.
type unitAPI struct{ sup *supervisor.Supervisor }

var _ api.Unit = unitAPI{}

func (u unitAPI) Name() string   { return u.sup.Name() }
func (u unitAPI) Jobs() []string { return u.sup.Jobs() }

func (u unitAPI) Run(ctx context.Context, job string, req contract.RunRequest) error {
	err := u.sup.StartJob(ctx, job, req)
	switch {
	case errors.Is(err, supervisor.ErrUnknownJob):
		return fmt.Errorf("%w: %w", api.ErrUnknownJob, err)
	case errors.Is(err, supervisor.ErrAlreadyRunning):
		return fmt.Errorf("%w: %w", api.ErrAlreadyRunning, err)
	}
	return err
}

func (u unitAPI) Stop(ctx context.Context, f contract.StopFilter) (int, error) {
	return u.sup.StopJobs(ctx, f)
}

func (u unitAPI) Running() ([]contract.JobRow, error) { return u.sup.Running() }
func (u unitAPI) History() ([]contract.JobRow, error) { return u.sup.History() }

func (u unitAPI) Settings(job string) (map[string]any, error) {
	s, err := u.sup.JobSettings(job)
	if errors.Is(err, supervisor.ErrNotRunning) {
		return nil, fmt.Errorf("%w: %w", api.ErrNoSuchJob, err)
	}
	return s, err
}

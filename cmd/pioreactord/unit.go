package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/calibration/session"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/periph"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/outbox"
	"github.com/pioreactor/pioreactord/pkg/profile"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/simtruth"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// unit is one Pioreactor run by this daemon: its registry, its hardware and its supervisor.
type unit struct {
	name   string
	db     *store.DB
	sup    *supervisor.Supervisor
	dosing *jobs.Dosing // calibrations and the bioreactor book, shared with the API
	// box keeps what a worker could not deliver to the leader and replays it (nil on the
	// leader's own unit, which stores its data in-process); boxDB is its spool file.
	box   *outbox.Outbox
	boxDB *store.DB
	// leaderDB is the leader's store on the leader's own unit (health reports it), else nil.
	leaderDB *store.DB
	// truth publishes the simulated bioreactor's true state (--sim only; nil otherwise).
	truth *simtruth.Publisher
	// sessions runs the unit's guided calibrations.
	sessions *session.Manager
	// hw is the HAT of a unit run without --sim (nil otherwise): closing it drives every
	// PWM output low.
	hw *periph.Hardware
	// model is the unit's bioreactor model as it knows it (model.go).
	model *unitModel
	// estimators is the unit's estimator folder, served by the estimator routes.
	estimators *calibration.Estimators
}

type unitDeps struct {
	dataDir string
	leader  string
	dialer  pubsub.Dialer
	clock   clock.Clock
	log     *slog.Logger
	conf    *config.Config
	simSeed int64 // >0: a simulated bioreactor seeded with it; 0: no hardware
	outbox  bool  // spool undelivered data for replay (worker units)
	// leaderDB is the leader's store, whose failing commits the leader's own unit reports
	// in its health (nil elsewhere).
	leaderDB *store.DB
	// hardware: this unit drives a real HAT (a worker without --sim).
	hardware bool
	// extra jobs run on this unit only (the leader's experiment_profile).
	extra []supervisor.Spec
	// models is the model registry (api.LoadModels) the unit's vessel is looked up in; nil
	// is the built-ins.
	models []api.Model
}

func openUnit(name string, d unitDeps) (*unit, error) {
	// The registry is volatile (reset at every start), so fsync buys nothing.
	db, err := store.Open(filepath.Join(d.dataDir, name, "unit.db"), store.Options{NoSync: true, Clock: d.clock})
	if err != nil {
		return nil, err
	}
	board := hal.Board{}
	var simPlant *sim.Bioreactor // nil: no simulated bioreactor, so no simulation truth
	if d.simSeed > 0 {
		p := sim.DefaultParams()
		section := d.conf.Section("simulation")
		if err := p.Override(section); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("[simulation] in config.ini: %w", err)
		}
		p.Seed += d.simSeed // each unit its own culture; a [simulation] seed shifts them all
		plant, err := sim.New(p, d.clock, d.conf.PWMRoles())
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("simulated bioreactor of %s: %w", name, err)
		}
		board = sim.WithHAT(plant.Board())
		simPlant = plant
	}
	model, err := openUnitModel(filepath.Join(d.dataDir, name, "model.json"), modelFromEnv())
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	models := d.models
	if models == nil {
		models = api.BuiltinModels()
	}
	table, dosing, err := unitJobs(filepath.Join(d.dataDir, name), d.simSeed > 0, leaderWorkers(d.leaderDB), model.vessel(models))
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("jobs of %s: %w", name, err)
	}
	table = append(table, d.extra...)
	if d.simSeed > 0 {
		if err := factoryPumpCalibrations(dosing.Calibrations, name, d.clock.Now()); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	u := &unit{name: name, db: db, dosing: dosing, leaderDB: d.leaderDB, estimators: calibration.OpenEstimators(dosing.Estimators), model: model}
	if d.hardware {
		if u.hw, err = openHardware(d.conf, d.clock, d.log); err != nil {
			u.close()
			return nil, err
		}
		board = u.hw.Board()
	}
	dialer := d.dialer
	if d.outbox {
		// Durable, unlike the registry: the spool must survive a worker restart.
		if u.boxDB, err = store.Open(filepath.Join(d.dataDir, name, "outbox.db"), store.Options{Clock: d.clock}); err != nil {
			_ = db.Close()
			return nil, err
		}
		u.box, err = outbox.New(outbox.Config{Dialer: d.dialer, Spool: u.boxDB.Outbox(), Unit: name, Leader: d.leader, Clock: d.clock, Log: d.log,
			MaxBytes: replayMaxBytes(d.conf)})
		if err != nil {
			u.close()
			return nil, err
		}
		dialer = u.box.Dialer()
	}
	sup, err := supervisor.New(supervisor.Config{Unit: name, Leader: d.leader, Jobs: table, Dialer: dialer,
		Registry: db.Registry(), Board: board, Clock: d.clock, Log: d.log, Conf: d.conf, Autostart: autostart, Model: u.model.Model})
	if err != nil {
		u.close()
		return nil, err
	}
	u.sup = sup
	u.sessions = session.New(name, &jobRig{sup: sup, hall: board.Hall, clock: d.clock, cals: dosing.Calibrations}, dosing.Calibrations, d.clock.Now)
	if u.truth, err = newSimTruth(name, simPlant, sup, dialer, d); err != nil {
		u.close()
		return nil, err
	}
	return u, nil
}

// close closes the unit's stores; the spool last, after everything that could write to it.
func (u *unit) close() error {
	err := u.db.Close()
	if u.boxDB != nil {
		err = errors.Join(err, u.boxDB.Close())
	}
	if u.hw != nil {
		err = errors.Join(err, u.hw.Close())
	}
	return err
}

// unitAPI presents a supervisor to the HTTP API, translating its errors into the API's;
// u, when set, gives health the unit's failing parts.
type unitAPI struct {
	sup *supervisor.Supervisor
	u   *unit
}

var (
	_ api.Unit            = unitAPI{}
	_ api.HealthReporter  = unitAPI{}
	_ api.EstimatorKeeper = unitAPI{}
)

// Estimators is the unit's estimator folder (api.EstimatorKeeper); nil without a unit.
func (u unitAPI) Estimators() api.Estimators {
	if u.u == nil || u.u.estimators == nil {
		return nil
	}
	return u.u.estimators
}

// Problems are the unit's parts failing now: its outbox's spool, the leader's store.
func (u unitAPI) Problems() []api.Problem {
	if u.u == nil {
		return nil
	}
	var out []api.Problem
	if u.u.box != nil {
		if f := u.u.box.Stats().Fault; f != nil {
			out = append(out, api.Problem{What: f.What, Error: f.Err, Since: contract.Timestamp(f.Since), Count: f.Count})
		}
	}
	if u.u.leaderDB != nil {
		if f, failing := u.u.leaderDB.WriteFailure(); failing {
			out = append(out, api.Problem{What: "database write", Error: f.Err, Since: contract.Timestamp(f.Since), Count: f.Rows})
		}
	}
	return out
}

func (u unitAPI) Name() string   { return u.sup.Name() }
func (u unitAPI) Jobs() []string { return u.sup.Jobs() }

func (u unitAPI) Run(ctx context.Context, job string, req contract.RunRequest) error {
	if job == profile.JobName {
		req = profile.RunEnv(req) // the profile runs under the experiment its arguments name
	}
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

// factoryPumpCalibrations gives a simulated unit's pumps, on its first start, the calibration
// of a nominal pump (0.0911 mL/s at 100 % duty), as a factory would: doses by volume then work
// at once. Each simulated pump is off by its own ±2 % (the sim's calibration error), which a
// user's own calibration removes. An existing active calibration is never replaced.
func factoryPumpCalibrations(cals *calibration.Store, unit string, now time.Time) error {
	for _, device := range []string{calibration.MediaPump, calibration.AltMediaPump, calibration.WastePump} {
		_, active, err := cals.Active(device)
		if err != nil || active {
			continue // a broken file is reported when a dose reads it; never overwrite a user's choice
		}
		c := calibration.DefaultPump()
		c.Name, c.Unit, c.CreatedAt = "sim-factory", unit, now.UTC()
		if _, err := cals.Save(device, c); err != nil {
			return fmt.Errorf("factory calibration of %s on %s: %w", device, unit, err)
		}
		if err := cals.SetActive(device, c.Name); err != nil {
			return fmt.Errorf("factory calibration of %s on %s: %w", device, unit, err)
		}
	}
	return nil
}

// bioreactorBook presents a unit's bioreactor book to the API's bioreactor routes.
type bioreactorBook struct {
	book *jobs.Bioreactor
	conf *config.Config
}

func (b bioreactorBook) BioreactorValues(exp string) (map[string]float64, error) {
	v, err := b.book.Values(exp, b.conf)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(jobs.BioreactorVariables))
	for _, name := range jobs.BioreactorVariables {
		if x, ok := v.Get(name); ok {
			out[name] = x
		}
	}
	return out, nil
}

func (b bioreactorBook) SetBioreactorValues(exp string, values map[string]float64) error {
	_, _, err := b.book.Update(exp, b.conf, values)
	return err
}

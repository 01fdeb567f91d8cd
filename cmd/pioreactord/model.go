package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/atomicfile"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/jobs"
)

// unitModel is what a unit knows of its bioreactor model (docs/hardware.md, "Bioreactor
// models"). The process's MODEL_NAME/MODEL_VERSION, when both are set, are a local override,
// as in the original; else the model the leader last sent (POST /unit_api/hardware/check,
// which the leader calls on PUT /api/workers/<unit>/model), kept in model.json beside the
// unit's registry so a restart remembers it. A run request naming a model (the leader sends
// its inventory's with every job it starts) wins over both for that job (pkg/supervisor).
type unitModel struct {
	path string
	env  contract.Model

	mu   sync.Mutex
	kept contract.Model
}

// openUnitModel reads the kept model at path (none yet is not an error).
func openUnitModel(path string, env contract.Model) (*unitModel, error) {
	m := &unitModel{path: path, env: env}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err == nil {
		err = json.Unmarshal(b, &m.kept)
	}
	if err != nil {
		return nil, fmt.Errorf("read the unit's model: %w", err)
	}
	return m, nil
}

// vessel is the unit's vessel now: its model's capacity and maximum fill in models (the
// registry of GET /api/models); the zero Vessel, which the book takes for the 40 ml model,
// when the model is unknown or not registered.
func (m *unitModel) vessel(models []api.Model) func() jobs.Vessel {
	return func() jobs.Vessel {
		model := m.Model()
		r, ok := api.FindModel(models, model.Name, model.Version)
		if !ok {
			return jobs.Vessel{}
		}
		return jobs.Vessel{CapacityML: r.ReactorCapacityML, MaxFillML: r.ReactorMaxFillVolumeML}
	}
}

// modelFromEnv is the process's local override (zero unless both are set).
func modelFromEnv() contract.Model {
	return contract.ModelFromEnv(map[string]string{"MODEL_NAME": os.Getenv("MODEL_NAME"), "MODEL_VERSION": os.Getenv("MODEL_VERSION")})
}

// Model is the unit's model now; zero when it does not know.
func (m *unitModel) Model() contract.Model {
	if m.env.Known() {
		return m.env
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kept
}

// Set keeps the leader's model (written before it is used, so a restart agrees).
func (m *unitModel) Set(model contract.Model) error {
	b, err := json.Marshal(model)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(m.path, b, 0o644); err != nil {
		return fmt.Errorf("keep the unit's model: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kept = model
	return nil
}

var _ api.ModelKeeper = unitAPI{}

// SetModel keeps the model the leader sent (api.ModelKeeper).
func (u unitAPI) SetModel(m contract.Model) error {
	if u.u == nil || u.u.model == nil {
		return errors.New("this unit keeps no model")
	}
	return u.u.model.Set(m)
}

// modelRetry is how often a unit asks again for its model while the leader cannot answer.
const modelRetry = 30 * time.Second

// leaderCalls reaches the leader's API (*cluster.Client does).
type leaderCalls interface {
	Do(ctx context.Context, units []string, r cluster.Request) cluster.Results
}

// learnModel asks the leader for the model its inventory holds for unit (GET
// /api/workers/<unit>/model) and keeps it, so a worker registered with a model that never
// changed knows it from the start, not only from the run requests the leader sends. It asks
// again every retry while the leader cannot be reached or fails (5xx), and stops at any other
// answer: a 404 means the unit is not in the inventory or has no model yet, and the leader
// pushes the model when one is set (POST /unit_api/hardware/check).
func learnModel(ctx context.Context, calls leaderCalls, leader, unit string, m *unitModel, retry time.Duration, log *slog.Logger) {
	for {
		r := calls.Do(ctx, []string{leader}, cluster.Request{Path: "/api/workers/" + url.PathEscape(unit) + "/model"})
		if len(r) == 1 && r[0].OK {
			var w api.WorkerModel
			if err := json.Unmarshal(r[0].Value, &w); err != nil {
				log.Warn("read the unit's model from the leader", "unit", unit, "err", err)
				return
			}
			model := contract.Model{Name: w.ModelName, Version: w.ModelVersion}
			if !model.Known() || model == m.leaders() {
				return
			}
			if err := m.Set(model); err != nil {
				log.Warn("keep the unit's model", "unit", unit, "err", err)
				return
			}
			log.Info("bioreactor model from the leader's inventory", "unit", unit, "model", model.Name, "version", model.Version)
			return
		}
		if len(r) != 1 || !r[0].Retryable {
			return
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// leaders is the model the leader sent last (the environment's override aside).
func (m *unitModel) leaders() contract.Model {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kept
}

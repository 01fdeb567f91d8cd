package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// InventoryStore is the part of the leader's database the inventory, assignment, label and
// experiment-edit routes use beyond LeaderStore's basics; *store.DB implements it.
type InventoryStore interface {
	DeleteWorker(unit string) error
	SetWorkerActive(unit string, active bool) error
	SetWorkerModel(unit, modelName, modelVersion string) error
	AssignmentOf(unit string) (store.Assignment, error)
	ClearAssignments() ([]store.Assignment, error)
	UnassignAll(experiment string) ([]string, error)
	AssignmentHistory(unit, experiment string) ([]store.AssignmentInterval, error)
	UpdateExperiment(name string, description *string, tags *[]string) (store.Experiment, error)
	DeleteExperiment(name string) error
	UnitLabels(experiment string) (map[string]string, error)
	SetUnitLabel(experiment, unit, label string) error
}

// clusterRoutes are the inventory, experiment-edit, unit, config and log routes beyond the
// first slice of leaderRoutes.
func (s *Server) clusterRoutes(g *echo.Group) {
	g.DELETE("/workers/assignments", s.clearAssignments)
	g.GET("/workers/discover", s.discoverWorkers)
	g.DELETE("/workers/:unit", s.deleteWorker)
	g.PUT("/workers/:unit/is_active", s.setWorkerActive)
	g.PUT("/workers/:unit/model", s.setWorkerModel)
	g.GET("/workers/:unit/model", s.getWorkerModel)
	g.GET("/workers/:unit/experiment", s.workerExperiment)
	g.POST("/workers/:unit/blink", s.blink)
	g.GET("/models", s.listModels)
	g.DELETE("/experiments/:exp/workers", s.unassignAll)
	g.GET("/experiments/:exp/historical_worker_assignments", s.historicalAssignments)

	s.experimentEditRoutes(g)
	s.unitFanoutRoutes(g)
	s.leaderConfigRoutes(g)
	s.unavailableLeaderRoutes(g)
}

// mustWorker checks a path's worker against the inventory: 400 `Unknown Pioreactor worker`.
func (s *Server) mustWorker(unit string) (store.Worker, error) {
	if !validName(unit) {
		return store.Worker{}, unregistered(unit)
	}
	w, err := s.leader().Store.Worker(unit)
	if errors.Is(err, store.ErrNotFound) {
		return store.Worker{}, unregistered(unit)
	}
	if err != nil {
		return store.Worker{}, internal("Could not read the inventory.", err)
	}
	return w, nil
}

// deleteWorker is DELETE /api/workers/:unit: out of the inventory (its assignment goes
// with it, announced), its jobs stopped, its config history dropped.
func (s *Server) deleteWorker(c echo.Context) error {
	unit := param(c, "unit")
	prev, _ := s.leader().Store.AssignmentOf(unit)
	err := s.leader().Store.DeleteWorker(unit)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Worker not found", unit+" is not in the inventory.", "Check the worker name.")
	}
	if err != nil {
		return internal("Could not remove the worker.", err)
	}
	ctx := c.Request().Context()
	if prev.Experiment != "" {
		s.announceAssignment(ctx, unit, nil, s.now())
	}
	s.fireAndForget(unit, http.MethodPost, "/unit_api/jobs/stop/all", nil)
	if unit != s.leaderName() {
		if h := s.leader().ConfigHistory; h != nil {
			for _, name := range []string{unitConfigHistoryName(unit), legacyConfigHistoryName(unit)} {
				if err := h.DeleteConfigSnapshots(name); err != nil {
					s.log.Warn("delete config history", "unit", unit, "err", err)
				}
			}
		}
	}
	s.logTo(ctx, contract.UniversalExp, "inventory", fmt.Sprintf("Removed %s from inventory.", unit))
	return c.JSON(http.StatusAccepted, Status{"success"})
}

type isActiveBody struct {
	IsActive int `json:"is_active" required:"true"`
}

// setWorkerActive is PUT /api/workers/:unit/is_active; deactivating stops every job on it.
func (s *Server) setWorkerActive(c echo.Context) error {
	unit := param(c, "unit")
	var b isActiveBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if b.IsActive != 0 && b.IsActive != 1 {
		return httpError(http.StatusBadRequest, "Invalid is_active value",
			fmt.Sprintf("is_active must be 0 or 1, got %d.", b.IsActive), "Send {\"is_active\": 0} or {\"is_active\": 1}.")
	}
	if _, err := s.mustWorker(unit); err != nil {
		return err
	}
	err := s.leader().Store.SetWorkerActive(unit, b.IsActive == 1)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Worker not found", unit+" is not in the inventory.", "")
	}
	if err != nil {
		return internal("Could not update the worker.", err)
	}
	word := "Active"
	if b.IsActive == 0 {
		word = "Inactive"
		s.fireAndForget(unit, http.MethodPost, "/unit_api/jobs/stop/all", nil)
	}
	s.logTo(c.Request().Context(), contract.UniversalExp, "inventory", fmt.Sprintf("Set %s to %s.", unit, word))
	return c.JSON(http.StatusOK, Status{"success"})
}

type modelBody struct {
	ModelName    string `json:"model_name" required:"true"`
	ModelVersion string `json:"model_version" required:"true"`
}

// setWorkerModel is PUT /api/workers/:unit/model: a registered model only; the worker is
// then asked to check its hardware against it (not awaited).
func (s *Server) setWorkerModel(c echo.Context) error {
	unit := param(c, "unit")
	var b modelBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if _, err := s.mustWorker(unit); err != nil {
		return err
	}
	if _, ok := FindModel(s.models(), b.ModelName, b.ModelVersion); !ok {
		return unknownModel(b.ModelName, b.ModelVersion)
	}
	err := s.leader().Store.SetWorkerModel(unit, b.ModelName, b.ModelVersion)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Worker not found", unit+" is not in the inventory.", "")
	}
	if err != nil {
		return internal("Could not update the worker.", err)
	}
	s.logTo(c.Request().Context(), contract.UniversalExp, "inventory",
		fmt.Sprintf("Set %s's model to %s v%s.", unit, b.ModelName, b.ModelVersion))
	s.fireAndForget(unit, http.MethodPost, "/unit_api/hardware/check", b)
	return c.JSON(http.StatusOK, Status{"success"})
}

func unknownModel(name, version string) *Error {
	return httpError(http.StatusBadRequest, "Unknown Pioreactor model.",
		fmt.Sprintf("Unknown model '%s' with version '%s'.", name, version), "Choose a model listed by GET /api/models.")
}

// WorkerModel is GET /api/workers/<unit>/model: the model's fields and the unit.
type WorkerModel struct {
	Unit string `json:"pioreactor_unit"`
	Model
}

func (s *Server) getWorkerModel(c echo.Context) error {
	unit := param(c, "unit")
	w, err := s.leader().Store.Worker(unit)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Worker not found", unit+" is not in the inventory.", "")
	}
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	m, ok := FindModel(s.models(), w.ModelName, w.ModelVersion)
	if !ok {
		return httpError(http.StatusNotFound, "Model not found",
			fmt.Sprintf("%s has no registered model (model_name %q, model_version %q).", unit, w.ModelName, w.ModelVersion),
			"Set one with PUT /api/workers/"+unit+"/model.")
	}
	cache(c, 5)
	return c.JSON(http.StatusOK, WorkerModel{Unit: unit, Model: m})
}

func (s *Server) listModels(c echo.Context) error {
	cache(c, 5)
	return c.JSON(http.StatusOK, map[string][]Model{"models": s.models()})
}

// WorkerExperiment is GET /api/workers/<unit>/experiment.
type WorkerExperiment struct {
	Unit         string  `json:"pioreactor_unit"`
	IsActive     int     `json:"is_active"`
	Experiment   string  `json:"experiment"`
	ModelName    *string `json:"model_name"`
	ModelVersion *string `json:"model_version"`
}

func (s *Server) workerExperiment(c echo.Context) error {
	unit := param(c, "unit")
	cache(c, 0)
	w, err := s.leader().Store.Worker(unit)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Worker not found", unit+" is not in the inventory.", "")
	}
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	a, err := s.leader().Store.AssignmentOf(unit)
	if errors.Is(err, store.ErrNotAssigned) || errors.Is(err, store.ErrUnknownWorker) {
		return httpError(http.StatusNotFound, "Worker is not assigned to an experiment",
			unit+" is not assigned to any experiment.", "Assign it with PUT /api/experiments/<exp>/workers.")
	}
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	return c.JSON(http.StatusOK, WorkerExperiment{Unit: unit, IsActive: boolInt(w.IsActive), Experiment: a.Experiment,
		ModelName: nullable(w.ModelName), ModelVersion: nullable(w.ModelVersion)})
}

// discoverWorkers is GET /api/workers/discover. There is no mDNS browser in pioreactord
// yet, so no host is ever discovered (docs/api.md).
func (s *Server) discoverWorkers(c echo.Context) error {
	return c.JSON(http.StatusOK, []UnitName{})
}

// clearAssignments is DELETE /api/workers/assignments: every worker out of every experiment,
// each announced, then every job stopped on the workers that were in one.
func (s *Server) clearAssignments(c echo.Context) error {
	removed, err := s.leader().Store.ClearAssignments()
	if err != nil {
		return internal("Could not clear the assignments.", err)
	}
	ctx := c.Request().Context()
	units := make([]string, 0, len(removed))
	for _, a := range removed {
		s.announceAssignment(ctx, a.Unit, nil, s.now())
		units = append(units, a.Unit)
	}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: "/unit_api/jobs/stop/all"}), nil
	})
}

// unassignAll is DELETE /api/experiments/:exp/workers ("End experiment"): every worker of
// exp out of it, announced, and exp's jobs stopped on them.
func (s *Server) unassignAll(c echo.Context) error {
	exp := param(c, "exp")
	units, err := s.leader().Store.UnassignAll(exp)
	if err != nil {
		return internal("Could not unassign the workers.", err)
	}
	ctx := c.Request().Context()
	for _, u := range units {
		s.announceAssignment(ctx, u, nil, s.now())
	}
	body := map[string]string{"experiment": exp}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: "/unit_api/jobs/stop", Body: body}), nil
	})
}

// HistoricalAssignment is an entry of GET /api/experiments/<exp>/historical_worker_assignments.
type HistoricalAssignment struct {
	Unit                string `json:"pioreactor_unit"`
	Experiment          string `json:"experiment"`
	IsCurrentlyAssigned int    `json:"is_currently_assigned_to_experiment"`
}

func (s *Server) historicalAssignments(c echo.Context) error {
	exp := param(c, "exp")
	hist, err := s.leader().Store.AssignmentHistory("", exp)
	if err != nil {
		return internal("Could not read the assignment history.", err)
	}
	out := []HistoricalAssignment{}
	index := map[string]int{}
	for _, h := range hist {
		i, seen := index[h.Unit]
		if !seen {
			index[h.Unit] = len(out)
			out = append(out, HistoricalAssignment{Unit: h.Unit, Experiment: exp})
			i = len(out) - 1
		}
		if h.Current() {
			out[i].IsCurrentlyAssigned = 1
		}
	}
	return c.JSON(http.StatusOK, out)
}

// blink is POST /api/workers/:unit/blink: the unit's monitor flashes its LED.
func (s *Server) blink(c echo.Context) error {
	unit := param(c, "unit")
	if !topicSegment(unit) {
		return badTopic(unit)
	}
	topic := contract.Topic(unit, contract.UniversalExp, "monitor", "flicker_led_response_okay")
	if err := s.publish(c.Request().Context(), topic, []byte("1"), qosAtLeastOnce, false); err != nil {
		return httpError(http.StatusBadGateway, "Could not reach the MQTT broker.", err.Error(),
			"Check that the MQTT broker is running, then retry.")
	}
	return c.JSON(http.StatusAccepted, Status{"accepted"})
}

// fireAndForget calls one unit in the background; a failure is logged.
func (s *Server) fireAndForget(unit, method, path string, body any) {
	s.background(func(ctx context.Context) {
		r := s.leader().Cluster.Call(ctx, unit, cluster.Request{Method: method, Path: path, Body: body})
		if !r.OK {
			s.log.Warn("call unit", "unit", unit, "path", path, "err", r.Error.Message)
		}
	})
}

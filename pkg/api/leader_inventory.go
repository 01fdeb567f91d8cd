package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Worker is a row of the inventory (GET /api/workers/<unit>).
type Worker struct {
	Unit         string  `json:"pioreactor_unit"`
	AddedAt      string  `json:"added_at"`
	IsActive     int     `json:"is_active"`
	ModelName    *string `json:"model_name"`
	ModelVersion *string `json:"model_version"`
}

// InventoryWorker is a row of GET /api/workers, with the configured address and, while
// the leader's monitor sees the worker lost, since when.
type InventoryWorker struct {
	Worker
	IPv4Address *string `json:"ipv4_address"`
	LostSince   *string `json:"lost_since,omitempty"`
}

// UnitName is an entry of GET /api/units.
type UnitName struct {
	Unit string `json:"pioreactor_unit"`
}

// WorkerAssignment is an entry of GET /api/workers/assignments; Experiment is null when the
// worker is in none.
type WorkerAssignment struct {
	Unit       string  `json:"pioreactor_unit"`
	Experiment *string `json:"experiment"`
	IsActive   int     `json:"is_active"`
}

// AssignedWorker is an entry of GET /api/experiments/<exp>/workers.
type AssignedWorker struct {
	Unit         string  `json:"pioreactor_unit"`
	IsActive     int     `json:"is_active"`
	ModelName    *string `json:"model_name"`
	ModelVersion *string `json:"model_version"`
}

// Status is the {"status": "..."} acknowledgement.
type Status struct {
	Status string `json:"status"`
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nullable renders "" as JSON null, as the original's NULL columns are.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toWorker(w store.Worker) Worker {
	return Worker{Unit: w.Unit, AddedAt: contract.FormatTime(w.AddedAt), IsActive: boolInt(w.IsActive),
		ModelName: nullable(w.ModelName), ModelVersion: nullable(w.ModelVersion)}
}

func (s *Server) listUnits(c echo.Context) error {
	units, err := s.units()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	out := make([]UnitName, len(units))
	for i, u := range units {
		out[i] = UnitName{u}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listWorkers(c echo.Context) error {
	ws, err := s.leader().Store.Workers()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	out := make([]InventoryWorker, len(ws))
	for i, w := range ws {
		out[i] = InventoryWorker{Worker: toWorker(w)}
		if !w.LostSince.IsZero() {
			since := contract.FormatTime(w.LostSince)
			out[i].LostSince = &since
		}
		if a := s.leader().Addresses[w.Unit]; net.ParseIP(a) != nil && net.ParseIP(a).To4() != nil {
			out[i].IPv4Address = &a
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getWorker(c echo.Context) error {
	unit := param(c, "unit")
	w, err := s.leader().Store.Worker(unit)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Worker not found", unit+" is not in the inventory.", "")
	}
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	return c.JSON(http.StatusOK, toWorker(w))
}

type putWorkerBody struct {
	Unit         string  `json:"pioreactor_unit" required:"true"`
	ModelName    *string `json:"model_name"`
	ModelVersion *string `json:"model_version"`
}

// putWorker is PUT /api/workers: register or overwrite, active, added now.
func (s *Server) putWorker(c echo.Context) error {
	var b putWorkerBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if !validName(b.Unit) {
		return httpError(http.StatusBadRequest, "Invalid worker name: "+b.Unit,
			"Worker names use letters, digits, '_' and '-', and cannot be $broadcast, localhost or an IP address.",
			"Use the worker's hostname, without .local.")
	}
	w := store.Worker{Unit: b.Unit, AddedAt: s.now(), IsActive: true}
	if b.ModelName != nil {
		w.ModelName = *b.ModelName
	}
	if b.ModelVersion != nil {
		w.ModelVersion = *b.ModelVersion
	}
	if err := s.leader().Store.PutWorker(w); err != nil {
		return internal("Could not add the worker.", err)
	}
	return c.JSON(http.StatusCreated, Status{"success"})
}

func (s *Server) listAssignments(c echo.Context) error {
	ws, err := s.leader().Store.Workers()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	as, err := s.leader().Store.Assignments()
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	exp := make(map[string]string, len(as))
	for _, a := range as {
		exp[a.Unit] = a.Experiment
	}
	out := make([]WorkerAssignment, len(ws))
	for i, w := range ws {
		out[i] = WorkerAssignment{Unit: w.Unit, Experiment: nullable(exp[w.Unit]), IsActive: boolInt(w.IsActive)}
	}
	cache(c, 2)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) experimentWorkers(c echo.Context) error {
	ws, err := s.leader().Store.AssignedWorkers(param(c, "exp"))
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	out := make([]AssignedWorker, len(ws))
	for i, w := range ws {
		out[i] = AssignedWorker{Unit: w.Unit, IsActive: boolInt(w.IsActive),
			ModelName: nullable(w.ModelName), ModelVersion: nullable(w.ModelVersion)}
	}
	cache(c, 2)
	return c.JSON(http.StatusOK, out)
}

type assignBody struct {
	Unit string `json:"pioreactor_unit" required:"true"`
}

func unregistered(unit string) *Error {
	return httpError(http.StatusBadRequest, "Unknown Pioreactor worker: "+unit,
		unit+" is not in the inventory.", "Add the worker to the inventory first.")
}

// assignWorker is PUT /api/experiments/:exp/workers: move a worker into exp, announce it
// (retained, so a worker that reconnects learns it) and stop what it ran for its old one.
func (s *Server) assignWorker(c echo.Context) error {
	exp := param(c, "exp")
	var b assignBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	// An experiment created before names were checked may still hold a NUL: assigning it
	// would hand it to the worker's jobs through the retained assignment.
	if err := checkExperimentUse(exp); err != nil {
		return err
	}
	at := s.now()
	prev, err := s.leader().Store.Assign(b.Unit, exp, at)
	switch {
	case errors.Is(err, store.ErrUnknownWorker):
		return unregistered(b.Unit)
	case errors.Is(err, store.ErrUnknownExperiment):
		return httpError(http.StatusNotFound, "Experiment not found", exp+" does not exist.", "Create the experiment first.")
	case err != nil:
		return internal("Could not assign the worker.", err)
	}
	ctx := c.Request().Context()
	s.announceAssignment(ctx, b.Unit, &exp, at)
	if prev != "" && prev != exp {
		s.stopOn(b.Unit, map[string]string{"experiment": prev})
	}
	s.logTo(ctx, exp, "assignment", fmt.Sprintf("Assigned pioreactor %s to experiment %s.", b.Unit, exp))
	return c.JSON(http.StatusOK, Status{"success"})
}

// unassignWorker is DELETE /api/experiments/:exp/workers/:unit.
func (s *Server) unassignWorker(c echo.Context) error {
	exp, unit := param(c, "exp"), param(c, "unit")
	err := s.leader().Store.Unassign(unit, exp)
	switch {
	case errors.Is(err, store.ErrUnknownWorker):
		return unregistered(unit)
	case errors.Is(err, store.ErrNotAssigned):
		return httpError(http.StatusNotFound, "Worker not assigned to experiment",
			fmt.Sprintf("%s is not assigned to %s.", unit, exp), "")
	case err != nil:
		return internal("Could not unassign the worker.", err)
	}
	s.announceAssignment(c.Request().Context(), unit, nil, s.now())
	s.stopOn(unit, map[string]string{"experiment": exp})
	return c.JSON(http.StatusOK, Status{"success"})
}

// announceAssignment publishes the retained assignment of a worker; exp nil means none.
// A failed publish is logged, not returned: the database is the truth and has changed.
func (s *Server) announceAssignment(ctx context.Context, unit string, exp *string, at time.Time) {
	a := contract.Assignment{PioreactorUnit: unit, Experiment: exp, UpdatedAt: contract.Timestamp(s.now())}
	if exp != nil {
		ts := contract.Timestamp(at)
		a.AssignedAt = &ts
	}
	if err := s.publish(ctx, contract.AssignmentTopicFor(unit), contract.Marshal(a), qosAtLeastOnce, true); err != nil {
		s.log.Error("announce assignment", "unit", unit, "err", err)
	}
}

// stopOn fires POST /unit_api/jobs/stop with body at one unit without waiting for it.
func (s *Server) stopOn(unit string, body map[string]string) {
	s.background(func(ctx context.Context) {
		r := s.leader().Cluster.Call(ctx, unit, cluster.Request{Method: http.MethodPost, Path: "/unit_api/jobs/stop", Body: body})
		if !r.OK {
			s.log.Warn("stop jobs on unit", "unit", unit, "filter", body, "err", r.Error.Message)
		}
	})
}

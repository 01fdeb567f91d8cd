package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/store/export"
)

// SimTruthFunc answers a simulated unit's latest true state; ok is false before the first
// sample. Config.SimTruth is nil on every unit that is not simulated.
type SimTruthFunc func() (v contract.SimulationTruth, ok bool)

// simTruth is GET /unit_api/simulation/truth (pioreactord --sim only, docs/simulation-truth.md).
func (s *Server) simTruth(c echo.Context) error {
	if s.cfg.SimTruth == nil {
		return httpError(http.StatusNotFound, "This unit has no simulated bioreactor",
			s.cfg.Unit.Name()+" is not simulated: the simulation truth exists only for the simulated units of pioreactord --sim.",
			"Ask a simulated worker's own /unit_api/ (pioreactord --sim prints their addresses).")
	}
	v, ok := s.cfg.SimTruth()
	if !ok {
		return httpError(http.StatusNotFound, "No simulation truth yet",
			"The simulation of "+s.cfg.Unit.Name()+" has not been sampled yet; it is, every few simulated seconds.",
			"Retry in a moment.")
	}
	cache(c, 0)
	return c.JSON(http.StatusOK, v)
}

// listed reports whether GET /api/datasets/exportable lists ds: the simulation truth only
// on a simulating leader.
func (s *Server) listed(ds export.Dataset) bool {
	return ds.Name != string(store.SimulationTruth) || s.leader().Simulation
}

package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// leaderEstimatorRoutes proxy the unit estimator routes (docs/api.md, "Calibrations and
// estimators"): one worker, or every worker for $broadcast, in a task, as the calibration
// routes do.
func (s *Server) leaderEstimatorRoutes(g *echo.Group) {
	p := "/workers/:unit"
	g.GET(p+"/estimators", s.workerFanout(http.MethodGet, "/unit_api/estimators"))
	g.GET(p+"/active_estimators", s.workerFanout(http.MethodGet, "/unit_api/active_estimators"))
	g.GET(p+"/estimators/:device", s.workerFanout(http.MethodGet, "/unit_api/estimators/:device"))
	g.GET(p+"/estimators/:device/:name", s.workerFanout(http.MethodGet, "/unit_api/estimators/:device/:name"))
	g.PATCH(p+"/active_estimators/:device/:name", s.workerFanout(http.MethodPatch, "/unit_api/active_estimators/:device/:name"))
	g.DELETE(p+"/active_estimators/:device", s.workerFanout(http.MethodDelete, "/unit_api/active_estimators/:device"))
	g.DELETE(p+"/estimators/:device/:name", s.workerFanout(http.MethodDelete, "/unit_api/estimators/:device/:name"))
}

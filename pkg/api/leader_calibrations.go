package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// leaderCalibrationRoutes proxy the unit calibration routes (docs/http.md, "Calibrations"): one worker,
// or every worker for $broadcast, in a task.
func (s *Server) leaderCalibrationRoutes(g *echo.Group) {
	p := "/workers/:unit"
	g.GET(p+"/calibrations", s.workerFanout(http.MethodGet, "/unit_api/calibrations"))
	g.GET(p+"/active_calibrations", s.workerFanout(http.MethodGet, "/unit_api/active_calibrations"))
	g.GET(p+"/calibrations/:device", s.workerFanout(http.MethodGet, "/unit_api/calibrations/:device"))
	g.GET(p+"/calibrations/:device/:name", s.workerFanout(http.MethodGet, "/unit_api/calibrations/:device/:name"))
	g.POST(p+"/calibrations/:device", s.uploadCalibration)
	g.PATCH(p+"/active_calibrations/:device/:name", s.workerFanout(http.MethodPatch, "/unit_api/active_calibrations/:device/:name"))
	g.DELETE(p+"/active_calibrations/:device", s.workerFanout(http.MethodDelete, "/unit_api/active_calibrations/:device"))
	g.DELETE(p+"/calibrations/:device/:name", s.workerFanout(http.MethodDelete, "/unit_api/calibrations/:device/:name"))
	g.GET(p+"/calibration_protocols", s.workerFanout(http.MethodGet, "/unit_api/calibration_protocols"))
	s.leaderEstimatorRoutes(g) // leader_estimators.go
}

// workers resolves a worker-scoped path unit: $broadcast is every worker, a name must be in
// the inventory (docs/http.md, "Addresses and roles"'s `Unknown Pioreactor worker`).
func (s *Server) workers(unit string) ([]string, error) {
	if unit == contract.Broadcast {
		ws, err := s.leader().Store.Workers()
		if err != nil {
			return nil, internal("Could not read the inventory.", err)
		}
		return unitNames(ws), nil
	}
	if _, err := s.mustWorker(unit); err != nil {
		return nil, err
	}
	return []string{unit}, nil
}

// unitPath fills a unit route template's :device and :name from the request, each checked
// as a single safe component before it goes anywhere.
func unitPath(c echo.Context, template string) (string, error) {
	out := template
	for _, field := range []string{"device", "name"} {
		if !strings.Contains(template, ":"+field) {
			continue
		}
		v, err := pathComponent(c, field)
		if err != nil {
			return "", err
		}
		out = strings.Replace(out, ":"+field, url.PathEscape(v), 1)
	}
	return out, nil
}

func (s *Server) workerFanout(method, template string) echo.HandlerFunc {
	return func(c echo.Context) error {
		path, err := unitPath(c, template)
		if err != nil {
			return err
		}
		units, err := s.workers(param(c, "unit"))
		if err != nil {
			return err
		}
		return s.queue(c, func(ctx context.Context) (any, error) {
			return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: method, Path: path}), nil
		})
	}
}

// uploadCalibration is POST /api/workers/:unit/calibrations/:device: the YAML is checked on
// the leader before any worker sees it.
func (s *Server) uploadCalibration(c echo.Context) error {
	path, err := unitPath(c, "/unit_api/calibrations/:device")
	if err != nil {
		return err
	}
	var b createCalibrationBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if _, err := calibration.Parse([]byte(b.CalibrationData)); err != nil {
		return badCalibrationYAML(err)
	}
	units, err := s.workers(param(c, "unit"))
	if err != nil {
		return err
	}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: path, Body: b}), nil
	})
}

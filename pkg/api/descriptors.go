package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/descriptor"
)

// The UI descriptors (docs/http.md, "System and capabilities"): a unit serves its own, rendered from its job table and its
// ui/ folders; the leader serves its own at /api/... and proxies a worker's.

func (s *Server) unitDescriptorRoutes(g *echo.Group) {
	g.GET("/jobs/descriptors", s.jobDescriptors)
	g.GET("/settings/descriptors", s.settingsDescriptors)
	g.GET("/automations/descriptors/:type", s.automationDescriptors)
}

func (s *Server) leaderDescriptorRoutes(g *echo.Group) {
	g.GET("/jobs/descriptors", s.jobDescriptors)
	g.GET("/settings/descriptors", s.settingsDescriptors)
	g.GET("/automations/descriptors/:type", s.automationDescriptors)
	g.GET("/charts/descriptors", s.chartDescriptors)
	g.GET("/workers/:unit/jobs/descriptors", s.proxyDescriptors("job", "/unit_api/jobs/descriptors", s.jobDescriptors))
	g.GET("/workers/:unit/settings/descriptors", s.proxyDescriptors("settings", "/unit_api/settings/descriptors", s.settingsDescriptors))
	g.GET("/workers/:unit/automations/descriptors/:type", s.proxyDescriptors("automation",
		"/unit_api/automations/descriptors/:type", s.automationDescriptors))
}

// descriptors is this unit's set, read now so that a file dropped in a ui/ folder shows at
// the next page load; an empty set without Config.Descriptors.
func (s *Server) descriptors() descriptor.Set {
	if s.cfg.Descriptors == nil {
		return descriptor.Set{}
	}
	return s.cfg.Descriptors()
}

func (s *Server) jobDescriptors(c echo.Context) error {
	cache(c, 5)
	return c.JSON(http.StatusOK, orEmpty(s.descriptors().Jobs))
}

func (s *Server) settingsDescriptors(c echo.Context) error {
	cache(c, 5)
	return c.JSON(http.StatusOK, orEmpty(s.descriptors().Collections))
}

func (s *Server) chartDescriptors(c echo.Context) error {
	cache(c, 5)
	return c.JSON(http.StatusOK, orEmpty(s.descriptors().Charts))
}

func (s *Server) automationDescriptors(c echo.Context) error {
	typ, err := automationType(c)
	if err != nil {
		return err
	}
	cache(c, 5)
	return c.JSON(http.StatusOK, orEmpty(s.descriptors().Automations[typ]))
}

func automationType(c echo.Context) (string, error) {
	typ := param(c, "type")
	if !slices.Contains(descriptor.AutomationTypes, typ) {
		return "", httpError(http.StatusBadRequest, "Invalid automation type: "+typ,
			"Automation types are "+strings.Join(descriptor.AutomationTypes, ", ")+".", "Ask for one of them.")
	}
	return typ, nil
}

// proxyDescriptors answers a worker's descriptors with its own answer (200, not a task):
// the leader's are rendered here, a worker's fetched; $broadcast is refused (docs/http.md, "Dashboard descriptors").
func (s *Server) proxyDescriptors(kind, path string, local echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		unit, err := s.oneUnit(c, "fetch "+kind+" descriptors")
		if err != nil {
			return err
		}
		target := path // per request: the handler is shared
		if strings.Contains(path, ":type") {
			typ, err := automationType(c)
			if err != nil {
				return err
			}
			target = strings.Replace(path, ":type", typ, 1)
		}
		if unit == s.leaderName() {
			return local(c)
		}
		r := s.leader().Cluster.Call(c.Request().Context(), unit, cluster.Request{Path: target})
		if !r.OK {
			return unitFailure(r, "Fetching "+kind+" descriptors")
		}
		cache(c, 5)
		return c.JSONBlob(http.StatusOK, r.Value)
	}
}

// orEmpty keeps an empty list `[]` in JSON rather than null.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

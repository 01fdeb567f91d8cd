package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// Estimators is a unit's estimator folder; *calibration.Estimators implements it.
type Estimators interface {
	Devices() ([]string, error)
	List(device string) (map[string]calibration.Estimator, error)
	Load(device, name string) (calibration.Estimator, error)
	Delete(device, name string) error
	ActiveNames() (map[string]string, error)
	SetActive(device, name string) error
	ClearActive(device string) error
}

var _ Estimators = (*calibration.Estimators)(nil)

// EstimatorKeeper is optionally implemented by a Unit with an estimator folder (the od_fused
// estimator od_reading and growth rate use). Without one the reads answer as the original
// does for a missing folder ({}, [], 404) and the changes 404.
type EstimatorKeeper interface {
	Estimators() Estimators
}

// estimatorRoutes are the unit's estimator routes (docs/api.md, "Calibrations and
// estimators"): as the calibration routes, with no upload (the spec has none).
func (s *Server) estimatorRoutes(g *echo.Group) {
	g.GET("/estimators", s.allEstimators)
	g.GET("/active_estimators", s.activeEstimatorsRoute)
	g.GET("/estimators/:device", s.deviceEstimators)
	g.GET("/estimators/:device/:name", s.oneEstimator)
	g.PATCH("/active_estimators/:device/:name", s.setActiveEstimator)
	g.DELETE("/active_estimators/:device", s.clearActiveEstimator)
	g.DELETE("/estimators/:device/:name", s.deleteEstimator)
}

// estimators is this unit's folder; nil when it keeps none.
func (s *Server) estimators() Estimators {
	if k, ok := s.cfg.Unit.(EstimatorKeeper); ok {
		return k.Estimators()
	}
	return nil
}

// estimatorComponent reads :device or :name as pathComponent does, naming estimators.
func estimatorComponent(c echo.Context, field string) (string, error) {
	v := param(c, field)
	if !calibrationComponent.MatchString(v) || strings.Contains(v, "..") || calibration.ValidName(v) != nil {
		label := map[string]string{"device": "Device", "name": "Estimator name"}[field]
		key := map[string]string{"device": "device", "name": "estimator_name"}[field]
		return "", httpError(http.StatusBadRequest, fmt.Sprintf("Missing or invalid '%s'.", key),
			label+" is missing or contains invalid characters.", "Use letters, digits, spaces, '.', '-' and '_'.")
	}
	return v, nil
}

// estimatorJSON is an estimator as the API shows it: its members plus is_active, the unit
// and the device.
func (s *Server) estimatorJSON(est calibration.Estimator, device string, active bool) map[string]any {
	out := maps.Clone(map[string]any(est))
	out["is_active"], out["pioreactor_unit"], out["device"] = active, s.cfg.Unit.Name(), device
	return out
}

// estimatorError maps the store's errors: not found 404, bad input 400, the rest 500.
func estimatorError(err error, what, device, name string) *Error {
	switch {
	case errors.Is(err, calibration.ErrNotFound):
		return httpError(http.StatusNotFound, "Estimator not found.",
			fmt.Sprintf("There is no estimator %q for device %q.", name, device), "List them with GET /unit_api/estimators.")
	case errors.Is(err, calibration.ErrBadName), errors.Is(err, calibration.ErrInvalid):
		return httpError(http.StatusBadRequest, what, err.Error(), "")
	}
	return internal(what, err)
}

// listEstimators is device's estimators by name, shown; unreadable files are logged and skipped.
func (s *Server) listEstimators(store Estimators, device string, active map[string]string) ([]map[string]any, error) {
	ests, err := store.List(device)
	if err != nil && len(ests) == 0 {
		return nil, err
	}
	if err != nil {
		s.log.Warn("skip unreadable estimators", "device", device, "err", err)
	}
	out := make([]map[string]any, 0, len(ests))
	for _, name := range slices.Sorted(maps.Keys(ests)) {
		out = append(out, s.estimatorJSON(ests[name], device, active[device] == name))
	}
	return out, nil
}

func (s *Server) allEstimators(c echo.Context) error {
	out := map[string][]map[string]any{}
	store := s.estimators()
	if store == nil {
		return c.JSON(http.StatusOK, out)
	}
	devices, err := store.Devices()
	if err != nil {
		return internal("Could not read the estimators.", err)
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active estimators.", err)
	}
	for _, d := range devices {
		list, err := s.listEstimators(store, d, active)
		if err != nil {
			s.log.Warn("read estimators", "device", d, "err", err)
			continue
		}
		out[d] = list
	}
	cache(c, 10)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) activeEstimatorsRoute(c echo.Context) error {
	out := map[string]map[string]any{}
	store := s.estimators()
	if store == nil {
		return c.JSON(http.StatusOK, out)
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active estimators.", err)
	}
	for device, name := range active {
		est, err := store.Load(device, name)
		if err != nil {
			s.log.Warn("read active estimator", "device", device, "name", name, "err", err)
			continue
		}
		out[device] = s.estimatorJSON(est, device, true)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deviceEstimators(c echo.Context) error {
	device, err := estimatorComponent(c, "device")
	if err != nil {
		return err
	}
	store := s.estimators()
	if store == nil {
		return c.JSON(http.StatusOK, []any{})
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active estimators.", err)
	}
	list, err := s.listEstimators(store, device, active)
	if err != nil {
		return estimatorError(err, "Could not read the estimators.", device, "")
	}
	return c.JSON(http.StatusOK, list)
}

// estimatorTarget checks :device and :name; store is nil on a unit without a folder.
func (s *Server) estimatorTarget(c echo.Context) (store Estimators, device, name string, err error) {
	if device, err = estimatorComponent(c, "device"); err != nil {
		return nil, "", "", err
	}
	if name, err = estimatorComponent(c, "name"); err != nil {
		return nil, "", "", err
	}
	return s.estimators(), device, name, nil
}

// oneEstimator is GET /unit_api/estimators/<device>/<name>.
func (s *Server) oneEstimator(c echo.Context) error {
	store, device, name, err := s.estimatorTarget(c)
	if err != nil {
		return err
	}
	if store == nil {
		return estimatorError(calibration.ErrNotFound, "", device, name)
	}
	est, err := store.Load(device, name)
	if err != nil {
		return estimatorError(err, "Could not read the estimator.", device, name)
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active estimators.", err)
	}
	return c.JSON(http.StatusOK, s.estimatorJSON(est, device, active[device] == name))
}

func (s *Server) setActiveEstimator(c echo.Context) error {
	store, device, name, err := s.estimatorTarget(c)
	if err != nil {
		return err
	}
	if store == nil {
		return estimatorError(calibration.ErrNotFound, "", device, name)
	}
	if err := store.SetActive(device, name); err != nil {
		return estimatorError(err, "Could not set the active estimator.", device, name)
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

func (s *Server) clearActiveEstimator(c echo.Context) error {
	device, err := estimatorComponent(c, "device")
	if err != nil {
		return err
	}
	if store := s.estimators(); store != nil {
		if err := store.ClearActive(device); err != nil {
			return estimatorError(err, "Could not clear the active estimator.", device, "")
		}
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

func (s *Server) deleteEstimator(c echo.Context) error {
	store, device, name, err := s.estimatorTarget(c)
	if err != nil {
		return err
	}
	if store == nil {
		return estimatorError(calibration.ErrNotFound, "", device, name)
	}
	if err := store.Delete(device, name); err != nil {
		return estimatorError(err, "Could not delete the estimator.", device, name)
	}
	return c.JSON(http.StatusOK, map[string]string{"msg": fmt.Sprintf("Deleted estimator %s of %s.", name, device)})
}

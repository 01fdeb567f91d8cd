package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// Calibrations is a unit's calibration folder; *calibration.Store implements it.
type Calibrations interface {
	Devices() ([]string, error)
	List(device string) ([]calibration.Calibration, error)
	Load(device, name string) (calibration.Calibration, error)
	Save(device string, c calibration.Calibration) (string, error)
	Delete(device, name string) error
	ActiveNames() (map[string]string, error)
	SetActive(device, name string) error
	ClearActive(device string) error
}

var _ Calibrations = (*calibration.Store)(nil)

func (s *Server) calibrationRoutes(g *echo.Group) {
	g.GET("/calibrations", s.allCalibrations)
	g.GET("/active_calibrations", s.activeCalibrations)
	g.GET("/calibrations/:device", s.deviceCalibrations)
	g.GET("/calibrations/:device/:name", s.oneCalibration)
	g.POST("/calibrations/:device", s.createCalibration)
	g.DELETE("/calibrations/:device/:name", s.deleteCalibration)
	g.PATCH("/active_calibrations/:device/:name", s.setActiveCalibration)
	g.DELETE("/active_calibrations/:device", s.clearActiveCalibration)
	g.GET("/calibration_protocols", s.calibrationProtocols)
	s.estimatorRoutes(g) // unit_estimators.go
}

func (s *Server) calibrations(c echo.Context) (Calibrations, error) {
	if s.cfg.Calibrations != nil {
		return s.cfg.Calibrations, nil
	}
	return nil, notImplemented(c.Request(), s.cfg.Unit.Name()+" has no calibration store.")
}

// calibrationComponent is what docs/http.md, "Calibrations" allows in a device or calibration name.
var calibrationComponent = regexp.MustCompile(`^[A-Za-z0-9 ._-]+$`)

// pathComponent reads a device/name path parameter, refusing anything that could leave
// the calibration folder (.., separators, %2E%2E once unescaped) with the original's 400.
func pathComponent(c echo.Context, field string) (string, error) {
	v := param(c, field)
	if !calibrationComponent.MatchString(v) || strings.Contains(v, "..") || calibration.ValidName(v) != nil {
		label := map[string]string{"device": "Device", "name": "Calibration name"}[field]
		key := map[string]string{"device": "device", "name": "calibration_name"}[field]
		return "", httpError(http.StatusBadRequest, fmt.Sprintf("Missing or invalid '%s'.", key),
			label+" is missing or contains invalid characters.", "Use letters, digits, spaces, '.', '-' and '_'.")
	}
	return v, nil
}

// calibrationJSON is a calibration as the API shows it: the file's members in their order,
// then is_active and the unit.
func (s *Server) calibrationJSON(cal calibration.Calibration, active bool) (json.RawMessage, error) {
	b, err := json.Marshal(cal)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("calibration %s does not encode as an object", cal.Name)
	}
	unit, _ := json.Marshal(s.cfg.Unit.Name())
	extra := fmt.Sprintf(`"is_active":%t,"pioreactor_unit":%s}`, active, unit)
	if len(bytes.TrimSpace(b[1:len(b)-1])) > 0 {
		extra = "," + extra
	}
	return append(b[:len(b)-1:len(b)-1], extra...), nil
}

func (s *Server) listDevice(store Calibrations, device string, active map[string]string) ([]json.RawMessage, error) {
	cals, err := store.List(device)
	if err != nil && len(cals) == 0 {
		return nil, err
	}
	if err != nil {
		s.log.Warn("skip unreadable calibrations", "device", device, "err", err)
	}
	out := make([]json.RawMessage, 0, len(cals))
	for _, cal := range cals {
		j, err := s.calibrationJSON(cal, active[device] == cal.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (s *Server) allCalibrations(c echo.Context) error {
	store, err := s.calibrations(c)
	if err != nil {
		return err
	}
	devices, err := store.Devices()
	if err != nil {
		return internal("Could not read the calibrations.", err)
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active calibrations.", err)
	}
	out := map[string][]json.RawMessage{}
	for _, d := range devices {
		list, err := s.listDevice(store, d, active)
		if err != nil {
			s.log.Warn("read calibrations", "device", d, "err", err)
			continue
		}
		out[d] = list
	}
	cache(c, 10)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) activeCalibrations(c echo.Context) error {
	store, err := s.calibrations(c)
	if err != nil {
		return err
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active calibrations.", err)
	}
	out := map[string]json.RawMessage{}
	for device, name := range active {
		cal, err := store.Load(device, name)
		if err != nil {
			s.log.Warn("read active calibration", "device", device, "name", name, "err", err)
			continue
		}
		if out[device], err = s.calibrationJSON(cal, true); err != nil {
			return internal("Could not encode a calibration.", err)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deviceCalibrations(c echo.Context) error {
	store, err := s.calibrations(c)
	if err != nil {
		return err
	}
	device, err := pathComponent(c, "device")
	if err != nil {
		return err
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active calibrations.", err)
	}
	list, err := s.listDevice(store, device, active)
	if errors.Is(err, calibration.ErrNotFound) {
		return c.JSON(http.StatusOK, []json.RawMessage{})
	}
	if err != nil {
		return internal("Could not read the calibrations.", err)
	}
	return c.JSON(http.StatusOK, list)
}

// calibrationError maps the store's errors: not found 404, bad input 400, the rest 500.
// The store's messages name files; a 404 names only what was asked for.
func calibrationError(err error, what, device, name string) *Error {
	switch {
	case errors.Is(err, calibration.ErrNotFound):
		return httpError(http.StatusNotFound, "Calibration not found.",
			fmt.Sprintf("There is no calibration %q for device %q.", name, device), "List the calibrations with GET /unit_api/calibrations.")
	case errors.Is(err, calibration.ErrBadName), errors.Is(err, calibration.ErrInvalid):
		return httpError(http.StatusBadRequest, what, err.Error(), "")
	}
	return internal(what, err)
}

func (s *Server) oneCalibration(c echo.Context) error {
	store, device, name, err := s.calibrationTarget(c)
	if err != nil {
		return err
	}
	cal, err := store.Load(device, name)
	if err != nil {
		return calibrationError(err, "Could not read the calibration.", device, name)
	}
	active, err := store.ActiveNames()
	if err != nil {
		return internal("Could not read the active calibrations.", err)
	}
	j, err := s.calibrationJSON(cal, active[device] == name)
	if err != nil {
		return internal("Could not encode the calibration.", err)
	}
	return c.JSON(http.StatusOK, j)
}

type createCalibrationBody struct {
	CalibrationData string `json:"calibration_data" required:"true"`
	SetAsActive     bool   `json:"set_as_active"`
}

// createCalibration is POST /unit_api/calibrations/:device: validate the YAML, save it as
// <device>/<calibration_name>.yaml and, if asked, make it active (only once it is saved).
func (s *Server) createCalibration(c echo.Context) error {
	store, err := s.calibrations(c)
	if err != nil {
		return err
	}
	device, err := pathComponent(c, "device")
	if err != nil {
		return err
	}
	var b createCalibrationBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	cal, err := calibration.Parse([]byte(b.CalibrationData))
	if err != nil {
		return badCalibrationYAML(err)
	}
	path, err := store.Save(device, cal)
	if err != nil {
		return calibrationError(err, "Could not save the calibration.", device, cal.Name)
	}
	if b.SetAsActive {
		if err := store.SetActive(device, cal.Name); err != nil {
			return calibrationError(err, "Could not set the active calibration.", device, cal.Name)
		}
	}
	return c.JSON(http.StatusCreated, map[string]string{"msg": "Calibration created successfully.", "path": path})
}

func badCalibrationYAML(err error) *Error {
	return httpError(http.StatusBadRequest, "YAML data is not correct, or required calibration struct missing: "+err.Error(),
		err.Error(), "Check the calibration's fields against its calibration_type.")
}

func (s *Server) deleteCalibration(c echo.Context) error {
	store, device, name, err := s.calibrationTarget(c)
	if err != nil {
		return err
	}
	if err := store.Delete(device, name); err != nil {
		return calibrationError(err, "Could not delete the calibration.", device, name)
	}
	return c.JSON(http.StatusOK, map[string]string{"msg": fmt.Sprintf("Deleted calibration %s of %s.", name, device)})
}

func (s *Server) setActiveCalibration(c echo.Context) error {
	store, device, name, err := s.calibrationTarget(c)
	if err != nil {
		return err
	}
	if err := store.SetActive(device, name); err != nil {
		return calibrationError(err, "Could not set the active calibration.", device, name)
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

func (s *Server) clearActiveCalibration(c echo.Context) error {
	store, err := s.calibrations(c)
	if err != nil {
		return err
	}
	device, err := pathComponent(c, "device")
	if err != nil {
		return err
	}
	if err := store.ClearActive(device); err != nil {
		return calibrationError(err, "Could not clear the active calibration.", device, "")
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

// calibrationTarget is what the routes on one calibration start with: this unit's
// calibration store and the :device and :name of the path, checked.
func (s *Server) calibrationTarget(c echo.Context) (store Calibrations, device, name string, err error) {
	if store, err = s.calibrations(c); err != nil {
		return nil, "", "", err
	}
	if device, err = pathComponent(c, "device"); err != nil {
		return nil, "", "", err
	}
	name, err = pathComponent(c, "name")
	return store, device, name, err
}

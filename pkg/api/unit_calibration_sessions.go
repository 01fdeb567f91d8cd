package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/calibration/session"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// CalibrationSessions runs this unit's guided calibrations; *session.Manager implements it.
type CalibrationSessions interface {
	Protocols() []session.ProtocolInfo
	Start(device, protocol string) (session.View, error)
	Get(id string) (session.View, error)
	Input(ctx context.Context, id string, in map[string]any) (session.View, error)
	Abort(ctx context.Context, id string) (session.View, error)
}

var _ CalibrationSessions = (*session.Manager)(nil)

// sessionRoutes are the unit's guided calibration routes.
func (s *Server) sessionRoutes(g *echo.Group) {
	g.POST("/calibrations/sessions", s.startSession)
	g.GET("/calibrations/sessions/:id", s.getSession)
	g.POST("/calibrations/sessions/:id/inputs", s.sessionInputs)
	g.POST("/calibrations/sessions/:id/abort", s.abortSession)
}

type sessionStartBody struct {
	TargetDevice string `json:"target_device" required:"true"`
	ProtocolName string `json:"protocol_name" required:"true"`
}

type sessionInputsBody struct {
	Inputs rawObject `json:"inputs" required:"true"`
}

func sessionError(err error) error {
	switch {
	case errors.Is(err, session.ErrNotFound):
		return httpError(http.StatusNotFound, "Calibration session not found.", err.Error(), "Start a session with POST /unit_api/calibrations/sessions.")
	case errors.Is(err, session.ErrUnknownProtocol):
		return httpError(http.StatusBadRequest, "Unknown calibration protocol.", err.Error(), "GET /unit_api/calibration_protocols lists them.")
	case errors.Is(err, session.ErrBadInput):
		return httpError(http.StatusBadRequest, "Invalid inputs payload.", err.Error(), "Answer the fields of the session's current step.")
	case errors.Is(err, session.ErrClosed):
		return httpError(http.StatusBadRequest, "The calibration session is over.", err.Error(), "Start a new session.")
	}
	return internal("Calibration session failed.", err)
}

func (s *Server) startSession(c echo.Context) error {
	var b sessionStartBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	v, err := s.cfg.Sessions.Start(b.TargetDevice, b.ProtocolName)
	if err != nil {
		return sessionError(err)
	}
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) getSession(c echo.Context) error {
	v, err := s.cfg.Sessions.Get(param(c, "id"))
	if err != nil {
		return sessionError(err)
	}
	cache(c, 0)
	return c.JSON(http.StatusOK, v)
}

// sessionInputs may run hardware for minutes; the request's context bounds the wait, and a
// client that goes away aborts the step (the session records the failure).
func (s *Server) sessionInputs(c echo.Context) error {
	var b sessionInputsBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	var in map[string]any
	if err := json.Unmarshal(b.Inputs, &in); err != nil {
		return httpError(http.StatusBadRequest, "Invalid inputs payload.", err.Error(), `Send {"inputs": {field: value}}.`)
	}
	v, err := s.cfg.Sessions.Input(c.Request().Context(), param(c, "id"), in)
	if err != nil {
		return sessionError(err)
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) abortSession(c echo.Context) error {
	v, err := s.cfg.Sessions.Abort(c.Request().Context(), param(c, "id"))
	if err != nil {
		return sessionError(err)
	}
	return c.JSON(http.StatusOK, v)
}

// leaderSessionRoutes proxy a worker's session routes (never $broadcast: a session is a
// conversation with one unit).
func (s *Server) leaderSessionRoutes(g *echo.Group) {
	base := "/workers/:unit/calibrations/sessions"
	g.POST(base, s.proxySession(http.MethodPost, "", http.StatusCreated))
	g.GET(base+"/:id", s.proxySession(http.MethodGet, "", http.StatusOK))
	g.POST(base+"/:id/inputs", s.proxySession(http.MethodPost, "/inputs", http.StatusOK))
	g.POST(base+"/:id/abort", s.proxySession(http.MethodPost, "/abort", http.StatusOK))
}

// sessionStepTimeout bounds a proxied input: a step may run the hardware for minutes.
const sessionStepTimeout = 300 * time.Second

func (s *Server) proxySession(method, suffix string, ok int) echo.HandlerFunc {
	return func(c echo.Context) error {
		unit := param(c, "unit")
		if unit == contract.Broadcast {
			return httpError(http.StatusBadRequest, "A calibration session runs on one worker, not $broadcast.", "", "Name the worker.")
		}
		if _, err := s.resolveUnits(unit); err != nil {
			return err
		}
		path := "/unit_api/calibrations/sessions"
		if id := param(c, "id"); id != "" {
			path += "/" + url.PathEscape(id)
		}
		var body any
		if method == http.MethodPost {
			raw, err := io.ReadAll(c.Request().Body)
			if err != nil {
				return httpError(http.StatusBadRequest, "Could not read the request body.", err.Error(), "")
			}
			raw = bytes.TrimSpace(raw)
			if len(raw) == 0 {
				raw = []byte("{}")
			}
			var obj map[string]any
			if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
				return httpError(http.StatusBadRequest, "Missing JSON payload.", "The body must be a JSON object.", "")
			}
			body = json.RawMessage(raw) // the unit checks the fields
		}
		req := cluster.Request{Method: method, Path: path + suffix, Body: body, Timeout: sessionStepTimeout, SendTimeout: sessionStepTimeout}
		r := s.leader().Cluster.Call(c.Request().Context(), unit, req)
		if r.OK {
			return c.JSONBlob(ok, r.Value)
		}
		if r.Error != nil && r.Error.FromUnit() && r.StatusCode != nil {
			return httpError(*r.StatusCode, r.Error.Message, r.Error.Cause, r.Error.Remediation)
		}
		msg, cause := "The worker did not answer.", ""
		if r.Error != nil {
			msg, cause = r.Error.Message, r.Error.Cause
		}
		return httpError(http.StatusBadGateway, msg, cause, "Check that the worker runs pioreactord.")
	}
}

// calibrationProtocols is GET /unit_api/calibration_protocols: the guided protocols, or none.
func (s *Server) calibrationProtocols(c echo.Context) error {
	cache(c, 10)
	if s.cfg.Sessions == nil {
		return c.JSON(http.StatusOK, []any{})
	}
	return c.JSON(http.StatusOK, s.cfg.Sessions.Protocols())
}

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// capabilitiesTimeout is the route timeout of the capabilities fan-out (docs/http.md, "System and capabilities").
const capabilitiesTimeout = 15 * time.Second

func (s *Server) unitFanoutRoutes(g *echo.Group) {
	g.GET("/units/:unit/versions/app", s.fanoutGet("/unit_api/versions/app", 0))
	for _, p := range []string{"/units", "/workers"} {
		g.GET(p+"/:unit/capabilities", s.fanoutGet("/unit_api/capabilities", capabilitiesTimeout))
		g.POST(p+"/:unit/experiments/:exp/logs", s.postLog)
	}
	g.GET("/units/:unit/system/utc_clock", s.fanoutGet("/unit_api/system/utc_clock", 0))
	for _, action := range []string{"reboot", "shutdown"} {
		g.POST("/units/:unit/system/"+action, s.systemAction(action))
	}
	g.PATCH("/workers/:unit/bioreactor/update/experiments/:exp", s.updateBioreactor)
	g.POST("/relay", s.relay)
}

// fanoutGet is a GET task on one unit or, for $broadcast, on every unit (spec's `1/C`).
func (s *Server) fanoutGet(path string, timeout time.Duration) echo.HandlerFunc {
	return func(c echo.Context) error {
		units, err := s.resolveUnits(param(c, "unit"))
		if err != nil {
			return err
		}
		return s.queue(c, func(ctx context.Context) (any, error) {
			return s.leader().Cluster.Do(ctx, units, cluster.Request{Path: path, Timeout: timeout}), nil
		})
	}
}

// systemAction is POST /api/units/:unit/system/{reboot,shutdown}. A named leader goes last,
// after its workers, as pios does: it would take the fan-out down with it.
func (s *Server) systemAction(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		units, err := s.resolveUnits(param(c, "unit"))
		if err != nil {
			return err
		}
		leader := s.leaderName()
		if i := slices.Index(units, leader); i >= 0 && len(units) > 1 {
			units = append(slices.Delete(units, i, i+1), leader)
		}
		return s.queue(c, func(ctx context.Context) (any, error) {
			return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost,
				Path: "/unit_api/system/" + action, Timeout: 60 * time.Second}), nil
		})
	}
}

type manualLogBody struct {
	Message   string `json:"message" required:"true"`
	Source    string `json:"source" required:"true"`
	Level     string `json:"level" required:"true"`
	Timestamp string `json:"timestamp" required:"true"`
	Task      string `json:"task"`
	SourceSeg string `json:"source_"`
}

// manualLog is the payload of a manual log entry, keys in the original's order.
type manualLog struct {
	Message   string `json:"message"`
	Task      string `json:"task"`
	Source    string `json:"source"`
	Level     string `json:"level"`
	Timestamp string `json:"timestamp"`
}

var logLevels = []string{"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"}

// postLog is POST /api/workers/:unit/experiments/:exp/logs: the leader publishes the entry
// as the unit's (or, for $broadcast, each of exp's workers'); the ingester stores it.
func (s *Server) postLog(c echo.Context) error {
	unit, exp := param(c, "unit"), param(c, "exp")
	var b manualLogBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	level := strings.ToUpper(strings.TrimSpace(b.Level))
	if !slices.Contains(logLevels, level) {
		return httpError(http.StatusBadRequest, "Invalid log level: "+b.Level,
			"level must be one of "+strings.Join(logLevels, ", ")+".", "")
	}
	seg := b.SourceSeg
	if seg == "" {
		seg = "ui"
	}
	if !topicSegment(unit) || !topicSegment(exp) || !topicSegment(seg) {
		return badTopic(unit, exp, seg)
	}
	units := []string{unit}
	if unit == contract.Broadcast {
		ws, err := s.leader().Store.AssignedWorkers(exp)
		if err != nil {
			return internal("Could not read the assignments.", err)
		}
		units = unitNames(ws)
	} else if _, err := s.resolveUnits(unit); err != nil {
		return err
	}
	payload, _ := json.Marshal(manualLog{Message: strings.TrimSpace(b.Message), Task: b.Task, Source: b.Source,
		Level: level, Timestamp: b.Timestamp})
	for _, u := range units {
		if err := s.publish(c.Request().Context(), contract.LogTopic(u, exp, seg, level), payload, qosExactlyOnce, false); err != nil {
			return httpError(http.StatusBadGateway, "Could not publish the log entry.", err.Error(),
				"Check that the MQTT broker is running, then retry.")
		}
	}
	return c.JSON(http.StatusAccepted, Status{"accepted"})
}

type bioreactorBody struct {
	Values map[string]float64 `json:"values" required:"true"`
}

// updateBioreactor is PATCH /api/workers/:unit/bioreactor/update/experiments/:exp: the
// unit (or exp's workers) validate, store and announce the new vessel variables.
func (s *Server) updateBioreactor(c echo.Context) error {
	unit, exp := param(c, "unit"), param(c, "exp")
	var b bioreactorBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if len(b.Values) == 0 {
		return httpError(http.StatusBadRequest, "No bioreactor values given.", "values is empty.",
			`Send {"values": {"current_volume_ml": 12.5}}.`)
	}
	if err := checkBioreactorNames(b.Values); err != nil {
		return err
	}
	var units []string
	if unit == contract.Broadcast {
		ws, err := s.targets(unit, exp, false)
		if err != nil {
			return err
		}
		units = unitNames(ws)
	} else {
		if _, err := s.mustWorker(unit); err != nil {
			return err
		}
		units = []string{unit}
	}
	if !topicSegment(exp) {
		return badTopic(exp)
	}
	body := map[string]any{"values": b.Values}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPatch,
			Path: "/unit_api/bioreactor/experiments/" + exp, Body: body}), nil
	})
}

type relayBody struct {
	Units   []string        `json:"units" required:"true"`
	Method  string          `json:"method"`
	Path    string          `json:"path" required:"true"`
	Body    json.RawMessage `json:"body"`
	Timeout float64         `json:"timeout_s"`
	Raw     bool            `json:"raw"`
}

// relay is POST /api/relay (an extension, docs/api.md): the leader calls a /unit_api route on
// the named units for a client that cannot reach them itself (pios, `pio --unit`), in a task
// whose result is the fan-out envelope. Units must be in the inventory (or be the leader);
// `$broadcast` means every unit.
func (s *Server) relay(c echo.Context) error {
	var b relayBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	method := strings.ToUpper(b.Method)
	if method == "" {
		method = http.MethodGet
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return httpError(http.StatusBadRequest, "Invalid method: "+b.Method, "method must be GET, POST, PATCH, PUT or DELETE.", "")
	}
	if !strings.HasPrefix(b.Path, "/unit_api/") || strings.Contains(b.Path, "..") || strings.ContainsAny(b.Path, "?#\\") {
		return httpError(http.StatusBadRequest, "Invalid relay path: "+b.Path,
			"Only /unit_api/ routes can be relayed, without '..', query or fragment.", "")
	}
	timeout, err := clock.Range(b.Timeout, time.Second, 0, 300*time.Second)
	if err != nil {
		return httpError(http.StatusBadRequest, "Invalid timeout_s", fmt.Sprintf("timeout_s must be within 0–300, got %g.", b.Timeout), "")
	}
	var units []string
	for _, u := range b.Units {
		us, err := s.resolveUnits(u)
		if err != nil {
			return err
		}
		units = append(units, us...)
	}
	r := cluster.Request{Method: method, Path: b.Path, Timeout: timeout, Raw: b.Raw}
	if len(b.Body) > 0 && string(b.Body) != "null" {
		r.Body = b.Body
	}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, r), nil
	})
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// targets selects the workers a job route acts on (docs/http.md, "Run requests"): for
// `$experiment` every worker, otherwise those assigned to exp; all of them for
// `$broadcast`, else the named one; only active ones when activeOnly. None is a 404.
func (s *Server) targets(unit, exp string, activeOnly bool) ([]store.Worker, error) {
	var ws []store.Worker
	var err error
	if exp == contract.UniversalExp {
		ws, err = s.leader().Store.Workers()
	} else {
		ws, err = s.leader().Store.AssignedWorkers(exp)
	}
	if err != nil {
		return nil, internal("Could not read the inventory.", err)
	}
	var out []store.Worker
	for _, w := range ws {
		if (unit == contract.Broadcast || w.Unit == unit) && (w.IsActive || !activeOnly) {
			out = append(out, w)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	msg := fmt.Sprintf("Worker(s) %s not found, not active, or not assigned to experiment %s.", unit, exp)
	if exp == contract.UniversalExp {
		msg = fmt.Sprintf("Worker(s) %s not found or not active.", unit)
	}
	return nil, httpError(http.StatusNotFound, msg, "", "Check the inventory and the experiment's assigned workers.")
}

func unitNames(ws []store.Worker) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Unit
	}
	return out
}

// leaderRunJob is PATCH|POST /api/workers/:unit/jobs/run/job_name/:job/experiments/:exp:
// pick the workers, give each its env, and fan the start out in a task.
func (s *Server) leaderRunJob(c echo.Context) error {
	unit, job, exp := param(c, "unit"), param(c, "job"), param(c, "exp")
	req, err := decodeRunRequest(c)
	if err != nil {
		return err
	}
	if err := checkExperimentUse(exp); err != nil {
		return err
	}
	// A name that is in no inventory is a client error (400); a known worker that is inactive
	// or not in the experiment is "not found" (404), as docs/http.md, "Run requests" says.
	if _, err := s.resolveUnits(unit); err != nil {
		return err
	}
	ws, err := s.targets(unit, exp, true)
	if err != nil {
		return err
	}
	req = normalise(req)
	testing := "0"
	if s.leader().Testing {
		testing = "1"
	}
	bodies := make(map[string]any, len(ws))
	for _, w := range ws {
		r := req
		r.Env = make(map[string]string, len(req.Env)+6)
		for k, v := range req.Env {
			r.Env[k] = v
		}
		r.Env["EXPERIMENT"], r.Env["HOSTNAME"], r.Env["ACTIVE"], r.Env["TESTING"] = exp, w.Unit, "1", testing
		if w.ModelName != "" && w.ModelVersion != "" {
			r.Env["MODEL_NAME"], r.Env["MODEL_VERSION"] = w.ModelName, w.ModelVersion
		}
		bodies[w.Unit] = r
	}
	units := unitNames(ws)
	path := "/unit_api/jobs/run/job_name/" + url.PathEscape(job)
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: path, Bodies: bodies}), nil
	})
}

// leaderStopJob is PATCH|POST /api/workers/:unit/jobs/stop/job_name/:job/experiments/:exp:
// the job hears $state/set over MQTT. If the broker is unreachable the workers are asked
// over HTTP instead, in a task.
func (s *Server) leaderStopJob(c echo.Context) error {
	unit, job, exp := param(c, "unit"), param(c, "job"), param(c, "exp")
	if !topicSegment(unit) || !topicSegment(job) || !topicSegment(exp) {
		return badTopic(unit, exp, job)
	}
	topic := contract.SetTopic(unit, exp, job, contract.StateAttr)
	err := s.publish(c.Request().Context(), topic, []byte("disconnected"), qosAtLeastOnce, false)
	if err == nil {
		return c.JSON(http.StatusAccepted, Status{"accepted"})
	}
	s.log.Warn("stop job over mqtt failed, falling back to http", "unit", unit, "job", job, "err", err)
	units := []string{unit}
	if unit == contract.Broadcast {
		ws, err := s.leader().Store.AssignedWorkers(exp)
		if err != nil {
			return internal("Could not read the assignments.", err)
		}
		units = unitNames(ws)
	}
	body := map[string]string{"job_name": job, "experiment": exp}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: "/unit_api/jobs/stop", Body: body}), nil
	})
}

func badTopic(parts ...string) *Error {
	return httpError(http.StatusBadRequest, "Invalid unit, experiment or job name.",
		fmt.Sprintf("%q cannot be used in an MQTT topic.", parts), "Remove '/', '+' and '#' from the names.")
}

// leaderStopExperiment is PATCH|POST /api/workers/:unit/jobs/stop/experiments/:exp: every
// job of exp on the unit (or on every unit), fire-and-forget.
func (s *Server) leaderStopExperiment(c echo.Context) error {
	unit, exp := param(c, "unit"), param(c, "exp")
	units, err := s.resolveUnits(unit)
	if err != nil {
		return err
	}
	for _, u := range units {
		s.stopOn(u, map[string]string{"experiment": exp})
	}
	return c.JSON(http.StatusAccepted, Status{"success"})
}

type updateBody struct {
	Settings rawObject `json:"settings" required:"true"`
}

// leaderUpdateJob is PATCH /api/workers/:unit/jobs/update/job_name/:job/experiments/:exp:
// one /set publish per setting, in the body's order (pause then resume must stay so).
func (s *Server) leaderUpdateJob(c echo.Context) error {
	unit, job, exp := param(c, "unit"), param(c, "job"), param(c, "exp")
	var b updateBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if !topicSegment(unit) || !topicSegment(job) || !topicSegment(exp) {
		return badTopic(unit, exp, job)
	}
	settings, err := b.Settings.members()
	if err != nil {
		return httpError(http.StatusBadRequest, "Invalid request body.", err.Error(), "Send {\"settings\": {name: value}}.")
	}
	for _, m := range settings {
		if !topicSegment(m.key) {
			return httpError(http.StatusBadRequest, "Invalid setting name: "+m.key,
				"Setting names cannot be empty or contain '/', '+' or '#'.", "")
		}
	}
	for _, m := range settings {
		payload, err := settingText(m.raw)
		if err != nil {
			return httpError(http.StatusBadRequest, "Invalid request body.", err.Error(), "")
		}
		topic := contract.SetTopic(unit, exp, job, m.key)
		if err := s.publish(c.Request().Context(), topic, payload, qosAtLeastOnce, false); err != nil {
			s.log.Warn("publish setting", "topic", topic, "err", err)
			return httpError(http.StatusBadRequest, "Could not send the setting to the job.", err.Error(),
				"Check that the MQTT broker is running, then retry.")
		}
	}
	return c.JSON(http.StatusAccepted, Status{"accepted"})
}

// leaderRunningJobs is GET /api/workers/:unit/jobs/running, a task fanning out to the unit
// or, for $broadcast, to every unit including the leader.
func (s *Server) leaderRunningJobs(c echo.Context) error {
	units, err := s.resolveUnits(param(c, "unit"))
	if err != nil {
		return err
	}
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Path: "/unit_api/jobs/running"}), nil
	})
}

// leaderJobSettings is GET /api/workers/:unit/jobs/settings/job_name/:job[/setting/:setting]
// /experiments/:exp, a task fanning out to the unit, or to exp's workers for $broadcast.
func (s *Server) leaderJobSettings(c echo.Context) error {
	unit, job, exp, setting := param(c, "unit"), param(c, "job"), param(c, "exp"), param(c, "setting")
	ws, err := s.targets(unit, exp, false)
	if err != nil {
		return err
	}
	path := "/unit_api/jobs/settings/job_name/" + url.PathEscape(job)
	if setting != "" {
		path += "/setting/" + url.PathEscape(setting)
	}
	units := unitNames(ws)
	return s.queue(c, func(ctx context.Context) (any, error) {
		return s.leader().Cluster.Do(ctx, units, cluster.Request{Path: path}), nil
	})
}

package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Experiment is the experiment object of docs/http.md, "Experiments".
type Experiment struct {
	Experiment  string   `json:"experiment"`
	CreatedAt   string   `json:"created_at"`
	Description string   `json:"description"`
	DeltaHours  int64    `json:"delta_hours"`
	WorkerCount int      `json:"worker_count"`
	Tags        []string `json:"tags"`
}

// experimentViews renders experiments with their worker counts and age.
func (s *Server) experimentViews(es ...store.Experiment) ([]Experiment, error) {
	as, err := s.leader().Store.Assignments()
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, a := range as {
		count[a.Experiment]++
	}
	now := s.now()
	out := make([]Experiment, len(es))
	for i, e := range es {
		tags := e.Tags
		if tags == nil {
			tags = []string{}
		}
		out[i] = Experiment{Experiment: e.Name, CreatedAt: contract.FormatTime(e.CreatedAt),
			Description: e.Description, DeltaHours: int64(now.Sub(e.CreatedAt) / time.Hour),
			WorkerCount: count[e.Name], Tags: tags}
	}
	return out, nil
}

func (s *Server) listExperiments(c echo.Context) error {
	es, err := s.leader().Store.Experiments()
	if err != nil {
		return internal("Could not read the experiments.", err)
	}
	out, err := s.experimentViews(es...)
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	cache(c, 5)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) latestExperiment(c echo.Context) error {
	cache(c, 2)
	e, err := s.leader().Store.LatestExperiment()
	if errors.Is(err, store.ErrNotFound) {
		return c.JSON(http.StatusOK, nil)
	}
	if err != nil {
		return internal("Could not read the experiments.", err)
	}
	return s.oneExperiment(c, http.StatusOK, e)
}

func (s *Server) getExperiment(c echo.Context) error {
	exp := param(c, "exp")
	e, err := s.leader().Store.Experiment(exp)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Experiment not found", exp+" does not exist.", "")
	}
	if err != nil {
		return internal("Could not read the experiment.", err)
	}
	return s.oneExperiment(c, http.StatusOK, e)
}

func (s *Server) oneExperiment(c echo.Context, status int, e store.Experiment) error {
	out, err := s.experimentViews(e)
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	return c.JSON(status, out[0])
}

// createExperimentBody tolerates the read-only fields a client may echo back; they are ignored.
type createExperimentBody struct {
	Experiment  string          `json:"experiment" required:"true"`
	Description *string         `json:"description"`
	Tags        json.RawMessage `json:"tags"`
	CreatedAt   any             `json:"created_at"`
	DeltaHours  any             `json:"delta_hours"`
	WorkerCount any             `json:"worker_count"`
}

// createExperiment is POST /api/experiments.
func (s *Server) createExperiment(c echo.Context) error {
	var b createExperimentBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if err := checkExperimentName(b.Experiment); err != nil {
		return err
	}
	tags, err := parseTags(b.Tags)
	if err != nil {
		return err
	}
	e := store.Experiment{Name: b.Experiment, CreatedAt: s.now(), Tags: tags}
	if b.Description != nil {
		e.Description = *b.Description
	}
	err = s.leader().Store.CreateExperiment(e)
	if errors.Is(err, store.ErrExists) {
		return httpError(http.StatusConflict, "Experiment already exists",
			b.Experiment+" is already an experiment.", "Choose a different experiment name.")
	}
	if err != nil {
		return internal("Could not create the experiment.", err)
	}
	s.logTo(c.Request().Context(), e.Name, "experiment", "New experiment created: "+e.Name)
	if stored, err := s.leader().Store.Experiment(e.Name); err == nil {
		e = stored // the store's normalised tags and millisecond time
	}
	return s.oneExperiment(c, http.StatusCreated, e)
}

// parseTags checks and normalises a tags member (docs/http.md, "Experiments"): a list of strings,
// trimmed, blanks dropped, de-duplicated case-insensitively keeping the first spelling.
// Its own messages, rather than "Invalid request body.", are the original's.
func parseTags(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return []string{}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, httpError(http.StatusBadRequest, "Invalid tags payload", "tags must be a list of strings.",
			`Send tags as a JSON array of strings, e.g. ["media: LB"].`)
	}
	out := []string{}
	seen := map[string]bool{}
	for _, it := range items {
		var t string
		if err := json.Unmarshal(it, &t); err != nil {
			return nil, httpError(http.StatusBadRequest, "Invalid tag value", "Every tag must be a string; got "+string(it)+".",
				"Send tags as a JSON array of strings.")
		}
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out, nil
}

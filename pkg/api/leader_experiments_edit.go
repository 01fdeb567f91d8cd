package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/store"
)

func (s *Server) experimentEditRoutes(g *echo.Group) {
	g.GET("/experiments/active", s.activeExperiments)
	g.GET("/experiments/assignment_count", s.assignmentCount)
	g.PATCH("/experiments/:exp", s.updateExperiment)
	g.DELETE("/experiments/:exp", s.deleteExperiment)
	g.GET("/experiments/:exp/unit_labels", s.unitLabels)
	g.PUT("/experiments/:exp/unit_labels", s.setUnitLabel)
	g.PATCH("/experiments/:exp/unit_labels", s.setUnitLabel)
}

// optString is an optional JSON string member that may be null: set tells "absent" from
// "null", which PATCH bodies need.
type optString struct {
	set   bool
	value *string
}

var stringType = reflect.TypeFor[string]()

func (o *optString) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: firstKind(b), Type: stringType}
	}
	o.value = &s
	return nil
}

type updateExperimentBody struct {
	Description optString       `json:"description"`
	Tags        json.RawMessage `json:"tags"`
}

// updateExperiment is PATCH /api/experiments/:exp: a new description (null is "") and/or
// a whole new tag set.
func (s *Server) updateExperiment(c echo.Context) error {
	exp := param(c, "exp")
	var b updateExperimentBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	hasTags := len(b.Tags) > 0 && string(b.Tags) != "null"
	if !b.Description.set && !hasTags {
		return httpError(http.StatusBadRequest, "Missing description or tags",
			"The body has neither description nor tags.", `Send {"description": "..."} and/or {"tags": [...]}.`)
	}
	var desc *string
	if b.Description.set {
		d := ""
		if b.Description.value != nil {
			d = *b.Description.value
		}
		desc = &d
	}
	var tags *[]string
	if hasTags {
		t, err := parseTags(b.Tags)
		if err != nil {
			return err
		}
		tags = &t
	}
	e, err := s.leader().Store.UpdateExperiment(exp, desc, tags)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Experiment not found", exp+" does not exist.", "")
	}
	if err != nil {
		return internal("Could not update the experiment.", err)
	}
	return s.oneExperiment(c, http.StatusOK, e)
}

// SpaceReporter is optionally implemented by the LeaderStore: the database's size, reported
// by DELETE /api/experiments/<exp> as database_space.
type SpaceReporter interface {
	DatabaseSpace() (any, error)
}

// DeletedExperiment is the result of the DELETE /api/experiments/<exp> task.
type DeletedExperiment struct {
	Result        bool   `json:"result"`
	Experiment    string `json:"experiment"`
	DatabaseSpace any    `json:"database_space,omitempty"`
	Msg           string `json:"msg"`
}

// deleteExperiment is DELETE /api/experiments/:exp: stop its jobs on every unit, then
// delete it with everything recorded in it, in a task. Its workers hear they are free.
func (s *Server) deleteExperiment(c echo.Context) error {
	exp := param(c, "exp")
	if _, err := s.leader().Store.Experiment(exp); errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "Experiment not found", exp+" does not exist.", "")
	} else if err != nil {
		return internal("Could not read the experiment.", err)
	}
	units, err := s.units()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	return s.queue(c, func(ctx context.Context) (any, error) {
		// Awaited (bounded by the fan-out's timeouts) so no job still writes into exp once it
		// is gone; a unit that does not answer does not stop the deletion.
		stop := s.leader().Cluster.Do(ctx, units, cluster.Request{Method: http.MethodPost, Path: "/unit_api/jobs/stop",
			Body: map[string]string{"experiment": exp}})
		for _, r := range stop {
			if !r.OK {
				s.log.Warn("stop jobs of deleted experiment", "unit", r.Unit, "experiment", exp, "err", r.Error.Message)
			}
		}
		assigned, err := s.leader().Store.AssignedWorkers(exp)
		if err != nil {
			return nil, err
		}
		if err := s.leader().Store.DeleteExperiment(exp); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		for _, w := range assigned {
			s.announceAssignment(ctx, w.Unit, nil, s.now())
		}
		out := DeletedExperiment{Result: true, Experiment: exp, Msg: "Deleted experiment"}
		if sr, ok := s.leader().Store.(SpaceReporter); ok {
			if space, err := sr.DatabaseSpace(); err == nil {
				out.DatabaseSpace = space
			}
		}
		return out, nil
	})
}

// activeExperiments is GET /api/experiments/active: those with at least one active worker.
func (s *Server) activeExperiments(c echo.Context) error {
	es, err := s.leader().Store.Experiments()
	if err != nil {
		return internal("Could not read the experiments.", err)
	}
	active := map[string]bool{}
	ws, err := s.leader().Store.Workers()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	as, err := s.leader().Store.Assignments()
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	for _, a := range as {
		if i := slices.IndexFunc(ws, func(w store.Worker) bool { return w.Unit == a.Unit }); i >= 0 && ws[i].IsActive {
			active[a.Experiment] = true
		}
	}
	es = slices.DeleteFunc(es, func(e store.Experiment) bool { return !active[e.Name] })
	out, err := s.experimentViews(es...)
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	cache(c, 2)
	return c.JSON(http.StatusOK, out)
}

// AssignmentCount is an entry of GET /api/experiments/assignment_count.
type AssignmentCount struct {
	Experiment  string `json:"experiment"`
	WorkerCount int    `json:"worker_count"`
}

func (s *Server) assignmentCount(c echo.Context) error {
	as, err := s.leader().Store.Assignments()
	if err != nil {
		return internal("Could not read the assignments.", err)
	}
	counts := map[string]int{}
	for _, a := range as {
		counts[a.Experiment]++
	}
	out := []AssignmentCount{}
	for exp, n := range counts {
		out = append(out, AssignmentCount{exp, n})
	}
	slices.SortFunc(out, func(a, b AssignmentCount) int { return strings.Compare(a.Experiment, b.Experiment) })
	cache(c, 3)
	return c.JSON(http.StatusOK, out)
}

// labelExperiment maps the `current` alias to the latest experiment ("" when none).
func (s *Server) labelExperiment(exp string) (string, error) {
	if exp != "current" {
		return exp, nil
	}
	e, err := s.leader().Store.LatestExperiment()
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", internal("Could not read the experiments.", err)
	}
	return e.Name, nil
}

func (s *Server) unitLabels(c echo.Context) error {
	exp, err := s.labelExperiment(param(c, "exp"))
	if err != nil {
		return err
	}
	labels := map[string]string{}
	if exp != "" {
		if labels, err = s.leader().Store.UnitLabels(exp); err != nil {
			return internal("Could not read the unit labels.", err)
		}
	}
	cache(c, 10)
	return c.JSON(http.StatusOK, labels)
}

type unitLabelBody struct {
	Unit  string `json:"unit" required:"true"`
	Label string `json:"label" required:"true"`
}

// setUnitLabel is PUT|PATCH /api/experiments/:exp/unit_labels; an empty label removes it.
func (s *Server) setUnitLabel(c echo.Context) error {
	var b unitLabelBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	exp, err := s.labelExperiment(param(c, "exp"))
	if err != nil {
		return err
	}
	if !validName(b.Unit) {
		return httpError(http.StatusBadRequest, "Invalid unit name: "+b.Unit,
			"Unit names use letters, digits, '_' and '-'.", "Use the unit's hostname.")
	}
	err = s.leader().Store.SetUnitLabel(exp, b.Unit, strings.TrimSpace(b.Label))
	if errors.Is(err, store.ErrUnknownExperiment) || exp == "" {
		return httpError(http.StatusBadRequest, "Experiment not found", param(c, "exp")+" does not exist.",
			"Create the experiment first.")
	}
	if err != nil {
		return internal("Could not set the label.", err)
	}
	return c.JSON(http.StatusCreated, Status{"success"})
}

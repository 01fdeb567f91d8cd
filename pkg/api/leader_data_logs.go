package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// LogLine is one row of the log routes (docs/http.md, "Logs").
type LogLine struct {
	Timestamp      string `json:"timestamp"`
	Level          string `json:"level"`
	PioreactorUnit string `json:"pioreactor_unit"`
	Message        string `json:"message"`
	Task           string `json:"task"`
	Experiment     string `json:"experiment"`
}

const (
	logPage   = 100 // rows of a paged log route
	logRecent = 50  // rows of a recent_logs route
	// logGrace pads the end of an assignment interval: lines a job logs while stopping
	// still belong to the experiment.
	logGrace = 5 * time.Second
)

// minLevels maps min_level to the levels it selects; CRITICAL is never returned.
var minLevels = map[string][]string{
	"DEBUG":   {"ERROR", "WARNING", "NOTICE", "INFO", "DEBUG"},
	"INFO":    {"ERROR", "WARNING", "NOTICE", "INFO"},
	"NOTICE":  {"ERROR", "WARNING", "NOTICE"},
	"WARNING": {"ERROR", "WARNING"},
	"ERROR":   {"ERROR"},
}

// levels reads min_level (default and unknown: INFO).
func levels(c echo.Context) []string {
	if l, ok := minLevels[strings.ToUpper(c.QueryParam("min_level"))]; ok {
		return l
	}
	return minLevels["INFO"]
}

// page reads skip (default 0) for a paged route.
func page(c echo.Context) (int, error) {
	v := c.QueryParam("skip")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, httpError(http.StatusBadRequest, "skip must be a non-negative integer",
			"skip="+v+" is not a non-negative integer.", "Send skip=0, 100, 200, ...")
	}
	return n, nil
}

// logs answers a log route.
func (d *dataAPI) logs(c echo.Context, q store.LogQuery, paged bool) error {
	q.Levels = levels(c)
	q.Limit = logRecent
	if paged {
		skip, err := page(c)
		if err != nil {
			return err
		}
		q.Skip, q.Limit = skip, logPage
	}
	rows, err := d.db.Logs(q)
	if err != nil {
		return internal("Could not read the logs.", err)
	}
	out := make([]LogLine, len(rows))
	for i, r := range rows {
		out[i] = LogLine{Timestamp: contract.FormatTime(r.Timestamp), Level: r.Level, PioreactorUnit: r.Unit,
			Message: r.Message, Task: r.Task, Experiment: r.Experiment}
	}
	return c.JSON(http.StatusOK, out)
}

func (d *dataAPI) allLogs(c echo.Context) error { return d.logs(c, store.LogQuery{}, true) }

func (d *dataAPI) experimentLogs(c echo.Context) error {
	return d.logs(c, store.LogQuery{Experiments: []string{param(c, "exp")}}, true)
}

// recentSince is the start of the recent_logs window: 24 h ago, or the experiment's
// creation if later.
func (d *dataAPI) recentSince(exp string) time.Time {
	since := d.s.now().Add(-24 * time.Hour)
	if e, err := d.s.leader().Store.Experiment(exp); err == nil && e.CreatedAt.After(since) {
		since = e.CreatedAt
	}
	return since
}

func (d *dataAPI) recentLogs(c echo.Context) error {
	exp := param(c, "exp")
	return d.logs(c, store.LogQuery{Experiments: []string{exp}, After: d.recentSince(exp)}, false)
}

func (d *dataAPI) workerRecentLogs(c echo.Context) error {
	exp := param(c, "exp")
	return d.logs(c, store.LogQuery{Experiments: []string{exp, contract.UniversalExp},
		Units: []string{param(c, "unit"), contract.Broadcast}, After: d.recentSince(exp)}, false)
}

// workerLogs is a unit's lines in an experiment while it was assigned to it.
func (d *dataAPI) workerLogs(c echo.Context) error {
	unit, exp := param(c, "unit"), param(c, "exp")
	history, err := d.db.AssignmentHistory(unit, exp)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return internal("Could not read the assignment history.", err)
	}
	now := d.s.now()
	var windows []store.Window
	for _, iv := range history {
		end := now
		if !iv.Current() {
			end = iv.UnassignedAt.Add(logGrace)
		}
		windows = append(windows, store.Window{From: iv.AssignedAt, To: end})
	}
	if len(windows) == 0 {
		return c.JSON(http.StatusOK, []LogLine{})
	}
	return d.logs(c, store.LogQuery{Experiments: []string{exp}, Units: []string{unit, contract.Broadcast},
		Windows: windows}, true)
}

func (d *dataAPI) systemLogs(c echo.Context) error {
	return d.logs(c, store.LogQuery{Experiments: []string{contract.UniversalExp},
		Units: []string{param(c, "unit"), contract.Broadcast}}, true)
}

func (d *dataAPI) unitLogs(c echo.Context) error {
	return d.logs(c, store.LogQuery{Units: []string{param(c, "unit"), contract.Broadcast}}, true)
}

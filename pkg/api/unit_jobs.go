package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// runJob is PATCH|POST /unit_api/jobs/run/job_name/:job (docs/http.md, "Run requests").
func (s *Server) runJob(c echo.Context) error {
	job := param(c, "job")
	req, err := decodeRunRequest(c)
	if err != nil {
		return err
	}
	if l, ok := s.cfg.Unit.(JobLister); ok && !slices.Contains(l.Jobs(), job) {
		return httpError(http.StatusNotFound, "Unknown job: "+job,
			fmt.Sprintf("No job named %q is installed on %s.", job, s.cfg.Unit.Name()), "Check the job name.")
	}
	if exp, ok := filterEnv(req.Env)["EXPERIMENT"]; ok {
		// The experiment names the job's topics and MQTT client id: a NUL here used to
		// leave the job unable to connect, and unstoppable.
		if err := checkExperimentUse(exp); err != nil {
			return err
		}
	}
	if !s.debounce.allow(job, s.now()) {
		return httpError(http.StatusTooManyRequests, "Too many requests, please try again later.",
			fmt.Sprintf("%s was asked to start less than a second ago.", job), "Wait a second, then retry.")
	}
	req = normalise(req)
	req.Env = filterEnv(req.Env)
	return s.queue(c, func(ctx context.Context) (any, error) {
		if err := s.cfg.Unit.Run(ctx, job, req); err != nil {
			return nil, err
		}
		return map[string]bool{"ok": true}, nil
	})
}

// normalise gives the run body's absent fields their defaults ([], {}, {}, []), which is
// also what a unit receives from the leader.
func normalise(r contract.RunRequest) contract.RunRequest {
	if r.Args == nil {
		r.Args = []string{}
	}
	if r.Options == nil {
		r.Options = map[string]any{}
	}
	if r.Env == nil {
		r.Env = map[string]string{}
	}
	if r.ConfigOverrides == nil {
		r.ConfigOverrides = [][3]string{}
	}
	return r
}

// filterEnv keeps the allow-listed keys with a real value; "None" is how a Python caller
// spells a missing value.
func filterEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for _, k := range contract.AllowedEnv {
		if v, ok := env[k]; ok && v != "" && v != "None" {
			out[k] = v
		}
	}
	return out
}

// stopJobs is PATCH|POST /unit_api/jobs/stop with a JSON filter.
func (s *Server) stopJobs(c echo.Context) error {
	var f contract.StopFilter
	if err := decodeBody(c, &f, decodeOpts{emptyOK: true}); err != nil {
		return err
	}
	if f.Empty() {
		return httpError(http.StatusBadRequest, "No job filter specified",
			"The body has none of job_name, experiment, job_source, job_id.",
			"Send at least one filter, or use /unit_api/jobs/stop/all.")
	}
	return s.queueStop(c, f)
}

// stopAllJobs is PATCH|POST /unit_api/jobs/stop/all: every job that is not long-running.
func (s *Server) stopAllJobs(c echo.Context) error {
	return s.queueStop(c, contract.StopFilter{All: true})
}

// queueStop answers 202 with a task whose result is true, or false when stopping failed,
// as the original's kill task does; the count and the error go to the log.
func (s *Server) queueStop(c echo.Context, f contract.StopFilter) error {
	return s.queue(c, func(ctx context.Context) (any, error) {
		n, err := s.cfg.Unit.Stop(ctx, f)
		if err != nil {
			s.log.Warn("stop jobs", "filter", f, "err", err)
			return false, nil
		}
		s.log.Info("stopped jobs", "filter", f, "count", n)
		return true, nil
	})
}

// JobHistoryRow is one entry of GET /unit_api/jobs.
type JobHistoryRow struct {
	JobID      int64   `json:"job_id"`
	JobName    string  `json:"job_name"`
	Experiment string  `json:"experiment"`
	JobSource  string  `json:"job_source"`
	Unit       string  `json:"unit"`
	StartedAt  string  `json:"started_at"`
	EndedAt    *string `json:"ended_at"`
}

func (s *Server) jobHistory(c echo.Context) error {
	rows, err := s.cfg.Unit.History()
	if err != nil {
		return internal("Could not read the job history.", err)
	}
	slices.SortStableFunc(rows, func(a, b contract.JobRow) int { return cmp.Compare(b.JobID, a.JobID) })
	out := make([]JobHistoryRow, len(rows))
	for i, r := range rows {
		out[i] = JobHistoryRow{r.JobID, r.JobName, r.Experiment, r.JobSource, r.Unit, r.StartedAt, r.EndedAt}
	}
	return c.JSON(http.StatusOK, out)
}

// runningJobs serves /jobs/running, optionally filtered by the :exp or :job parameter.
func (s *Server) runningJobs(c echo.Context) error {
	rows, err := s.cfg.Unit.Running()
	if err != nil {
		return internal("Could not read the running jobs.", err)
	}
	exp, job := param(c, "exp"), param(c, "job")
	out := make([]contract.JobRow, 0, len(rows))
	for _, r := range rows {
		if (exp == "" || r.Experiment == exp) && (job == "" || r.JobName == job) {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) settingsOf(job string) (map[string]any, error) {
	settings, err := s.cfg.Unit.Settings(job)
	if errors.Is(err, ErrNoSuchJob) {
		return nil, nil
	}
	if err != nil {
		return nil, internal("Could not read the job's settings.", err)
	}
	return settings, nil
}

func (s *Server) jobSettings(c echo.Context) error {
	settings, err := s.settingsOf(param(c, "job"))
	if err != nil {
		return err
	}
	if settings == nil {
		return httpError(http.StatusNotFound, "No settings found for job.",
			fmt.Sprintf("%s is not running on %s.", param(c, "job"), s.cfg.Unit.Name()), "")
	}
	return c.JSON(http.StatusOK, map[string]any{"settings": settings})
}

func (s *Server) jobSetting(c echo.Context) error {
	job, name := param(c, "job"), param(c, "setting")
	settings, err := s.settingsOf(job)
	if err != nil {
		return err
	}
	v, ok := settings[name]
	if !ok {
		return httpError(http.StatusNotFound, "Setting not found.",
			fmt.Sprintf("%s has no setting %s on %s, or is not running.", job, name, s.cfg.Unit.Name()), "")
	}
	return c.JSON(http.StatusOK, map[string]any{name: v})
}

// debouncer refuses a second start of the same job within a window: a double click in the
// dashboard must not race two starts.
type debouncer struct {
	window time.Duration
	mu     sync.Mutex
	last   map[string]time.Time
}

func newDebouncer(window time.Duration) *debouncer {
	return &debouncer{window: window, last: map[string]time.Time{}}
}

func (d *debouncer) allow(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.last[key]; ok && now.Sub(t) < d.window && !now.Before(t) {
		return false
	}
	d.last[key] = now
	if len(d.last) > 256 { // forget expired keys so arbitrary job names cannot grow the map
		for k, t := range d.last {
			if now.Sub(t) >= d.window {
				delete(d.last, k)
			}
		}
	}
	return true
}

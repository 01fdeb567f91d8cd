package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Unit is this daemon's job supervisor as the unit routes see it.
type Unit interface {
	// Name is the unit's hostname, reported in health and task answers.
	Name() string
	// Run starts a job and returns once it is ready, has failed, or a startup grace period
	// elapsed (nil). ctx bounds only that wait, never the job. Errors wrap ErrUnknownJob or
	// ErrAlreadyRunning where they apply; the run task fails with the error's text.
	Run(ctx context.Context, job string, req contract.RunRequest) error
	// Stop stops the running jobs the filter selects and returns how many.
	Stop(ctx context.Context, f contract.StopFilter) (int, error)
	// Running lists the running jobs; History every job, running or not.
	Running() ([]contract.JobRow, error)
	History() ([]contract.JobRow, error)
	// Settings is the current settings of a running job; an error wrapping ErrNoSuchJob
	// when no job of that name runs.
	Settings(job string) (map[string]any, error)
}

// JobLister is optionally implemented by a Unit that knows its job names; the run route
// then refuses an unknown job with 404 at once instead of queueing a task that fails.
type JobLister interface {
	Jobs() []string
}

// Health is GET /unit_api/health. Status is "ok", or "degraded" while Problems lists
// failures that are losing data (the unit still answers: the status stays 200).
type Health struct {
	Status         string    `json:"status"`
	PioreactorUnit string    `json:"pioreactor_unit"`
	UTCTime        string    `json:"utc_time"`
	Problems       []Problem `json:"problems,omitempty"`
}

// Problem is one failing part of a unit, as health reports it.
type Problem struct {
	What  string             `json:"what"`  // the part: "outbox spool", "database write"
	Error string             `json:"error"` // its latest error
	Since contract.Timestamp `json:"since"` // its first failure since it last worked
	Count int64              `json:"count"` // failures (or rows lost) since then
}

// HealthReporter is optionally implemented by a Unit that watches parts which can fail
// and lose data (a worker's outbox spool, the leader's store); health reports them.
type HealthReporter interface {
	Problems() []Problem
}

func (s *Server) unitRoutes(g *echo.Group) {
	g.GET("/health", s.health)
	g.GET("/task_results/:id", s.taskResult)
	g.GET("/versions/app", s.version)
	for _, m := range []string{http.MethodPatch, http.MethodPost} {
		g.Add(m, "/jobs/run/job_name/:job", s.runJob)
		g.Add(m, "/jobs/stop", s.stopJobs)
		g.Add(m, "/jobs/stop/all", s.stopAllJobs)
	}
	g.GET("/jobs", s.jobHistory)
	g.GET("/jobs/running", s.runningJobs)
	g.GET("/jobs/running/experiments/:exp", s.runningJobs)
	g.GET("/jobs/running/:job", s.runningJobs)
	g.GET("/jobs/settings/job_name/:job", s.jobSettings)
	g.GET("/jobs/settings/job_name/:job/setting/:setting", s.jobSetting)
	g.GET("/simulation/truth", s.simTruth)
	s.hostRoutes(g)
	s.unitDescriptorRoutes(g)
	s.unitClusterRoutes(g)
}

func (s *Server) health(c echo.Context) error {
	cache(c, 0)
	h := Health{Status: "ok", PioreactorUnit: s.cfg.Unit.Name(), UTCTime: contract.FormatTime(s.now())}
	if r, ok := s.cfg.Unit.(HealthReporter); ok {
		if h.Problems = r.Problems(); len(h.Problems) > 0 {
			h.Status = "degraded"
		}
	}
	return c.JSON(http.StatusOK, h)
}

func (s *Server) version(c echo.Context) error {
	cache(c, 30)
	return c.JSON(http.StatusOK, map[string]string{"version": s.cfg.Version})
}

package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/api/task"
)

// Accepted is the 202 answer of a queued task (docs/http.md, "Tasks").
type Accepted struct {
	Unit          string `json:"unit"`
	TaskID        string `json:"task_id"`
	ResultURLPath string `json:"result_url_path"`
	Status        string `json:"status"`
}

// TaskPending is the poll answer while a task has not finished (or is unknown).
type TaskPending struct {
	TaskID        string `json:"task_id"`
	ResultURLPath string `json:"result_url_path"`
	Status        string `json:"status"`
}

// TaskSucceeded is the poll answer of a finished task; Result may be null.
type TaskSucceeded struct {
	TaskID        string `json:"task_id"`
	ResultURLPath string `json:"result_url_path"`
	Status        string `json:"status"`
	Result        any    `json:"result"`
}

// TaskFailed is the poll answer of a task that returned an error.
type TaskFailed struct {
	TaskID        string `json:"task_id"`
	ResultURLPath string `json:"result_url_path"`
	Status        string `json:"status"`
	Error         string `json:"error"`
	Cause         string `json:"cause"`
	Remediation   string `json:"remediation,omitempty"`
}

func resultPath(id string) string { return "/unit_api/task_results/" + id }

// queue starts fn as a task and answers 202 with where to poll.
func (s *Server) queue(c echo.Context, fn task.Func) error {
	id := s.tasks.Submit(fn)
	return c.JSON(http.StatusAccepted, Accepted{Unit: s.cfg.Unit.Name(), TaskID: id,
		ResultURLPath: resultPath(id), Status: "accepted"})
}

// background runs fn as a task nobody polls: fire-and-forget fan-outs that must still end
// with the server.
func (s *Server) background(fn func(ctx context.Context)) {
	s.tasks.Submit(func(ctx context.Context) (any, error) { fn(ctx); return nil, nil })
}

// taskResult is GET /unit_api/task_results/:id.
func (s *Server) taskResult(c echo.Context) error {
	id := param(c, "id")
	o := s.tasks.Lookup(id)
	switch o.Status {
	case task.Succeeded:
		return c.JSON(http.StatusOK, TaskSucceeded{TaskID: id, ResultURLPath: resultPath(id),
			Status: string(o.Status), Result: o.Result})
	case task.Failed:
		return c.JSON(http.StatusOK, TaskFailed{TaskID: id, ResultURLPath: resultPath(id),
			Status: string(o.Status), Error: o.Failure.Message, Cause: o.Failure.Cause,
			Remediation: o.Failure.Remediation})
	}
	return c.JSON(http.StatusAccepted, TaskPending{TaskID: id, ResultURLPath: resultPath(id), Status: string(task.Pending)})
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Power reboots or powers off the machine the daemon runs on. The call returns once the
// action is scheduled; the daemon decides how (a delay, systemd, nothing under --sim).
type Power interface {
	Reboot(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// Capability is an entry of GET /unit_api/capabilities.
type Capability struct {
	JobName           string   `json:"job_name"`
	AutomationName    string   `json:"automation_name,omitempty"`
	Help              string   `json:"help"`
	Arguments         []string `json:"arguments"`
	Options           []any    `json:"options"`
	PublishedSettings []any    `json:"published_settings"`
	CLIExample        string   `json:"cli_example"`
}

// CapabilityLister is optionally implemented by a Unit that can describe its jobs; otherwise
// the capabilities route lists the job names of a JobLister, without details.
type CapabilityLister interface {
	Capabilities() []Capability
}

func (s *Server) unitClusterRoutes(g *echo.Group) {
	g.GET("/capabilities", s.capabilities)
	g.GET("/long_running_jobs/running", s.longRunningJobs)
	g.GET("/system/utc_clock", s.utcClock)
	for _, m := range []string{http.MethodPost, http.MethodPatch} {
		g.Add(m, "/system/reboot", s.power("reboot"))
		g.Add(m, "/system/shutdown", s.power("shutdown"))
		g.Add(m, "/hardware/check", s.hardwareCheck)
	}
	g.GET("/bioreactor/experiments/:exp", s.bioreactorValues)
	g.PATCH("/bioreactor/experiments/:exp", s.setBioreactorValues)
	s.unitConfigRoutes(g)
	s.calibrationRoutes(g)
	s.unavailableUnitRoutes(g)
}

func (s *Server) capabilities(c echo.Context) error {
	if l, ok := s.cfg.Unit.(CapabilityLister); ok {
		return c.JSON(http.StatusOK, l.Capabilities())
	}
	out := []Capability{}
	if l, ok := s.cfg.Unit.(JobLister); ok {
		jobs := slices.Clone(l.Jobs())
		slices.Sort(jobs)
		for _, j := range jobs {
			out = append(out, Capability{JobName: j, Arguments: []string{}, Options: []any{},
				PublishedSettings: []any{}, CLIExample: "pio run " + j})
		}
	}
	return c.JSON(http.StatusOK, out)
}

// longRunningJobs is GET /unit_api/long_running_jobs/running.
func (s *Server) longRunningJobs(c echo.Context) error {
	rows, err := s.cfg.Unit.Running()
	if err != nil {
		return internal("Could not read the running jobs.", err)
	}
	out := make([]contract.JobRow, 0, len(rows))
	for _, r := range rows {
		if r.IsLongRunningJob == 1 {
			out = append(out, r)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) utcClock(c echo.Context) error {
	return c.JSON(http.StatusOK, struct {
		Status    string `json:"status"`
		ClockTime string `json:"clock_time"`
	}{"success", contract.FormatTime(s.now())})
}

// power is POST|PATCH /unit_api/system/{reboot,shutdown}: a task that asks Power.
func (s *Server) power(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := s.cfg.Power
		if p == nil {
			return notImplemented(c.Request(), fmt.Sprintf("%s cannot %s its machine.", s.cfg.Unit.Name(), action))
		}
		return s.queue(c, func(ctx context.Context) (any, error) {
			var err error
			if action == "reboot" {
				err = p.Reboot(ctx)
			} else {
				err = p.Shutdown(ctx)
			}
			if err != nil {
				return nil, err
			}
			return map[string]bool{"success": true}, nil
		})
	}
}

// ModelKeeper is optionally implemented by a Unit that remembers its bioreactor model: the
// leader sends a worker its new model with POST /unit_api/hardware/check after
// PUT /api/workers/<unit>/model, and the unit's jobs started later use it.
type ModelKeeper interface {
	SetModel(contract.Model) error
}

// hardwareCheck is POST|PATCH /unit_api/hardware/check: whether this unit's hardware fits a
// model. No I²C probe is wired into the API, so a registered model is "skipped". A unit
// that keeps its model (ModelKeeper) takes this one as its own: the leader sends it here
// when the inventory's model changes.
func (s *Server) hardwareCheck(c echo.Context) error {
	var b modelBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	models := BuiltinModels()
	if s.cfg.Leader != nil {
		models = s.models()
	}
	if _, ok := FindModel(models, b.ModelName, b.ModelVersion); !ok {
		return unknownModel(b.ModelName, b.ModelVersion)
	}
	if k, ok := s.cfg.Unit.(ModelKeeper); ok {
		if err := k.SetModel(contract.Model{Name: b.ModelName, Version: b.ModelVersion}); err != nil {
			return internal("Could not keep the model.", err)
		}
	}
	return s.queue(c, func(context.Context) (any, error) {
		return map[string]string{"status": "skipped", "reason": "This unit does not probe its I2C devices."}, nil
	})
}

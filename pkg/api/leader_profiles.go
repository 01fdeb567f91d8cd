package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/profile"
)

// Profiles are the leader's experiment profiles: their files and the journal of their runs.
type Profiles struct {
	Dir     *profile.Dir
	Journal *profile.Journal
}

func (s *Server) profileRoutes(g *echo.Group) {
	p := s.leader().Profiles
	if p == nil {
		no := unavailable("This leader keeps no experiment profiles.")
		g.Any("/experiment_profiles", no)
		g.Any("/experiment_profiles/:file", no)
		return
	}
	g.GET("/experiment_profiles", s.listProfiles)
	g.POST("/experiment_profiles", s.createProfile)
	g.GET("/experiment_profiles/:file", s.getProfile)
	g.PATCH("/experiment_profiles/:file", s.updateProfile)
	g.DELETE("/experiment_profiles/:file", s.deleteProfile)
	g.GET("/experiments/:exp/experiment_profiles/running", s.runningProfiles)
	g.GET("/experiments/:exp/experiment_profiles/recent", s.recentProfiles)
}

func (s *Server) listProfiles(c echo.Context) error {
	list, err := s.leader().Profiles.Dir.List()
	if err != nil {
		return httpError(http.StatusBadRequest, "Could not read the experiment profiles.", err.Error(), "")
	}
	cache(c, 5)
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getProfile(c echo.Context) error {
	src, err := s.leader().Profiles.Dir.Read(param(c, "file"))
	switch {
	case errors.Is(err, profile.ErrBadFilename), errors.Is(err, profile.ErrNotFound):
		return httpError(http.StatusNotFound, "Experiment profile not found.", err.Error(), "List them with GET /api/experiment_profiles.")
	case err != nil:
		return internal("Could not read the experiment profile.", err)
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", src)
}

type profileCreateBody struct {
	Filename string `json:"filename" required:"true"`
	Body     string `json:"body" required:"true"`
}

type profileUpdateBody struct {
	Body string `json:"body" required:"true"`
}

func (s *Server) createProfile(c echo.Context) error {
	var b profileCreateBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	return s.saveProfile(c, b.Filename, b.Body, true)
}

func (s *Server) updateProfile(c echo.Context) error {
	var b profileUpdateBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	return s.saveProfile(c, param(c, "file"), b.Body, false)
}

// saveProfile validates a profile (against the jobs and units the cluster has) before it
// writes anything; every diagnostic, with its line, comes back in the 400.
func (s *Server) saveProfile(c echo.Context, name, body string, create bool) error {
	if _, err := profile.CleanName(name, false); err != nil {
		return httpError(http.StatusBadRequest, "Invalid experiment profile file name.", err.Error(),
			"Use a plain file name ending in .yaml or .yml, such as my-profile.yaml.")
	}
	_, diags := profile.Verify([]byte(body), s.profileKnown())
	if errs := diags.Errors(); len(errs) > 0 {
		out := make([]any, len(diags))
		for i, d := range diags {
			out[i] = d
		}
		return &Error{Status: http.StatusBadRequest, Message: "The experiment profile is not valid.", Cause: errs[0].String(),
			Remediation: "Fix the lines the diagnostics name, then save again.", Diagnostics: out}
	}
	err := s.leader().Profiles.Dir.Write(name, []byte(body), create)
	switch {
	case errors.Is(err, profile.ErrExists):
		return httpError(http.StatusBadRequest, "An experiment profile with this file name already exists.", err.Error(),
			"Choose another file name, or PATCH /api/experiment_profiles/"+name+" to overwrite it.")
	case err != nil:
		return internal("Could not save the experiment profile.", err)
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

// profileKnown is what validation checks names against: this leader's jobs (every unit runs
// the same table) and the inventory.
func (s *Server) profileKnown() profile.Known {
	var k profile.Known
	if l, ok := s.cfg.Unit.(JobLister); ok {
		k.Jobs = l.Jobs()
	}
	if units, err := s.units(); err == nil {
		k.Units = units
	}
	return k
}

func (s *Server) deleteProfile(c echo.Context) error {
	err := s.leader().Profiles.Dir.Delete(param(c, "file"))
	switch {
	case errors.Is(err, profile.ErrBadFilename), errors.Is(err, profile.ErrNotFound):
		return httpError(http.StatusNotFound, "Experiment profile not found.", err.Error(), "")
	case err != nil:
		return internal("Failed to delete experiment profile.", err)
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

// runningProfile is one row of the running route.
type runningProfile struct {
	JobName    string         `json:"job_name"`
	Experiment string         `json:"experiment"`
	JobID      int64          `json:"job_id"`
	Settings   map[string]any `json:"settings"`
}

func (s *Server) runningProfiles(c echo.Context) error {
	out := []runningProfile{}
	for _, r := range s.leader().Profiles.Journal.Running(param(c, "exp")) {
		settings := r.Settings
		if settings == nil {
			settings = map[string]any{"experiment_profile_name": r.Name, "start_time_utc": r.StartedAt, "profile_filename": r.File}
		}
		out = append(out, runningProfile{JobName: profile.JobName, Experiment: r.Experiment, JobID: r.JobID, Settings: settings})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) recentProfiles(c echo.Context) error {
	cache(c, 5)
	return c.JSON(http.StatusOK, s.leader().Profiles.Journal.Recent(param(c, "exp")))
}

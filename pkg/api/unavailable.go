package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// notImplemented is the 501 of a route this daemon knows but does not serve (docs/api.md
// lists them), so a script learns that at once instead of from a 404 that looks like a typo.
func notImplemented(r *http.Request, cause string) *Error {
	return httpError(http.StatusNotImplemented, fmt.Sprintf("%s %s is not implemented by pioreactord.", r.Method, r.URL.Path),
		cause, "See docs/api.md of pioreactord for the routes it leaves out.")
}

func unavailable(cause string) echo.HandlerFunc {
	return func(c echo.Context) error { return notImplemented(c.Request(), cause) }
}

// unavailableLeaderRoutes are the leader's routes deliberately left out (docs/api.md).
func (s *Server) unavailableLeaderRoutes(g *echo.Group) {
	s.leaderCalibrationRoutes(g)
	noProvisioning := unavailable("Workers are not provisioned over SSH: start pioreactord on the worker, then PUT /api/workers.")
	g.POST("/workers/setup", noProvisioning)
	noUpdates := unavailable("Software updates, plugins and archives are installed with the OS package, not through the API.")
	for _, p := range []string{"/system/upload", "/system/update_from_archive", "/system/update_next_version"} {
		g.POST(p, noUpdates)
	}
	for _, p := range []string{"/plugins/install", "/plugins/uninstall", "/plugins/install-from-leader-usb"} {
		g.POST("/units/:unit"+p, noUpdates)
		g.PATCH("/units/:unit"+p, noUpdates)
	}
	g.GET("/units/:unit/plugins/installed", s.fanoutGet("/unit_api/plugins/installed", 0))
	g.POST("/system/utc_clock", unavailable("The clocks are kept by the OS (chrony / systemd-timesyncd)."))
	g.POST("/units/:unit/system/repair", unavailable("pioreactord has no file permissions to repair."))
	noBackup := unavailable("Back up the data directory of pioreactord with the OS's tools.")
	g.GET("/units/:unit/zipped_dot_pioreactor", noBackup)
	g.POST("/units/:unit/import_zipped_dot_pioreactor", noBackup)
	g.GET("/units/:unit/usb", s.usbProxy(http.MethodGet, "/unit_api/usb"))
	g.GET("/units/:unit/usb/artifacts", s.usbProxy(http.MethodGet, "/unit_api/usb/artifacts"))
	g.POST("/units/:unit/usb/mount", s.usbProxy(http.MethodPost, "/unit_api/usb/mount"))
	g.POST("/units/:unit/usb/eject", s.usbProxy(http.MethodPost, "/unit_api/usb/eject"))
	s.leaderSessionRoutes(g) // proxied: a worker without sessions answers its own 501
	g.GET("/workers/:unit/zipped_calibrations", unavailable("Calibration zips are not implemented; read them with GET /api/workers/<unit>/calibrations."))
	// Experiment profiles answer 501 until a leader serves them (Leader.Profiles registers
	// the real routes after these, which replaces them).
	noProfiles := unavailable("This leader serves no experiment profiles.")
	g.GET("/experiment_profiles", noProfiles)
	g.POST("/experiment_profiles", noProfiles)
	g.GET("/experiment_profiles/:file", noProfiles)
	g.PATCH("/experiment_profiles/:file", noProfiles)
	g.DELETE("/experiment_profiles/:file", noProfiles)
	g.GET("/experiments/:exp/experiment_profiles/running", noProfiles)
	g.GET("/experiments/:exp/experiment_profiles/recent", noProfiles)
	g.GET("/local_access_point", func(c echo.Context) error {
		cache(c, 10000)
		return c.JSON(http.StatusOK, map[string]bool{"active": false})
	})
}

// unavailableUnitRoutes are the unit routes deliberately left out (docs/api.md).
func (s *Server) unavailableUnitRoutes(g *echo.Group) {
	noUpdates := unavailable("Software updates and plugins are installed with the OS package, not through the API.")
	for _, m := range []string{http.MethodPost, http.MethodPatch} {
		g.Add(m, "/system/update", noUpdates)
		g.Add(m, "/system/update/:target", noUpdates)
		g.Add(m, "/plugins/install", noUpdates)
		g.Add(m, "/plugins/uninstall", noUpdates)
		g.Add(m, "/system/repair", unavailable("pioreactord has no file permissions to repair."))
		g.Add(m, "/system/remove_file", unavailable("The API does not delete files on a unit."))
		g.Add(m, "/system/utc_clock", unavailable("The clocks are kept by the OS (chrony / systemd-timesyncd)."))
	}
	g.GET("/plugins/installed", func(c echo.Context) error {
		cache(c, 5)
		return c.JSON(http.StatusOK, []any{})
	})
	noFiles := unavailable("The API does not browse or archive a unit's files.")
	g.GET("/system/path/", noFiles)
	g.GET("/system/path/*", noFiles)
	g.GET("/zipped_dot_pioreactor", noFiles)
	g.POST("/import_zipped_dot_pioreactor", noFiles)
	g.GET("/zipped_calibrations", noFiles)
	noWebRestart := unavailable("The web server is pioreactord itself: restart it with systemctl restart pioreactord.")
	g.POST("/system/web_server/restart", noWebRestart)
	g.PATCH("/system/web_server/restart", noWebRestart)
	if s.cfg.Sessions != nil {
		s.sessionRoutes(g)
	} else {
		noSessions := unavailable("This unit runs no guided calibration sessions; upload a calibration YAML instead.")
		g.POST("/calibrations/sessions", noSessions)
		g.GET("/calibrations/sessions/:id", noSessions)
		g.POST("/calibrations/sessions/:id/inputs", noSessions)
		g.POST("/calibrations/sessions/:id/abort", noSessions)
	}
	g.PATCH("/jobs/settings/job_name/:job", unavailable("Settings change over MQTT: publish to .../<setting>/set, "+
		"or PATCH /api/workers/<unit>/jobs/update/job_name/<job>/experiments/<exp>."))
}

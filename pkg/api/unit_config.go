package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/config"
)

func (s *Server) unitConfigRoutes(g *echo.Group) {
	g.GET("/config/merged", s.mergedConfig)
	g.GET("/config/specific", s.unitConfigText)
	g.GET("/config/shared", s.sharedConfigText)
	for _, m := range []string{http.MethodPost, http.MethodPatch} {
		// specific: validated alone and merged with this unit's shared file, then written to
		// unit_config.ini. shared (an extension, docs/api.md): the leader hands a unit the
		// config.ini it saved, in place of the original's rsync.
		g.Add(m, "/config/specific", s.saveConfigText(s.writeUnitConfig))
		g.Add(m, "/config/shared", s.saveConfigText(s.writeSharedConfig))
	}
}

type codeBody struct {
	Code string `json:"code" required:"true"`
}

// configFiles returns the unit's files or the 501 of a daemon that has none.
func (s *Server) configFiles(c echo.Context) (*ConfigFiles, error) {
	if f := s.cfg.ConfigFiles; f != nil {
		return f, nil
	}
	return nil, notImplemented(c.Request(), s.cfg.Unit.Name()+" has no config files (built-in template).")
}

// invalidConfig is the 400 of a config text that does not validate: the message of
// docs/http.md, "Config files", the line in the cause. Nothing has been written.
func invalidConfig(err error) *Error {
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		remedy := "Fix the file and save again."
		if ve.Line > 0 {
			remedy = fmt.Sprintf("Fix line %d and save again.", ve.Line)
		}
		return httpError(http.StatusBadRequest, ve.Msg, ve.Error(), remedy)
	}
	return httpError(http.StatusBadRequest, "Incorrect syntax. Please fix and try again.", err.Error(),
		"Write a literal % as %%, and check every %(key)s reference.")
}

func readFailed(what string, err error) *Error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Status: http.StatusInternalServerError, Message: what + " is missing.", Cause: err.Error(), Err: err,
			Remediation: "Save the shared config from the leader, which copies it to every unit."}
	}
	return internal("Could not read "+what+".", err)
}

// mergedConfig is GET /unit_api/config/merged: the effective config, section → key → value.
func (s *Server) mergedConfig(c echo.Context) error {
	if _, err := s.configFiles(c); err != nil {
		return err
	}
	conf, err := s.effectiveConfig()
	if err != nil {
		return readFailed("config.ini", err)
	}
	return c.JSON(http.StatusOK, conf.Merged())
}

func (s *Server) unitConfigText(c echo.Context) error {
	return s.configText(c, "unit_config.ini", 0, (*ConfigFiles).ReadUnit, nil)
}

func (s *Server) sharedConfigText(c echo.Context) error {
	return s.configText(c, "config.ini", 10, (*ConfigFiles).ReadShared, nil)
}

// browserConfigText is the leader's GET /api/config/shared: the shared file as a dashboard
// needs it, its [mqtt] section pointing at the WebSocket listener the page can reach. With
// ?format=json it answers the same file parsed ({section: {key: value}}, interpolated), so
// the browser reads it with the daemon's configparser-compatible reader rather than one of
// JavaScript's INI readers, which split section names at dots and drop `key: value` lines.
func (s *Server) browserConfigText(c echo.Context) error {
	forBrowser := func(b []byte) []byte {
		return config.ForBrowser(b, config.Browser{PageHost: config.PageHost(c.Request().Host),
			WSPort: s.cfg.WebSocket.Port, WSProtocol: s.cfg.WebSocket.Protocol})
	}
	if c.QueryParam("format") != "json" {
		return s.configText(c, "config.ini", 10, (*ConfigFiles).ReadShared, forBrowser)
	}
	f, err := s.configFiles(c)
	if err != nil {
		return err
	}
	b, err := f.ReadShared()
	if err != nil {
		return readFailed("config.ini", err)
	}
	conf, err := config.Parse(forBrowser(b), nil)
	if err != nil {
		return httpError(http.StatusInternalServerError, "Could not parse config.ini.", err.Error(), "Fix config.ini on the leader.")
	}
	cache(c, 10)
	return c.JSON(http.StatusOK, conf.Merged())
}

// configText answers a config file's text, cached maxAge seconds, through shape if any.
func (s *Server) configText(c echo.Context, name string, maxAge int, read func(*ConfigFiles) ([]byte, error), shape func([]byte) []byte) error {
	f, err := s.configFiles(c)
	if err != nil {
		return err
	}
	b, err := read(f)
	if err != nil {
		return readFailed(name, err)
	}
	cache(c, maxAge)
	if shape != nil {
		b = shape(b)
	}
	return c.Blob(http.StatusOK, echo.MIMETextPlainCharsetUTF8, b)
}

// saveConfigText is a POST|PATCH of {"code": "..."} that write validates and saves.
func (s *Server) saveConfigText(write func(*ConfigFiles, []byte) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := s.configFiles(c)
		if err != nil {
			return err
		}
		var b codeBody
		if err := decodeBody(c, &b, decodeOpts{}); err != nil {
			return err
		}
		if err := write(f, []byte(b.Code)); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, Status{"success"})
	}
}

func (s *Server) writeUnitConfig(f *ConfigFiles, text []byte) error {
	s.configMu.Lock()
	defer s.configMu.Unlock()
	shared, err := f.ReadShared()
	if err != nil {
		return readFailed("config.ini", err)
	}
	if err := config.ValidateUnit(text, shared); err != nil {
		return invalidConfig(err)
	}
	if err := s.checkJobs(shared, config.Normalize(text)); err != nil {
		return err
	}
	if err := f.WriteUnit(config.Normalize(text)); err != nil {
		return internal("Could not write unit_config.ini.", err)
	}
	s.configSaved()
	return nil
}

func (s *Server) writeSharedConfig(f *ConfigFiles, text []byte) error {
	s.configMu.Lock()
	defer s.configMu.Unlock()
	if err := config.ValidateShared(text); err != nil {
		return invalidConfig(err)
	}
	unit, err := f.ReadUnit()
	if err != nil {
		return readFailed("unit_config.ini", err)
	}
	if err := s.checkJobs(config.Normalize(text), unit); err != nil {
		return err
	}
	if err := f.WriteShared(config.Normalize(text)); err != nil {
		return internal("Could not write config.ini.", err)
	}
	s.configSaved()
	return nil
}

// checkJobs runs Config.CheckConfig on the effective config of the two files, as the daemon
// will read them at its next start: a value a job would refuse is refused now.
func (s *Server) checkJobs(shared, unit []byte) error {
	if s.cfg.CheckConfig == nil {
		return nil
	}
	c, err := config.Parse(shared, unit)
	if err != nil {
		return invalidConfig(err)
	}
	if err := s.cfg.CheckConfig(c); err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		return httpError(http.StatusBadRequest, "Invalid value: "+first, err.Error(), "Fix the value named and save again.")
	}
	return nil
}

func (s *Server) configSaved() {
	if s.cfg.OnConfigSaved != nil {
		s.cfg.OnConfigSaved()
	}
}

package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/api/task"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/descriptor"
)

// Config builds a Server. Unit is required; the rest have defaults.
type Config struct {
	Unit   Unit
	Leader *Leader // nil on a worker: /api answers 404 (docs/http.md, "Addresses and roles")
	Log    *slog.Logger
	// Now is the clock of timestamps and of the run debounce; nil means time.Now.
	Now func() time.Time
	// Version is reported by GET /unit_api/versions/app.
	Version string
	// BodyLimit caps request bodies (413 beyond); 0 means DefaultBodyLimit.
	BodyLimit int64
	// KeepTasks is how many finished task outcomes are kept; 0 means task.DefaultKeep.
	KeepTasks int

	// APIKey, when set, must come with every request as `Authorization: Basic <APIKey>` or
	// `Bearer <APIKey>` ([ui_basic_auth] api_key); the daemon sets it outside --sim. It is
	// never logged.
	APIKey string
	// ConfigFiles are this unit's config.ini and unit_config.ini; nil makes the config
	// routes answer 501.
	ConfigFiles *ConfigFiles
	// CheckConfig runs, after config.Validate, on the effective config a save would give
	// (config.ini with this unit's unit_config.ini layered over it); an error refuses the
	// save with a 400 quoting it. The daemon hands it the jobs' own checks, which this
	// package may not import. Optional.
	CheckConfig func(*config.Config) error
	// WebSocket is the broker's MQTT-over-WebSocket listener as browsers reach it: the
	// leader's GET /api/config/shared tells the dashboard about it (zero values keep the
	// file's). A page host that is loopback is replaced by the host the page came from.
	WebSocket WebSocket
	// OnConfigSaved runs after a config file was written through the API (the daemon
	// reloads its config for jobs started afterwards). Optional.
	OnConfigSaved func()
	// Publisher sends this unit's own MQTT messages (bioreactor variables). Optional: nil
	// stores the values without announcing them.
	Publisher Publisher
	// Bioreactor keeps the per-experiment vessel variables; nil keeps them in memory.
	Bioreactor BioreactorStore
	// ModelCapacityML caps the vessel volumes a bioreactor update accepts: the unit's
	// model's reactor_capacity_ml now, asked at each update; nil or 0 means 40 (pioreactor_40ml).
	ModelCapacityML func() float64
	// Power reboots or powers off the machine; nil makes those routes answer 501.
	Power Power
	// Calibrations are this unit's calibration files; nil makes those routes answer 501.
	Calibrations Calibrations
	// Sessions runs guided calibrations; nil makes the session routes answer 501.
	Sessions CalibrationSessions
	// Descriptors renders this unit's UI descriptors (the job table's, then the ui/ folders');
	// nil answers empty lists. Called on each descriptor request.
	Descriptors func() descriptor.Set
	// Host reads the machine for the system routes (disk, memory, IPv4); nil means HostOS.
	Host Host
	// SimTruth answers GET /unit_api/simulation/truth on a simulated unit; nil (every unit
	// outside pioreactord --sim) makes it answer 404.
	SimTruth SimTruthFunc
	// Dashboard is the built dashboard (ui.Dist): when set, every GET or HEAD path outside
	// /api, /unit_api and /exports serves it, without the API key (dashboard.go). nil (a
	// worker) serves none. Without an index.html it serves a page saying to build it.
	Dashboard fs.FS
}

// WebSocket is where the broker listens for MQTT over WebSocket.
type WebSocket struct {
	Port     int    // 0: the config file's broker_ws_port
	Protocol string // "ws" or "wss"; "": the file's ws_protocol
}

// Validate reports a Config that cannot build a Server.
func (c Config) Validate() error {
	if c.Unit == nil {
		return errors.New("api config: Unit is required")
	}
	if c.Leader != nil {
		if err := c.Leader.validate(); err != nil {
			return fmt.Errorf("api config: %w", err)
		}
	}
	return nil
}

// Server is the HTTP API of one unit (and of the leader when Config.Leader is set).
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	echo     *echo.Echo
	tasks    *task.Registry
	debounce *debouncer

	bioreactor BioreactorStore
	dash       *dashboard // nil: no dashboard
	started    time.Time  // when New ran: the web server status reports it
	configMu   sync.Mutex // one config write (and its fan-out) at a time
}

// New builds the routes. Close (or Run's return) stops the background tasks.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, now: cfg.Now, tasks: task.New(cfg.KeepTasks)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.debounce = newDebouncer(time.Second)
	s.started = s.now()
	s.bioreactor = cfg.Bioreactor
	if s.bioreactor == nil {
		s.bioreactor = newMemoryBioreactor()
	}
	if cfg.Dashboard != nil {
		s.dash = newDashboard(cfg.Dashboard)
	}
	limit := cfg.BodyLimit
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard) // we log through slog, in the error handler
	e.HTTPErrorHandler = handleError(s.log)
	e.Use(recoverPanic(s.log), requireKey(cfg.APIKey, s.now, s.dashboardRequest), limitBody(limit))
	s.echo = e
	s.unitRoutes(e.Group("/unit_api"))
	if cfg.Leader != nil {
		s.leaderRoutes(e.Group("/api"))
	} else {
		e.Any("/api", notLeader)
		e.Any("/api/*", notLeader)
	}
	if s.dash != nil {
		s.dashboardRoutes(e)
	}
	return s, nil
}

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.echo }

// Close cancels the running tasks and waits for them. Safe to call more than once.
func (s *Server) Close() { s.tasks.Close() }

// Run serves on ln until ctx ends, then shuts down and closes the tasks. It logs the
// address it serves on, since ln may have been opened on port 0.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	defer s.Close()
	attrs := []any{"addr", ln.Addr().String()}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		attrs = append(attrs, "port", a.Port)
	}
	s.log.Info("http api listening", attrs...)
	return Serve(ctx, ln, s.Handler(), s.log)
}

// ShutdownTimeout bounds how long Serve waits for in-flight requests after ctx ends.
const ShutdownTimeout = 3 * time.Second

// Serve owns an http.Server on ln: it blocks until ctx ends (then shuts down gracefully,
// returning nil) or the server fails. The server's own errors go to log (nil: dropped).
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: serverErrorLog(log)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close() // in-flight requests outlived the grace period
	}
	<-errc // http.ErrServerClosed
	return nil
}

func notLeader(echo.Context) error {
	return httpError(http.StatusNotFound,
		"Can't access /api/ endpoints when this unit isn't the leader. Did you mean /unit_api/?", "",
		"Send /api/ requests to the leader.")
}

// recoverPanic turns a handler's panic into a 500 with the stack logged.
func recoverPanic(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					err = internal("Internal server error.", fmt.Errorf("panic: %v", p))
					log.Error("handler panicked", "path", c.Request().URL.Path, "panic", p, "stack", string(debug.Stack()))
				}
			}()
			return next(c)
		}
	}
}

// param is a path parameter, unescaped: echo matches on the raw path, so %24broadcast
// would otherwise stay encoded.
func param(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// cache sets the Cache-Control of docs/http.md's "cache N" notes.
func cache(c echo.Context, seconds int) {
	c.Response().Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(seconds))
}

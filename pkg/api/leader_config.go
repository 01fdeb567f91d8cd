package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
)

// syncTimeout bounds the distribution of a saved shared config (docs/http.md, "Config files": ≤75 s).
const syncTimeout = 75 * time.Second

func (s *Server) leaderConfigRoutes(g *echo.Group) {
	g.GET("/config/shared", s.browserConfigText)
	g.PATCH("/config/shared", s.saveSharedConfig)
	g.GET("/config/shared/history", s.sharedConfigHistory)
	g.GET("/config/units/:unit", s.unitsMergedConfig)
	g.GET("/config/units/:unit/specific", s.leaderUnitConfigText)
	g.PATCH("/config/units/:unit/specific", s.leaderSaveUnitConfig)
	g.GET("/config/units/:unit/specific/history", s.unitConfigHistory)
	g.GET("/config/zipped", s.zippedConfigs)
}

// saveSharedConfig is PATCH /api/config/shared: validate, write the leader's config.ini,
// keep a snapshot, then hand the file to every worker. A worker that does not take it
// makes the answer a 500, but what was saved stays saved.
func (s *Server) saveSharedConfig(c echo.Context) error {
	f, err := s.configFiles(c)
	if err != nil {
		return err
	}
	var b codeBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if err := s.writeSharedConfig(f, []byte(b.Code)); err != nil {
		return err
	}
	text := string(config.Normalize([]byte(b.Code)))
	s.snapshot("config.ini", text)
	ws, err := s.leader().Store.Workers()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	var targets []string
	for _, w := range ws {
		if w.Unit != s.leaderName() {
			targets = append(targets, w.Unit)
		}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), syncTimeout)
	defer cancel()
	rs := s.leader().Cluster.Do(ctx, targets, cluster.Request{Method: http.MethodPost, Path: "/unit_api/config/shared",
		Body: codeBody{Code: text}, Timeout: syncTimeout})
	var failed []string
	for _, r := range rs {
		if !r.OK {
			failed = append(failed, fmt.Sprintf("%s: %s", r.Unit, r.Error.Message))
		}
	}
	if len(failed) > 0 {
		msg := "Could not sync configs to all Pioreactors."
		if ctx.Err() != nil {
			msg = "sync-configs timed out."
		}
		return &Error{Status: http.StatusInternalServerError, Message: msg, Cause: strings.Join(failed, "; "),
			Remediation: "The leader's config.ini is saved; check the listed units, then save again."}
	}
	return c.JSON(http.StatusOK, Status{"success"})
}

// snapshot records a saved file in the history; a failure is logged, the save stands.
func (s *Server) snapshot(filename, data string) {
	h := s.leader().ConfigHistory
	if h == nil {
		return
	}
	if err := h.AddConfigSnapshot(filename, s.now(), data); err != nil {
		s.log.Error("save config history", "file", filename, "err", err)
	}
}

func (s *Server) history(c echo.Context, names ...string) error {
	out := []ConfigSnapshot{}
	if h := s.leader().ConfigHistory; h != nil {
		for _, n := range names {
			snaps, err := h.ConfigSnapshots(n)
			if err != nil {
				return internal("Could not read the config history.", err)
			}
			out = append(out, snaps...)
		}
	}
	slices.SortStableFunc(out, func(a, b ConfigSnapshot) int { return strings.Compare(b.Timestamp, a.Timestamp) })
	cache(c, 0)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) sharedConfigHistory(c echo.Context) error { return s.history(c, "config.ini") }

// oneUnit resolves a path's unit for the routes that refuse $broadcast.
func (s *Server) oneUnit(c echo.Context, what string) (string, error) {
	unit := param(c, "unit")
	if unit == contract.Broadcast {
		return "", httpError(http.StatusBadRequest, "Cannot "+what+" with $broadcast; choose a specific Pioreactor.",
			"$broadcast names every unit; this route acts on one.", "Use a unit name.")
	}
	units, err := s.resolveUnits(unit)
	if err != nil {
		return "", err
	}
	return units[0], nil
}

func (s *Server) unitConfigHistory(c echo.Context) error {
	unit, err := s.oneUnit(c, "read the config history")
	if err != nil {
		return err
	}
	return s.history(c, unitConfigHistoryName(unit), legacyConfigHistoryName(unit))
}

// unitFailure turns a single unit's failed call into the leader's answer: the unit's own
// 4xx envelope as it is, anything else a 502.
func unitFailure(r cluster.Result, what string) *Error {
	if r.Error.FromUnit() && r.StatusCode != nil && *r.StatusCode >= 400 && *r.StatusCode < 500 {
		return httpError(*r.StatusCode, r.Error.Message, r.Error.Cause, r.Error.Remediation)
	}
	msg := fmt.Sprintf("%s failed on %s.", what, r.Unit)
	if r.StatusCode != nil {
		msg = fmt.Sprintf("%s failed on %s. (HTTP %d).", what, r.Unit, *r.StatusCode)
	}
	return httpError(http.StatusBadGateway, msg, r.Error.Cause, r.Error.Remediation)
}

// MergedConfigs is GET /api/config/units/<unit>.
type MergedConfigs struct {
	Configs map[string]map[string]map[string]string `json:"configs"`
	Errors  map[string]*cluster.Result              `json:"errors"`
}

// unitsMergedConfig is GET /api/config/units/:unit: the leader's rendered here, the
// workers' asked for.
func (s *Server) unitsMergedConfig(c echo.Context) error {
	unit := param(c, "unit")
	units, err := s.resolveUnits(unit)
	if err != nil {
		return err
	}
	out := MergedConfigs{Configs: map[string]map[string]map[string]string{}, Errors: map[string]*cluster.Result{}}
	var remote []string
	for _, u := range units {
		if u != s.leaderName() {
			remote = append(remote, u)
			continue
		}
		conf, err := s.effectiveConfig()
		if err != nil {
			status := http.StatusInternalServerError
			out.Errors[u] = &cluster.Result{Unit: u, StatusCode: &status, Error: &cluster.Failure{Kind: cluster.HTTPError,
				Message: "Could not render the leader's config.", Cause: err.Error(), Remediation: "Check config.ini on the leader."}}
			continue
		}
		out.Configs[u] = conf.Merged()
	}
	for _, r := range s.leader().Cluster.Do(c.Request().Context(), remote, cluster.Request{Path: "/unit_api/config/merged"}) {
		if !r.OK {
			out.Errors[r.Unit] = &r
			continue
		}
		var m map[string]map[string]string
		if err := json.Unmarshal(r.Value, &m); err != nil {
			out.Errors[r.Unit] = &cluster.Result{Unit: r.Unit, Error: &cluster.Failure{Kind: cluster.DecodeError,
				Message: "Could not read " + r.Unit + "'s config.", Cause: err.Error(), Remediation: "Check the unit's software version."}}
			continue
		}
		out.Configs[r.Unit] = m
	}
	if unit != contract.Broadcast {
		if r, failed := out.Errors[units[0]]; failed {
			if r.StatusCode != nil && *r.StatusCode >= 400 {
				return httpError(*r.StatusCode, r.Error.Message, r.Error.Cause, r.Error.Remediation)
			}
			return httpError(http.StatusBadGateway, r.Error.Message, r.Error.Cause, r.Error.Remediation)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// leaderUnitConfigText is GET /api/config/units/:unit/specific.
func (s *Server) leaderUnitConfigText(c echo.Context) error {
	unit, err := s.oneUnit(c, "read a unit's config")
	if err != nil {
		return err
	}
	text, err := s.unitConfigOf(c.Request().Context(), unit)
	if err != nil {
		return err
	}
	cache(c, 0)
	return c.Blob(http.StatusOK, echo.MIMETextPlainCharsetUTF8, []byte(text))
}

// unitConfigOf reads a unit's unit_config.ini: the leader's from disk, a worker's over HTTP.
func (s *Server) unitConfigOf(ctx context.Context, unit string) (string, error) {
	if unit == s.leaderName() && s.cfg.ConfigFiles != nil {
		b, err := s.cfg.ConfigFiles.ReadUnit()
		if err != nil {
			return "", readFailed("unit_config.ini", err)
		}
		return string(b), nil
	}
	r := s.leader().Cluster.Call(ctx, unit, cluster.Request{Path: "/unit_api/config/specific", Raw: true})
	if !r.OK {
		return "", unitFailure(r, "Reading unit-specific config")
	}
	var text string
	if err := json.Unmarshal(r.Value, &text); err != nil {
		return "", internal("Could not read the unit's config.", err)
	}
	return text, nil
}

// leaderSaveUnitConfig is PATCH /api/config/units/:unit/specific: the unit validates and
// saves; the leader keeps the snapshot.
func (s *Server) leaderSaveUnitConfig(c echo.Context) error {
	unit, err := s.oneUnit(c, "save a unit's config")
	if err != nil {
		return err
	}
	var b codeBody
	if err := decodeBody(c, &b, decodeOpts{}); err != nil {
		return err
	}
	if unit == s.leaderName() && s.cfg.ConfigFiles != nil {
		if err := s.writeUnitConfig(s.cfg.ConfigFiles, []byte(b.Code)); err != nil {
			return err
		}
	} else {
		r := s.leader().Cluster.Call(c.Request().Context(), unit, cluster.Request{Method: http.MethodPost,
			Path: "/unit_api/config/specific", Body: b})
		if !r.OK {
			return unitFailure(r, "Updating unit-specific config")
		}
	}
	s.snapshot(unitConfigHistoryName(unit), string(config.Normalize([]byte(b.Code))))
	return c.JSON(http.StatusOK, Status{"success"})
}

// zippedConfigs is GET /api/config/zipped: config.ini, each reachable unit's
// unit_config.ini under its name, and metadata.json listing what was left out.
func (s *Server) zippedConfigs(c echo.Context) error {
	f, err := s.configFiles(c)
	if err != nil {
		return err
	}
	shared, err := f.ReadShared()
	if err != nil {
		return readFailed("config.ini", err)
	}
	units, err := s.units()
	if err != nil {
		return internal("Could not read the inventory.", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	included := []string{"config.ini"}
	omitted := []string{}
	add := func(name string, data []byte) error {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write(data)
		}
		return err
	}
	if err := add("config.ini", shared); err != nil {
		return internal("Could not build the zip.", err)
	}
	for _, u := range units {
		text, err := s.unitConfigOf(c.Request().Context(), u)
		if err != nil {
			omitted = append(omitted, u)
			continue
		}
		name := u + "/unit_config.ini"
		if err := add(name, []byte(text)); err != nil {
			return internal("Could not build the zip.", err)
		}
		included = append(included, name)
	}
	meta, _ := json.Marshal(map[string]any{"metadata_version": 1, "downloaded_at_utc": contract.FormatTime(s.now()),
		"included_config_files": included, "omitted_units": omitted})
	if err := add("metadata.json", meta); err != nil {
		return internal("Could not build the zip.", err)
	}
	if err := zw.Close(); err != nil {
		return internal("Could not build the zip.", err)
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="configuration_inis.zip"`)
	return c.Blob(http.StatusOK, "application/zip", buf.Bytes())
}

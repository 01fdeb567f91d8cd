package api

import (
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/store/export"
)

// DataStore is the part of the leader's store behind the data routes of docs/http.md,
// "Logs", "Charts" and "Exports" (logs, time series, exports) and the backup route; *store.DB implements it. The
// routes exist only when Leader.Store implements it too.
type DataStore interface {
	export.Source
	Chart(q store.ChartQuery) ([]store.Series, error)
	Logs(q store.LogQuery) ([]store.LogRow, error)
	AssignmentHistory(unit, experiment string) ([]store.AssignmentInterval, error)
	BackupFile(path string) (int64, error)
	// Path is the database file; exports and backups are written beside it.
	Path() string
}

// dataAPI serves the data routes. It holds what they share: the export lock and the
// progress of the running export.
type dataAPI struct {
	s  *Server
	db DataStore

	exportMu sync.Mutex // one export at a time (the reference's export-data-lock)
	progMu   sync.Mutex
	prog     ExportProgress
}

// dataRoutes registers the read routes of docs/http.md, "Logs" (logs; the manual log line is
// leader_units.go's), §7 (time series), §8 (exports) and the backup route.
func (s *Server) dataRoutes(g *echo.Group) {
	db, ok := s.leader().Store.(DataStore)
	if !ok {
		return
	}
	d := &dataAPI{s: s, db: db}
	for _, p := range []string{"/experiments/:exp", "/workers/:unit/experiments/:exp"} {
		g.GET(p+"/time_series/:source", d.timeSeries)
		g.GET(p+"/time_series/:table/:column", d.columnSeries)
	}
	g.GET("/experiments/:exp/media_rates", d.mediaRates)

	g.GET("/logs", d.allLogs)
	g.GET("/experiments/:exp/logs", d.experimentLogs)
	g.GET("/experiments/:exp/recent_logs", d.recentLogs)
	g.GET("/workers/:unit/experiments/:exp/recent_logs", d.workerRecentLogs)
	g.GET("/workers/:unit/experiments/:exp/logs", d.workerLogs)
	g.GET("/units/:unit/system_logs", d.systemLogs)
	g.GET("/units/:unit/logs", d.unitLogs)

	g.GET("/datasets/exportable", d.datasets)
	g.GET("/datasets/exportable/:name/preview", d.preview)
	g.POST("/datasets/exportable/export", d.export)
	g.POST("/datasets/exportable/export-to-usb", unavailable("USB drives are not handled by pioreactord; use the download export."))
	g.GET("/datasets/exportable/export/progress", d.exportProgress)
	s.echo.GET("/exports/:file", d.download)

	g.POST("/backup", d.backup)
}

// TimeSeries is the answer of the chart routes: series names and, in the same order,
// their points.
type TimeSeries struct {
	Series []string        `json:"series"`
	Data   [][]SeriesPoint `json:"data"`
}

// SeriesPoint is one chart point: x is the stored timestamp text.
type SeriesPoint struct {
	X string  `json:"x"`
	Y float64 `json:"y"`
}

// chartSources are the built-in <source>s of docs/http.md, "Charts" and their rounding.
var chartSources = map[string]int{
	string(store.GrowthRates):         5,
	string(store.TemperatureReadings): 2,
	string(store.ODReadingsFiltered):  7,
	string(store.ODReadings):          7,
	string(store.ODReadingsFused):     7,
	string(store.RawODReadings):       7,
}

// window reads lookback (hours, default 4) and target_points (default 720, > 0).
func (d *dataAPI) window(c echo.Context) (after, until time.Time, target int, err error) {
	lookback := 4.0
	if v := c.QueryParam("lookback"); v != "" {
		if lookback, err = strconv.ParseFloat(v, 64); err != nil || math.IsNaN(lookback) || math.IsInf(lookback, 0) {
			return after, until, 0, httpError(http.StatusBadRequest, "lookback must be a number of hours",
				"lookback="+v+" is not a number.", "Send lookback in hours, e.g. lookback=4.")
		}
	}
	target = 720
	if v := c.QueryParam("target_points"); v != "" {
		if target, err = strconv.Atoi(v); err != nil {
			return after, until, 0, httpError(http.StatusBadRequest, "target_points must be an integer",
				"target_points="+v+" is not an integer.", "Send target_points > 0, e.g. 720.")
		}
	}
	if target <= 0 {
		return after, until, 0, httpError(http.StatusBadRequest, "target_points must be > 0",
			"target_points="+strconv.Itoa(target)+".", "Send target_points > 0, e.g. 720.")
	}
	until = d.s.now()
	return windowStart(until, lookback), until, target, nil
}

// windowStart is until minus lookback hours. A lookback longer than the data means all of
// it: the duration saturates instead of overflowing negative (1e308 h used to return
// nothing), and the start never goes before the Unix epoch, below which the store keeps
// nothing and reads a negative bound as an empty window.
func windowStart(until time.Time, lookback float64) time.Time {
	epoch := time.UnixMicro(-1) // exclusive: a row at the epoch itself is still in
	d := clock.Saturate(lookback, time.Hour)
	if until.Sub(epoch) <= d {
		return epoch
	}
	return until.Add(-d)
}

// timeSeries is GET [/workers/<unit>]/experiments/<exp>/time_series/<source>.
func (d *dataAPI) timeSeries(c echo.Context) error {
	source := param(c, "source")
	digits, ok := chartSources[source]
	if !ok {
		return httpError(http.StatusBadRequest, "Unknown time series source: "+source,
			source+" is not one of the built-in chart sources.", "Use table/column for other tables.")
	}
	after, until, target, err := d.window(c)
	if err != nil {
		return err
	}
	series, err := d.db.Chart(store.ChartQuery{Table: store.Table(source), Experiment: param(c, "exp"),
		Unit: param(c, "unit"), After: after, Until: until, TargetPoints: target})
	if err != nil {
		return internal("Could not read the time series.", err)
	}
	out := TimeSeries{Series: []string{}, Data: [][]SeriesPoint{}}
	for _, s := range series {
		pts := make([]SeriesPoint, len(s.Points))
		for i, p := range s.Points {
			pts[i] = SeriesPoint{X: contract.FormatTime(p.Time), Y: roundTo(p.Value, digits)}
		}
		out.Series = append(out.Series, s.Name)
		out.Data = append(out.Data, pts)
	}
	cache(c, 5)
	return c.JSON(http.StatusOK, out)
}

var sqlName = regexp.MustCompile(`[^A-Za-z0-9_]`)

// columnSeries is the generic GET .../time_series/<table>/<column>: every row with the
// column in the window, per unit, keeping every k-th (k = ceil(n / target_points)).
func (d *dataAPI) columnSeries(c echo.Context) error {
	table := sqlName.ReplaceAllString(param(c, "table"), "")
	column := sqlName.ReplaceAllString(param(c, "column"), "")
	after, until, target, err := d.window(c)
	if err != nil {
		return err
	}
	t := store.Table(table)
	var col store.Column
	for _, cc := range t.Columns() {
		if cc.Name == column && (cc.Kind == store.Real || cc.Kind == store.Integer) {
			col = cc
		}
	}
	if strings.HasPrefix(table, "sqlite_") || col.Name == "" {
		return httpError(http.StatusBadRequest, "Unknown time series "+table+"/"+column,
			"There is no numeric column "+column+" in table "+table+".", "Check the table and column names.")
	}
	q := store.Query{Table: t, Experiments: []string{param(c, "exp")}, From: after.Add(time.Microsecond),
		To: until, ByUnit: true}
	if u := param(c, "unit"); u != "" {
		q.Units = []string{u}
	}
	var units []string
	var points [][]SeriesPoint
	it := d.db.Rows(q)
	for it.Next() {
		r := it.Row()
		f := r.Get(col)
		if f.Null {
			continue
		}
		if len(units) == 0 || units[len(units)-1] != r.Unit {
			units = append(units, r.Unit)
			points = append(points, nil)
		}
		y := f.F
		if f.Kind == store.Integer {
			y = float64(f.I)
		}
		points[len(points)-1] = append(points[len(points)-1], SeriesPoint{X: contract.FormatTime(r.Time), Y: roundTo(y, 7)})
	}
	if err := it.Err(); err != nil {
		return httpError(http.StatusBadRequest, "Could not read "+table+"/"+column, err.Error(), "")
	}
	out := TimeSeries{Series: []string{}, Data: [][]SeriesPoint{}}
	for i, pts := range points {
		k := max(1, (len(pts)+target-1)/target)
		kept := []SeriesPoint{}
		for j := k - 1; j < len(pts); j += k { // rows k, 2k, ... (1-based)
			kept = append(kept, pts[j])
		}
		out.Series = append(out.Series, units[i])
		out.Data = append(out.Data, kept)
	}
	cache(c, 5)
	return c.JSON(http.StatusOK, out)
}

// MediaRate is one unit's dosing rates over the last 3 hours, mL/h.
type MediaRate struct {
	MediaRate    float64 `json:"mediaRate"`
	AltMediaRate float64 `json:"altMediaRate"`
}

// mediaRates is GET /experiments/<exp>/media_rates.
func (d *dataAPI) mediaRates(c echo.Context) error {
	const hours = 3
	now := d.s.now()
	it := d.db.Rows(store.Query{Table: store.DosingEvents, Experiments: []string{param(c, "exp")},
		From: now.Add(-hours * time.Hour), To: now})
	out := map[string]MediaRate{}
	all := MediaRate{}
	for it.Next() {
		r := it.Row()
		if r.Event != contract.AddMedia && r.Event != contract.AddAltMedia {
			continue
		}
		m := out[r.Unit]
		if r.Event == contract.AddMedia {
			m.MediaRate += r.Value / hours
			all.MediaRate += r.Value / hours
		} else {
			m.AltMediaRate += r.Value / hours
			all.AltMediaRate += r.Value / hours
		}
		out[r.Unit] = m
	}
	if err := it.Err(); err != nil {
		return internal("Could not read the dosing events.", err)
	}
	out["all"] = all
	cache(c, 5)
	return c.JSON(http.StatusOK, out)
}

// roundTo rounds to n decimal places, as Python's round does for these magnitudes.
func roundTo(f float64, n int) float64 {
	p := math.Pow10(n)
	if r := math.Round(f*p) / p; !math.IsInf(r, 0) && !math.IsNaN(r) {
		return r
	}
	return f
}

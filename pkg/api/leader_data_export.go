package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/api/task"
	"github.com/pioreactor/pioreactord/pkg/atomicfile"
	"github.com/pioreactor/pioreactord/pkg/store/export"
)

// minFreeBytes is the free space an export needs in its directory before it starts
// (docs/data.md, "CSV format").
const minFreeBytes = 64 << 20

// exportDir is where export zips go: exports/ beside the database (the reference uses
// $RUN_PIOREACTOR/exports; the dashboard only ever sees /exports/<file>).
func (d *dataAPI) exportDir() string { return filepath.Join(filepath.Dir(d.db.Path()), "exports") }

// datasets is GET /api/datasets/exportable.
func (d *dataAPI) datasets(c echo.Context) error {
	var out []export.Descriptor
	for _, ds := range export.Datasets() {
		if !d.s.listed(ds) {
			continue
		}
		out = append(out, ds.Descriptor())
	}
	cache(c, 60)
	return c.JSON(http.StatusOK, out)
}

// preview is GET /api/datasets/exportable/<name>/preview?n_rows=5.
func (d *dataAPI) preview(c echo.Context) error {
	n := 5
	if v := c.QueryParam("n_rows"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			return httpError(http.StatusBadRequest, "Invalid n_rows", "n_rows="+v+" is not an integer from 1 to 100.",
				"Send n_rows between 1 and 100.")
		}
	}
	ds, ok := export.Lookup(param(c, "name"))
	if !ok {
		return httpError(http.StatusNotFound, "Dataset not found", param(c, "name")+" is not an exportable dataset.",
			"List the datasets with GET /api/datasets/exportable.")
	}
	rows, err := export.Preview(d.db, ds, n)
	if err != nil {
		return internal("Could not read the dataset.", err)
	}
	return c.JSON(http.StatusOK, rows)
}

// ExportRequest is the body of POST /api/datasets/exportable/export. Units is our
// addition: the reference always exports every unit.
type ExportRequest struct {
	Datasets              []string `json:"datasets" required:"true"`
	Experiment            string   `json:"experiment" required:"true"`
	PartitionByUnit       bool     `json:"partition_by_unit" required:"true"`
	PartitionByExperiment bool     `json:"partition_by_experiment" required:"true"`
	StartTime             *string  `json:"start_time"`
	EndTime               *string  `json:"end_time"`
	Units                 []string `json:"units"`
}

// ExportResult is the result of a finished export task.
type ExportResult struct {
	Result   bool     `json:"result"`
	Filename string   `json:"filename"`
	Msg      string   `json:"msg"`
	Rows     int64    `json:"row_count"`
	Warnings []string `json:"warnings,omitempty"`
}

// ExportProgress is GET /api/datasets/exportable/export/progress: the running export, or
// the last one.
type ExportProgress struct {
	Running  bool    `json:"running"`
	Filename string  `json:"filename"`
	Fraction float64 `json:"fraction"` // rows written / rows counted at the start, ≤ 1
	export.Progress
}

// export is POST /api/datasets/exportable/export: 202, then a task that writes the zip.
func (d *dataAPI) export(c echo.Context) error {
	req, err := d.exportRequest(c)
	if err != nil {
		return err
	}
	return d.s.queue(c, func(ctx context.Context) (any, error) { return d.run(ctx, req) })
}

func invalidExport(cause string) *Error {
	return httpError(http.StatusBadRequest, "Invalid request body.", cause,
		"Send a JSON object with the required fields: datasets, experiment, partition_by_unit, partition_by_experiment.")
}

// exportRequest decodes and checks the body (docs/http.md, "Exports").
func (d *dataAPI) exportRequest(c echo.Context) (export.Request, error) {
	var body ExportRequest
	if err := decodeBody(c, &body, decodeOpts{}); err != nil {
		return export.Request{}, err
	}
	if len(body.Datasets) == 0 {
		return export.Request{}, invalidExport("Expected at least one dataset - at `$.datasets`")
	}
	if strings.TrimSpace(body.Experiment) == "" {
		return export.Request{}, invalidExport("Expected a non-empty experiment - at `$.experiment`")
	}
	req := export.Request{Datasets: body.Datasets, Experiment: body.Experiment, Units: body.Units,
		PartitionByUnit: body.PartitionByUnit, PartitionByExperiment: body.PartitionByExperiment,
		Location: time.Local, Version: d.s.cfg.Version}
	for _, b := range []struct {
		name string
		in   *string
		out  *time.Time
	}{{"start_time", body.StartTime, &req.Start}, {"end_time", body.EndTime, &req.End}} {
		if b.in == nil {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, *b.in)
		if err != nil {
			return export.Request{}, invalidExport(fmt.Sprintf("Expected a datetime with a timezone (Z or an offset), got %q - at `$.%s`", *b.in, b.name))
		}
		*b.out = t.UTC().Truncate(time.Millisecond)
	}
	if !req.Start.IsZero() && !req.End.IsZero() && req.Start.After(req.End) {
		return export.Request{}, invalidExport("start_time is after end_time")
	}
	return req, nil
}

// run writes one export: into a hidden temporary file renamed when complete (and synced,
// with its directory), one export at a time, after clearing the leftovers of failed ones
// and checking the free space.
func (d *dataAPI) run(ctx context.Context, req export.Request) (any, error) {
	d.exportMu.Lock()
	defer d.exportMu.Unlock()
	dir := d.exportDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create export directory: %w", err)
	}
	if old, err := filepath.Glob(filepath.Join(dir, ".*.tmp")); err == nil {
		for _, f := range old {
			_ = os.Remove(f)
		}
	}
	if free, err := freeBytes(dir); err == nil && free < minFreeBytes {
		return nil, &task.Failure{Message: "Not enough free disk space for an export.",
			Cause:       fmt.Sprintf("%s has %d MB free; an export needs at least %d MB.", dir, free>>20, minFreeBytes>>20),
			Remediation: "Free some disk space, then export again."}
	}
	req.Now = d.s.now()
	name, err := freeExportName(dir, req.Now)
	if err != nil {
		return nil, err
	}
	d.setProgress(ExportProgress{Running: true, Filename: name})
	defer func() {
		d.progMu.Lock()
		d.prog.Running = false
		d.progMu.Unlock()
	}()

	var m export.Manifest
	_, err = atomicfile.Write(filepath.Join(dir, name), 0o644, func(f io.Writer) (int64, error) {
		w := bufio.NewWriterSize(f, 1<<20)
		var err error
		m, err = export.Write(ctx, d.db, w, req, func(p export.Progress) {
			d.setProgress(ExportProgress{Running: true, Filename: name, Progress: p})
		})
		if err == nil {
			err = w.Flush()
		}
		return 0, err
	})
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", req.Experiment, err)
	}
	var rows int64
	for _, ds := range m.Datasets {
		rows += ds.RowCount
	}
	for _, w := range m.Warnings {
		d.s.log.Warn("export", "experiment", req.Experiment, "warning", w)
	}
	return ExportResult{Result: true, Filename: name, Msg: "Finished", Rows: rows, Warnings: m.Warnings}, nil
}

// freeExportName is export_<local YYYYmmddHHMMSS>.zip, or export_<…>_2.zip, _3, … when
// an export of the same second exists: two exports in one second used to overwrite each
// other. Exports run one at a time, so the name stays free until it is written.
func freeExportName(dir string, now time.Time) (string, error) {
	base := "export_" + now.In(time.Local).Format("20060102150405")
	for n := 1; n <= 1000; n++ {
		name := base + ".zip"
		if n > 1 {
			name = base + "_" + strconv.Itoa(n) + ".zip"
		}
		_, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
		if err != nil {
			return "", fmt.Errorf("export name: %w", err)
		}
	}
	return "", fmt.Errorf("export name: 1000 exports named %s already", base)
}

func (d *dataAPI) setProgress(p ExportProgress) {
	if p.RowsTotal > 0 {
		p.Fraction = min(1, float64(p.Rows)/float64(p.RowsTotal))
	}
	if !p.Running || (p.Datasets > 0 && p.Done == p.Datasets) {
		p.Fraction = 1
	}
	d.progMu.Lock()
	d.prog = p
	d.progMu.Unlock()
}

func (d *dataAPI) exportProgress(c echo.Context) error {
	d.progMu.Lock()
	p := d.prog
	d.progMu.Unlock()
	cache(c, 0)
	return c.JSON(http.StatusOK, p)
}

// download is GET /exports/<file>: a finished export zip, by base name only.
func (d *dataAPI) download(c echo.Context) error {
	name := param(c, "file")
	if name != filepath.Base(name) || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".zip") {
		return httpError(http.StatusNotFound, "Export not found", name+" is not an export file.", "")
	}
	path := filepath.Join(d.exportDir(), name)
	if _, err := os.Stat(path); err != nil {
		return httpError(http.StatusNotFound, "Export not found", name+" does not exist (exports are removed after a while).",
			"Export the data again.")
	}
	return c.Attachment(path, name)
}

// BackupResult is the result of a finished backup task.
type BackupResult struct {
	Result bool   `json:"result"`
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
}

// backup is POST /api/backup: a consistent copy of the leader's database, taken while it
// runs, to <database>.backup (the reference's backup_database default); 202 and a task.
func (d *dataAPI) backup(c echo.Context) error {
	return d.s.queue(c, func(context.Context) (any, error) {
		path := d.db.Path() + ".backup"
		n, err := d.db.BackupFile(path)
		if err != nil {
			return nil, err
		}
		d.s.log.Info("database backed up", "path", path, "bytes", n)
		return BackupResult{Result: true, Path: path, Bytes: n}, nil
	})
}

// freeBytes is the space available to us on dir's file system.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

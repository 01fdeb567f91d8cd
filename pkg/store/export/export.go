package export

import (
	"archive/zip"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// Request is one export (docs/http.md, "Exports", docs/data.md, "CSV format"), already validated.
type Request struct {
	Datasets   []string
	Experiment string
	// Units restricts the rows to these units; nil means all. (Our addition: the
	// reference exports every unit.)
	Units                                  []string
	PartitionByUnit, PartitionByExperiment bool
	// Start and End bound default_order_by, inclusive; zero leaves that end open.
	Start, End time.Time
	// Now is when the export started: file names and the manifest use it.
	Now time.Time
	// Location is the leader's zone, for the *_localtime columns and file names
	// (nil: UTC).
	Location *time.Location
	// Version is the pioreactor_version of the manifest.
	Version string
}

// Progress reports how far an export is. RowsTotal is counted before the export starts
// (rows written into the store meanwhile may make Rows exceed it).
type Progress struct {
	Dataset   string `json:"dataset"`
	Datasets  int    `json:"datasets"`
	Done      int    `json:"datasets_done"`
	Rows      int64  `json:"rows_written"`
	RowsTotal int64  `json:"rows_total"`
}

// Manifest is manifest.json, the export's table of contents.
type Manifest struct {
	SchemaVersion     int               `json:"schema_version"`
	PioreactorVersion string            `json:"pioreactor_version"`
	ExportCreatedAt   string            `json:"export_created_at"`
	Filters           ManifestFilters   `json:"filters"`
	SelectedDatasets  []string          `json:"selected_datasets"`
	Datasets          []ManifestDataset `json:"datasets"`
	// Warnings lists datasets skipped (unknown) or empty; not part of the reference's file.
	Warnings []string `json:"-"`
}

// ManifestFilters echoes the request.
type ManifestFilters struct {
	Experiment            string   `json:"experiment"`
	StartTime             *string  `json:"start_time"`
	EndTime               *string  `json:"end_time"`
	PartitionByUnit       bool     `json:"partition_by_unit"`
	PartitionByExperiment bool     `json:"partition_by_experiment"`
	Units                 []string `json:"pioreactor_units,omitempty"`
}

// ManifestDataset is one dataset's entry in the manifest.
type ManifestDataset struct {
	DatasetName     string              `json:"dataset_name"`
	DisplayName     string              `json:"display_name"`
	SchemaPath      string              `json:"schema_path"`
	CSVPaths        []string            `json:"csv_paths"`
	CSVFiles        []CSVFile           `json:"csv_files"`
	RowCount        int64               `json:"row_count"`
	PartitionValues map[string][]string `json:"partition_values"`
}

// CSVFile is one CSV of a dataset.
type CSVFile struct {
	Path      string            `json:"path"`
	RowCount  int64             `json:"row_count"`
	Partition map[string]string `json:"partition"`
}

// ErrNoDatasets means the request named no dataset at all.
var ErrNoDatasets = errors.New("no dataset requested")

// chunk is the size of the CSV buffers handed to the compressor.
const chunk = 256 << 10

// Write writes the export zip to w: for each requested dataset its folder, schema.json and
// CSV files, then manifest.json. Memory stays constant whatever the size: rows are read
// in chunks (store.Rows) and deflated on a second goroutine while the next rows are
// formatted. progress, if not nil, is called every chunk. Unknown datasets are skipped
// and listed in the manifest's Warnings.
func Write(ctx context.Context, src Source, w io.Writer, req Request, progress func(Progress)) (Manifest, error) {
	if len(req.Datasets) == 0 {
		return Manifest{}, ErrNoDatasets
	}
	loc := req.Location
	if loc == nil {
		loc = time.UTC
	}
	now := req.Now.In(loc)
	m := Manifest{SchemaVersion: 1, PioreactorVersion: req.Version,
		ExportCreatedAt: now.Format("2006-01-02T15:04:05.000000-07:00"),
		Filters: ManifestFilters{Experiment: req.Experiment, StartTime: bound(req.Start), EndTime: bound(req.End),
			PartitionByUnit: req.PartitionByUnit, PartitionByExperiment: req.PartitionByExperiment, Units: req.Units},
		SelectedDatasets: append([]string{}, req.Datasets...)}
	x := &exporter{ctx: ctx, src: src, req: req, fmt: formatter{loc: loc}, stamp: now.Format("20060102150405"),
		progress: progress}
	x.prog.Datasets = len(req.Datasets)
	if exp, err := src.Experiment(req.Experiment); err == nil {
		x.created, x.hasCreated = exp.CreatedAt, true
	} else if !errors.Is(err, store.ErrNotFound) {
		return Manifest{}, fmt.Errorf("export %s: %w", req.Experiment, err)
	}
	var sets []Dataset
	for _, name := range req.Datasets {
		d, ok := Lookup(name)
		if !ok {
			m.Warnings = append(m.Warnings, fmt.Sprintf("unknown dataset %q skipped", name))
			continue
		}
		sets = append(sets, d)
		x.prog.RowsTotal += x.estimate(d)
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, d := range sets {
		x.prog.Dataset = d.Name
		md, err := x.dataset(zw, d)
		if err != nil {
			return Manifest{}, fmt.Errorf("export %s of %s: %w", d.Name, req.Experiment, err)
		}
		if md.RowCount == 0 {
			m.Warnings = append(m.Warnings, fmt.Sprintf("dataset %s has no rows", d.Name))
		}
		m.Datasets = append(m.Datasets, md)
		x.prog.Done++
		x.report()
	}
	if err := writeJSON(zw, "manifest.json", m); err != nil {
		return Manifest{}, err
	}
	if err := zw.Close(); err != nil {
		return Manifest{}, fmt.Errorf("export %s: %w", req.Experiment, err)
	}
	return m, nil
}

func bound(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := contract.FormatTime(t)
	return &s
}

type exporter struct {
	ctx        context.Context
	src        Source
	req        Request
	fmt        formatter
	stamp      string // export start, local, for file names
	created    time.Time
	hasCreated bool
	progress   func(Progress)
	prog       Progress
}

func (x *exporter) report() {
	if x.progress != nil {
		x.progress(x.prog)
	}
}

// estimate counts the rows a store-table dataset will write (0 for the others: the small
// tables, and the activity data, whose merged rows are not known ahead).
func (x *exporter) estimate(d Dataset) int64 {
	if d.table == "" {
		return 0
	}
	n, err := x.src.Count(store.Query{Table: d.table, Experiments: []string{x.req.Experiment}, Units: x.req.Units,
		From: x.req.Start, To: x.req.End})
	if err != nil {
		return 0
	}
	return n
}

func (x *exporter) dataset(zw *zip.Writer, d Dataset) (ManifestDataset, error) {
	byUnit := d.HasUnit && (x.req.PartitionByUnit || d.AlwaysPartitionByUnit)
	byExp := d.HasExperiment && x.req.PartitionByExperiment
	md := ManifestDataset{DatasetName: d.Name, DisplayName: d.DisplayName, SchemaPath: d.Name + "/schema.json",
		CSVPaths: []string{}, CSVFiles: []CSVFile{},
		PartitionValues: map[string][]string{"experiments": {}, "pioreactor_units": {}}}
	if _, err := zw.Create(d.Name + "/"); err != nil {
		return md, err
	}
	if err := writeJSON(zw, md.SchemaPath, schemaOf(d)); err != nil {
		return md, err
	}
	f := filter{byUnit: byUnit}
	if d.HasExperiment {
		f.experiment = x.req.Experiment
	}
	if d.HasUnit {
		f.units = x.req.Units
	}
	if len(d.TimestampColumns) > 0 {
		f.from, f.to = x.req.Start, x.req.End
	}
	it, err := d.read(x.src, f)
	if err != nil {
		return md, err
	}
	expPart := "all_experiments"
	if byExp {
		expPart = x.req.Experiment
		md.PartitionValues["experiments"] = []string{x.req.Experiment}
	}
	var tsIdx []int
	for _, c := range d.TimestampColumns {
		tsIdx = append(tsIdx, slices.IndexFunc(d.Columns, func(col Column) bool { return col.Name == c }))
	}
	hours := d.HasExperiment && d.DefaultOrderBy != ""
	header := d.header()

	var out *entry
	var file *CSVFile
	var buf []byte
	unit := ""
	closeFile := func() error {
		if out == nil {
			return nil
		}
		if len(buf) > 0 {
			out.send(buf)
		}
		buf = nil
		err := out.close()
		out = nil
		md.CSVFiles = append(md.CSVFiles, *file)
		md.CSVPaths = append(md.CSVPaths, file.Path)
		return err
	}
	for it.Next() {
		if out == nil || (byUnit && it.Unit() != unit) {
			if err := closeFile(); err != nil {
				return md, err
			}
			unit = it.Unit()
			unitPart := "all_units"
			if byUnit {
				unitPart = unit
				md.PartitionValues["pioreactor_units"] = append(md.PartitionValues["pioreactor_units"], unit)
			}
			name := strings.ReplaceAll(fmt.Sprintf("%s-%s-%s-%s.csv", d.Name, expPart, unitPart, x.stamp), " ", "_")
			file = &CSVFile{Path: d.Name + "/" + name, Partition: map[string]string{"experiment": expPart, "pioreactor_unit": unitPart}}
			zf, err := zw.Create(file.Path)
			if err != nil {
				return md, err
			}
			out = startEntry(zf)
			buf = append(out.buf(), header...)
		}
		vals := it.Values()
		for i, v := range vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = x.fmt.appendCell(buf, v)
		}
		for _, i := range tsIdx {
			buf = append(buf, ',')
			if v := vals[i]; !v.Null && !v.T.IsZero() {
				buf = x.fmt.appendLocal(buf, v.T)
			}
		}
		if hours {
			buf = append(buf, ',')
			if x.hasCreated {
				buf = appendPyFloat(buf, round12(it.OrderTime().Sub(x.created).Hours()))
			}
		}
		buf = append(buf, '\n')
		file.RowCount++
		md.RowCount++
		x.prog.Rows++
		if len(buf) >= chunk {
			if err := out.failed(); err != nil {
				return md, err
			}
			out.send(buf)
			buf = out.buf()
			x.report()
			if err := x.ctx.Err(); err != nil {
				_ = closeFile()
				return md, err
			}
		}
	}
	if err := it.Err(); err != nil {
		_ = closeFile()
		return md, err
	}
	return md, closeFile()
}

// header is the CSV header line: the columns, a *_localtime twin per timestamp column,
// then hours_since_experiment_created when the dataset has one.
func (d Dataset) header() []byte {
	var names []string
	for _, c := range d.Columns {
		names = append(names, c.Name)
	}
	names = append(names, d.generated()...)
	return []byte(strings.Join(names, ",") + "\n")
}

func (d Dataset) generated() []string {
	var out []string
	for _, c := range d.TimestampColumns {
		out = append(out, c+"_localtime")
	}
	if d.HasExperiment && d.DefaultOrderBy != "" {
		out = append(out, "hours_since_experiment_created")
	}
	return out
}

type schemaColumn struct {
	Name        string `json:"name"`
	Generated   bool   `json:"generated"`
	Description string `json:"description,omitempty"`
	Unit        string `json:"unit,omitempty"`
}

func schemaOf(d Dataset) any {
	entity := []string{}
	if d.HasExperiment {
		entity = append(entity, "experiment")
	}
	if d.HasUnit {
		entity = append(entity, "pioreactor_unit")
	}
	var cols []schemaColumn
	for _, c := range d.Columns {
		cols = append(cols, schemaColumn{Name: c.Name, Description: c.Description, Unit: c.Unit})
	}
	for _, g := range d.generated() {
		desc := "Local time of " + strings.TrimSuffix(g, "_localtime") + " on the leader."
		if g == "hours_since_experiment_created" {
			desc = "Hours between the experiment's creation and " + d.DefaultOrderBy + "."
		}
		cols = append(cols, schemaColumn{Name: g, Generated: true, Description: desc})
	}
	return map[string]any{"schema_version": 1, "dataset_name": d.Name, "display_name": d.DisplayName,
		"description": nullable(d.Description), "source": d.Source, "table": nullable(d.Table),
		"query": nullable(d.Query), "default_order_by": nullable(d.DefaultOrderBy),
		"timestamp_columns": append([]string{}, d.TimestampColumns...), "entity_columns": entity,
		"generated_columns": append([]string{}, d.generated()...), "columns": cols}
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	f, err := zw.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// entry deflates one zip entry on its own goroutine, fed with full buffers, so that
// formatting and compression use both cores; a few buffers circulate between the two.
type entry struct {
	full chan []byte
	free chan []byte
	done chan error
	err  atomic.Pointer[error]
}

const buffers = 3

func startEntry(w io.Writer) *entry {
	e := &entry{full: make(chan []byte, buffers), free: make(chan []byte, buffers), done: make(chan error, 1)}
	for range buffers {
		e.free <- make([]byte, 0, chunk+4096)
	}
	go func() {
		var err error
		for b := range e.full {
			if err == nil {
				if _, err = w.Write(b); err != nil {
					e.err.Store(&err)
				}
			}
			e.free <- b[:0]
		}
		e.done <- err
	}()
	return e
}

func (e *entry) buf() []byte   { return <-e.free }
func (e *entry) send(b []byte) { e.full <- b }
func (e *entry) close() error  { close(e.full); return <-e.done }
func (e *entry) failed() error {
	if p := e.err.Load(); p != nil {
		return *p
	}
	return nil
}

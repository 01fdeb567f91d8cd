package export

import (
	"cmp"
	"encoding/base64"
	"slices"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// Source is the store as the exporter reads it; *store.DB implements it.
type Source interface {
	Rows(q store.Query) *store.Rows
	Count(q store.Query) (int64, error)
	Units(experiment string, t store.Table) ([]string, error)
	Experiment(name string) (store.Experiment, error)
	Experiments() ([]store.Experiment, error)
	UnitLabelRows(experiment string) ([]store.UnitLabel, error)
}

// filter is what one export asks of a dataset's rows.
type filter struct {
	experiment string   // "" for datasets without an experiment column
	units      []string // nil: every unit
	from, to   time.Time
	byUnit     bool // rows grouped by unit (partitioned by unit)
}

// iterator yields a dataset's rows in export order. Values has one Field per column;
// a Field's T is what the generated *_localtime column shows (for the rollup's minute
// text too).
type iterator interface {
	Next() bool
	Values() []store.Field
	Unit() string
	OrderTime() time.Time // the default_order_by value, for hours_since_experiment_created
	Err() error
}

// tableIter reads one store table.
type tableIter struct {
	rows     *store.Rows
	cols     []store.Column
	vals     []store.Field
	settings bool // add json_settings, the decoded settings column
	row      *store.Row
}

func newTableIter(src Source, t store.Table, f filter, settings bool) *tableIter {
	q := store.Query{Table: t, Units: f.units, From: f.from, To: f.to, ByUnit: f.byUnit}
	if f.experiment != "" {
		q.Experiments = []string{f.experiment}
	}
	it := &tableIter{rows: src.Rows(q), cols: t.Columns(), settings: settings}
	it.vals = make([]store.Field, len(it.cols), len(it.cols)+1)
	return it
}

func (it *tableIter) Next() bool {
	if !it.rows.Next() {
		return false
	}
	it.row = it.rows.Row()
	it.vals = it.vals[:len(it.cols)]
	for i, c := range it.cols {
		it.vals[i] = it.row.Get(c)
	}
	if it.settings {
		js := store.Field{Kind: store.Text, Null: true}
		if b, err := base64.StdEncoding.DecodeString(it.row.Data); err == nil {
			js = store.Field{Kind: store.Text, S: string(b)}
		}
		it.vals = append(it.vals, js)
	}
	return true
}

func (it *tableIter) Values() []store.Field { return it.vals }
func (it *tableIter) Unit() string          { return it.row.Unit }
func (it *tableIter) OrderTime() time.Time  { return it.row.Time }
func (it *tableIter) Err() error            { return it.rows.Err() }

// sliceIter yields rows built in memory (the small OLTP tables).
type sliceIter struct {
	rows  [][]store.Field
	units []string
	times []time.Time
	i     int
}

func (it *sliceIter) Next() bool            { it.i++; return it.i <= len(it.rows) }
func (it *sliceIter) Values() []store.Field { return it.rows[it.i-1] }
func (it *sliceIter) Unit() string          { return it.units[it.i-1] }
func (it *sliceIter) OrderTime() time.Time  { return it.times[it.i-1] }
func (it *sliceIter) Err() error            { return nil }

func (it *sliceIter) add(unit string, at time.Time, vals ...store.Field) {
	it.rows, it.units, it.times = append(it.rows, vals), append(it.units, unit), append(it.times, at)
}

// sortBy orders the rows by unit (when grouped by unit) then time, keeping ties stable.
func (it *sliceIter) sortBy(byUnit bool) {
	idx := make([]int, len(it.rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if byUnit {
			if c := cmp.Compare(it.units[a], it.units[b]); c != 0 {
				return c
			}
		}
		return it.times[a].Compare(it.times[b])
	})
	rows, units, times := it.rows, it.units, it.times
	it.rows, it.units, it.times = nil, nil, nil
	for _, i := range idx {
		it.add(units[i], times[i], rows[i]...)
	}
}

func inBounds(t time.Time, f filter) bool {
	return (f.from.IsZero() || !t.Before(f.from)) && (f.to.IsZero() || !t.After(f.to))
}

func text(s string) store.Field { return store.Field{Kind: store.Text, S: s} }

func stamp(t time.Time) store.Field {
	return store.Field{Kind: store.Timestamp, T: t, Null: t.IsZero()}
}

func labelsDataset() Dataset {
	return Dataset{Name: "pioreactor_unit_labels", DisplayName: "Pioreactor unit labels",
		Description: "Labels given to units in the experiment.", Source: "app", Table: "pioreactor_unit_labels",
		HasExperiment: true, HasUnit: true, DefaultOrderBy: "created_at", TimestampColumns: []string{"created_at"},
		Columns: []Column{column("experiment", store.Text), column("pioreactor_unit", store.Text),
			column("label", store.Text), column("created_at", store.Timestamp)},
		read: func(src Source, f filter) (iterator, error) {
			labels, err := src.UnitLabelRows(f.experiment)
			if err != nil {
				return nil, err
			}
			it := &sliceIter{}
			for _, l := range labels {
				if (f.units == nil || slices.Contains(f.units, l.Unit)) && inBounds(l.CreatedAt, f) {
					it.add(l.Unit, l.CreatedAt, text(l.Experiment), text(l.Unit), text(l.Label), stamp(l.CreatedAt))
				}
			}
			it.sortBy(f.byUnit)
			return it, nil
		}}
}

func experimentsDataset() Dataset {
	return Dataset{Name: "experiments", DisplayName: "Experiments", Description: "Every experiment.",
		Source: "app", Table: "experiments", DefaultOrderBy: "created_at", TimestampColumns: []string{"created_at"},
		Columns: []Column{column("experiment", store.Text), column("created_at", store.Timestamp),
			column("description", store.Text)},
		read: func(src Source, f filter) (iterator, error) {
			exps, err := src.Experiments()
			if err != nil {
				return nil, err
			}
			it := &sliceIter{}
			for _, e := range exps {
				if inBounds(e.CreatedAt, f) {
					it.add("", e.CreatedAt, text(e.Name), stamp(e.CreatedAt), text(e.Description))
				}
			}
			it.sortBy(false)
			return it, nil
		}}
}

// calibrationsDataset is the legacy calibrations table, which nothing writes any more
// (calibrations are YAML files on the units): its export is the folder and schema only.
func calibrationsDataset() Dataset {
	return Dataset{Name: "calibrations", DisplayName: "Calibrations (legacy)",
		Description: "Calibrations stored by older versions.", Source: "app", Table: "calibrations",
		HasUnit: true, DefaultOrderBy: "created_at", TimestampColumns: []string{"created_at", "set_to_current_at"},
		Columns: []Column{column("pioreactor_unit", store.Text), column("created_at", store.Timestamp),
			column("type", store.Text), column("data", store.Text), column("name", store.Text),
			column("is_current", store.Integer), column("set_to_current_at", store.Timestamp)},
		read: func(Source, filter) (iterator, error) { return &sliceIter{}, nil }}
}

package export

import (
	"slices"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// pioreactor_unit_activity_data is, in the reference, a wide table kept up by triggers:
// one row per (experiment, unit, timestamp) with the value each source table wrote at that
// instant (docs/data.md, "Derived activity"). Here it is computed at export time by merging the source
// tables of one unit in time order, which yields the same rows without storing them twice.

// Columns of the activity row after experiment, pioreactor_unit, timestamp.
const (
	aOD          = 0
	aFused       = 1
	aFiltered    = 2
	aTemperature = 3
	aGrowth      = 4
	aRPM         = 5
	aLEDA        = 6 // LEDs A..D: 6..9
	aAddMedia    = 10
	aRemoveWaste = 11
	aAddAltMedia = 12
	aColumns     = 13
)

var activityNames = []string{"od_reading", "od_fused", "normalized_od_reading", "temperature_c",
	"growth_rate", "measured_rpm", "led_a_intensity_update", "led_b_intensity_update",
	"led_c_intensity_update", "led_d_intensity_update", "add_media_ml", "remove_waste_ml", "add_alt_media_ml"}

// activityTables feed the activity row, each filling its column(s) from a row. Where two
// rows of a table share an instant the later one wins, as the reference's upsert.
var activityTables = []struct {
	table store.Table
	apply func(w *[aColumns]store.Field, r *store.Row)
}{
	{store.ODReadings, func(w *[aColumns]store.Field, r *store.Row) { w[aOD] = real(r.Value) }},
	{store.ODReadingsFused, func(w *[aColumns]store.Field, r *store.Row) { w[aFused] = real(r.Value) }},
	{store.ODReadingsFiltered, func(w *[aColumns]store.Field, r *store.Row) { w[aFiltered] = real(r.Value) }},
	{store.TemperatureReadings, func(w *[aColumns]store.Field, r *store.Row) { w[aTemperature] = real(r.Value) }},
	{store.GrowthRates, func(w *[aColumns]store.Field, r *store.Row) { w[aGrowth] = real(r.Value) }},
	{store.StirringRates, func(w *[aColumns]store.Field, r *store.Row) { w[aRPM] = real(r.Value) }},
	{store.LEDChangeEvents, func(w *[aColumns]store.Field, r *store.Row) {
		if len(r.Channel) == 1 && r.Channel[0] >= 'A' && r.Channel[0] <= 'D' {
			w[aLEDA+int(r.Channel[0]-'A')] = real(r.Value)
		}
	}},
	{store.DosingEvents, func(w *[aColumns]store.Field, r *store.Row) {
		switch r.Event {
		case "add_media":
			w[aAddMedia] = real(r.Value)
		case "remove_waste":
			w[aRemoveWaste] = real(r.Value)
		case "add_alt_media":
			w[aAddAltMedia] = real(r.Value)
		}
	}},
}

func real(f float64) store.Field { return store.Field{Kind: store.Real, F: f} }

var null = store.Field{Kind: store.Real, Null: true}

func activityDataset() Dataset {
	cols := []Column{column("experiment", store.Text), column("pioreactor_unit", store.Text),
		column("timestamp", store.Timestamp)}
	for _, n := range activityNames {
		cols = append(cols, column(n, store.Real))
	}
	return Dataset{Name: "pioreactor_unit_activity_data", DisplayName: "Pioreactor unit activity data",
		Description: "Every reading and event of a unit, one row per instant.", Source: "app",
		Table: "pioreactor_unit_activity_data", HasExperiment: true, HasUnit: true, DefaultOrderBy: "timestamp",
		TimestampColumns: []string{"timestamp"}, AlwaysPartitionByUnit: true, Columns: cols,
		read: func(src Source, f filter) (iterator, error) { return newActivityIter(src, f) }}
}

// activityIter merges, unit by unit, the activity tables into wide rows.
type activityIter struct {
	src   Source
	f     filter
	units []seriesKey // what is left to read
	exp   string
	unit  string
	its   []*store.Rows
	cur   []*store.Row // current row of each table; nil when exhausted
	wide  [aColumns]store.Field
	at    time.Time
	vals  []store.Field
	err   error
}

// seriesKey is one (experiment, unit) whose activity rows are read together.
type seriesKey struct{ exp, unit string }

func newActivityIter(src Source, f filter) (*activityIter, error) {
	it := &activityIter{src: src, f: f}
	exps := []string{f.experiment}
	if f.experiment == "" { // a preview: every experiment
		all, err := src.Experiments()
		if err != nil {
			return nil, err
		}
		exps = nil
		for _, e := range all {
			exps = append(exps, e.Name)
		}
		slices.Sort(exps)
	}
	for _, exp := range exps {
		var units []string
		for _, t := range activityTables {
			us, err := src.Units(exp, t.table)
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				if !slices.Contains(units, u) && (f.units == nil || slices.Contains(f.units, u)) {
					units = append(units, u)
				}
			}
		}
		slices.Sort(units)
		for _, u := range units {
			it.units = append(it.units, seriesKey{exp, u})
		}
	}
	return it, nil
}

func (it *activityIter) Next() bool {
	for it.err == nil {
		if it.its == nil {
			if len(it.units) == 0 {
				return false
			}
			it.open(it.units[0])
			it.units = it.units[1:]
			continue
		}
		// the earliest current instant across the tables
		var at int64 = -1
		for _, r := range it.cur {
			if r != nil && (at < 0 || r.Time.UnixMicro() < at) {
				at = r.Time.UnixMicro()
			}
		}
		if at < 0 {
			for _, rows := range it.its {
				if err := rows.Err(); err != nil {
					it.err = err
				}
			}
			it.its, it.cur = nil, nil
			continue
		}
		for i := range it.wide {
			it.wide[i] = null
		}
		for i, t := range activityTables {
			for it.cur[i] != nil && it.cur[i].Time.UnixMicro() == at {
				it.at = it.cur[i].Time
				t.apply(&it.wide, it.cur[i])
				it.cur[i] = it.advance(i)
			}
		}
		it.vals = append(it.vals[:0], text(it.exp), text(it.unit), stamp(it.at))
		it.vals = append(it.vals, it.wide[:]...)
		return true
	}
	return false
}

func (it *activityIter) open(k seriesKey) {
	it.exp, it.unit = k.exp, k.unit
	it.its = make([]*store.Rows, len(activityTables))
	it.cur = make([]*store.Row, len(activityTables))
	for i, t := range activityTables {
		it.its[i] = it.src.Rows(store.Query{Table: t.table, Experiments: []string{k.exp},
			Units: []string{k.unit}, From: it.f.from, To: it.f.to})
		it.cur[i] = it.advance(i)
	}
}

// advance moves table i on; the row it returns stays valid until the next advance of i.
func (it *activityIter) advance(i int) *store.Row {
	if !it.its[i].Next() {
		return nil
	}
	r := *it.its[i].Row()
	return &r
}

func (it *activityIter) Values() []store.Field { return it.vals }
func (it *activityIter) Unit() string          { return it.unit }
func (it *activityIter) OrderTime() time.Time  { return it.at }
func (it *activityIter) Err() error            { return it.err }

// The rollup view: activity rows averaged (readings) and summed (dosing) per unit and
// minute, the minute written as YYYY-MM-DD HH:MM:00.
var rollupNames = []string{"avg_od_reading", "avg_od_fused", "avg_normalized_od_reading", "avg_temperature_c",
	"avg_growth_rate", "avg_measured_rpm", "sum_add_media_ml", "sum_remove_waste_ml", "sum_add_alt_media_ml"}

// rollupOf maps each rollup column to its activity column.
var rollupOf = [rollupColumns]int{aOD, aFused, aFiltered, aTemperature, aGrowth, aRPM, aAddMedia, aRemoveWaste, aAddAltMedia}

const (
	rollupColumns  = 9
	rollupAverages = 6 // the first six are averages, the rest sums
)

func rollupDataset() Dataset {
	cols := []Column{column("experiment", store.Text), column("pioreactor_unit", store.Text),
		column("timestamp", store.Text)}
	for _, n := range rollupNames {
		cols = append(cols, column(n, store.Real))
	}
	cols[2].Description = "UTC minute (YYYY-MM-DD HH:MM:00)."
	return Dataset{Name: "pioreactor_unit_activity_data_rollup", DisplayName: "Pioreactor unit activity data, per minute",
		Description: "Activity data averaged (readings) and summed (dosing) per minute.", Source: "app",
		Table: "pioreactor_unit_activity_data_rollup", HasExperiment: true, HasUnit: true, DefaultOrderBy: "timestamp",
		TimestampColumns: []string{"timestamp"}, AlwaysPartitionByUnit: true, Columns: cols,
		read: func(src Source, f filter) (iterator, error) {
			a, err := newActivityIter(src, f)
			if err != nil {
				return nil, err
			}
			return &rollupIter{a: a}, nil
		}}
}

type rollupIter struct {
	a       *activityIter
	pending bool // a holds a row not yet folded in
	exp     string
	unit    string
	minute  time.Time
	sum     [rollupColumns]float64
	n       [rollupColumns]int
	vals    []store.Field
}

func (it *rollupIter) Next() bool {
	if !it.pending && !it.a.Next() {
		return false
	}
	it.exp, it.unit, it.minute = it.a.exp, it.a.Unit(), it.a.OrderTime().UTC().Truncate(time.Minute)
	it.sum, it.n = [rollupColumns]float64{}, [rollupColumns]int{}
	for {
		w := it.a.Values()[3:]
		for i, col := range rollupOf {
			if !w[col].Null {
				it.sum[i] += w[col].F
				it.n[i]++
			}
		}
		if it.pending = it.a.Next(); !it.pending || it.a.exp != it.exp || it.a.Unit() != it.unit ||
			!it.a.OrderTime().UTC().Truncate(time.Minute).Equal(it.minute) {
			break
		}
	}
	it.vals = append(it.vals[:0], text(it.exp), text(it.unit),
		store.Field{Kind: store.Text, S: it.minute.Format("2006-01-02 15:04:00"), T: it.minute})
	for i := range rollupOf {
		switch {
		case it.n[i] == 0:
			it.vals = append(it.vals, null)
		case i < rollupAverages:
			it.vals = append(it.vals, real(it.sum[i]/float64(it.n[i])))
		default:
			it.vals = append(it.vals, real(it.sum[i]))
		}
	}
	return true
}

func (it *rollupIter) Values() []store.Field { return it.vals }
func (it *rollupIter) Unit() string          { return it.unit }
func (it *rollupIter) OrderTime() time.Time  { return it.minute }
func (it *rollupIter) Err() error            { return it.a.Err() }

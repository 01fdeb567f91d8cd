package store_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// odDay fills db with a day of 5-second OD readings from units units (one channel each),
// in time order and in batches of batch rows, as the ingester writes them. It returns the
// number of rows and the end of the day.
func odDay(tb testing.TB, db *store.DB, units, batch int) (int, time.Time) {
	tb.Helper()
	const step = 5 * time.Second
	n := int(24 * time.Hour / step)
	rows := make([]store.Row, 0, batch)
	total := 0
	for i := range n {
		for u := range units {
			rows = append(rows, store.Row{Table: store.ODReadings, Experiment: "exp1",
				Unit: fmt.Sprintf("pio%02d", u+1), Channel: "2", Angle: 90,
				Time:  t0.Add(time.Duration(i)*step + time.Duration(u)*time.Millisecond),
				Value: 0.05 * math.Exp(float64(i)/float64(n)*3) * (1 + 0.01*math.Sin(float64(i*u)))})
			if len(rows) == batch {
				if _, err := db.Insert(rows); err != nil {
					tb.Fatal(err)
				}
				total += len(rows)
				rows = rows[:0]
			}
		}
	}
	if _, err := db.Insert(rows); err != nil {
		tb.Fatal(err)
	}
	return total + len(rows), t0.Add(time.Duration(n-1)*step + time.Second)
}

// BenchmarkChart24hOf16Units is the chart query of a full day of 5-second OD readings
// from 16 units (276,480 rows) downsampled to the dashboard's 720 points per series.
// Target: < 100 ms per query.
func BenchmarkChart24hOf16Units(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "chart.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, end := odDay(b, db, 16, 5000)
	q := store.ChartQuery{Table: store.ODReadings, Experiment: "exp1", After: end.Add(-24 * time.Hour),
		Until: end, TargetPoints: 720}
	b.ResetTimer()
	for b.Loop() {
		series, err := db.Chart(q)
		if err != nil || len(series) != 16 {
			b.Fatalf("Chart = %d series, %v", len(series), err)
		}
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
}

// BenchmarkBytesPerRow reports the file size per stored OD reading after a day of 16
// units written as the ingester writes (batches of 100 rows, one transaction each),
// counting every page of the file: keys, values, branch pages, free pages.
// Target: < 40 bytes/row.
func BenchmarkBytesPerRow(b *testing.B) {
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "size.db")
		db, err := store.Open(path, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows, _ := odDay(b, db, 16, 100)
		sp, err := db.Space()
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(sp.AllocatedBytes)/float64(rows), "bytes/row")
		b.ReportMetric(float64(sp.AllocatedBytes-sp.ReclaimableBytes)/float64(rows), "used-bytes/row")
		b.ReportMetric(float64(sp.FileBytes)/float64(rows), "file-bytes/row")
		b.ReportMetric(float64(rows), "rows")
	}
}

// BenchmarkInsert is the raw write rate of the store, batches of 5000 rows.
func BenchmarkInsert(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "insert.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows := make([]store.Row, 5000)
	i := 0
	for b.Loop() {
		for j := range rows {
			rows[j] = store.Row{Table: store.ODReadings, Experiment: "exp1", Unit: fmt.Sprintf("pio%02d", j%16),
				Channel: "1", Angle: 90, Time: t0.Add(time.Duration(i) * time.Millisecond), Value: float64(i)}
			i++
		}
		if _, err := db.Insert(rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "rows/s")
}

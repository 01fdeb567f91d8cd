package export_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/store/export"
)

// childEnv makes the test binary run one export as TestExportChild, in its own process
// so that its peak RSS is the exporter's alone.
const childEnv = "PIOREACTORD_EXPORT_CHILD_DB"

// BenchmarkExport10M exports 10 million OD readings (16 units, 5-second readings over
// 36 days) to a zipped CSV. rows/s and peak-RSS-MB are the child process's.
// Targets: > 500,000 rows/s, peak RSS < 100 MB.
func BenchmarkExport10M(b *testing.B) {
	const rows = 10_000_000
	path := filepath.Join(b.TempDir(), "10m.db")
	fill(b, path, rows, 16)
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExportChild$", "-test.v")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		var n int64
		var secs, rssKB, zipMB float64
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "EXPORT "); ok {
				if _, err := fmt.Sscanf(rest, "rows=%d secs=%g hwm_kb=%g zip_mb=%g", &n, &secs, &rssKB, &zipMB); err != nil {
					b.Fatalf("parse %q: %v", rest, err)
				}
			}
		}
		if n != rows {
			b.Fatalf("exported %d rows, want %d\n%s", n, rows, out)
		}
		b.ReportMetric(float64(n)/secs, "rows/s")
		b.ReportMetric(rssKB/1024, "peak-RSS-MB")
		b.ReportMetric(zipMB, "zip-MB")
	}
}

// TestExportChild is the child of BenchmarkExport10M; it does nothing in a normal run.
func TestExportChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by BenchmarkExport10M")
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out, err := os.Create(filepath.Join(filepath.Dir(path), "export.zip"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	start := time.Now()
	m, err := export.Write(context.Background(), db, w, export.Request{Datasets: []string{"od_readings"},
		Experiment: "exp1", Now: time.Now(), Location: time.Local}, nil)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	fi, _ := os.Stat(out.Name())
	fmt.Printf("EXPORT rows=%d secs=%g hwm_kb=%d zip_mb=%g\n", m.Datasets[0].RowCount, secs, peakRSS(t), float64(fi.Size())/1e6)
}

// peakRSS is VmHWM of this process, in kB.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

// fill writes n OD readings from units units at 5-second intervals.
func fill(tb testing.TB, path string, n, units int) {
	tb.Helper()
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateExperiment(store.Experiment{Name: "exp1", CreatedAt: t0}); err != nil {
		tb.Fatal(err)
	}
	batch := make([]store.Row, 0, 100_000)
	for i := range n {
		u := i % units
		batch = append(batch, store.Row{Table: store.ODReadings, Experiment: "exp1", Unit: fmt.Sprintf("pio%02d", u+1),
			Channel: "2", Angle: 90, Time: t0.Add(time.Duration(i/units)*5*time.Second + time.Duration(u)*time.Millisecond),
			Value: 0.05 + float64(i%10007)*1e-5})
		if len(batch) == cap(batch) {
			if _, err := db.Insert(batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if _, err := db.Insert(batch); err != nil {
		tb.Fatal(err)
	}
}

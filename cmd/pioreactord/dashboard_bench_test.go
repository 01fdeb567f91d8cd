package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// The dashboard's figures (issue 11): a harness, not timed tests. Each benchmark measures
// once (run them with -benchtime 1x, as `make ui-bench` does), reports with b.ReportMetric
// and prints one line. Nothing here fails on a slow figure.
//
//	go test -run '^$' -bench Dashboard -benchtime 1x -v ./cmd/pioreactord/

// benchCluster starts `pioreactord --sim` in-process for a benchmark (startCluster) and waits
// until its simulated workers are assigned.
func benchCluster(b *testing.B, extra ...string) *simCluster {
	b.Helper()
	c := startCluster(b, extra...)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(c.out.String(), "simulated workers assigned") {
			return c
		}
	}
	b.Fatalf("the simulated workers were not assigned:\n%s", c.out.String())
	return nil
}

// units names n simulated workers as the daemon does: pio01, pio02, …
func units(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("pio%02d", i+1)
	}
	return out
}

// seedDay writes 24 h of data for units into a fresh leader store at dataDir, before the
// daemon opens it: the experiment `demo` created 24 h ago and, per unit, a reading every 5 s
// of OD (channel 2, 90°), normalised OD and growth rate, and a temperature and a simulation
// truth every minute. That is what --sim would have stored in a day (its OD interval is 5 s),
// written directly because running 16 simulated units for a day, even sped up, takes far
// longer than writing the rows. Returns the number of rows.
func seedDay(b *testing.B, dataDir string, names []string) int {
	b.Helper()
	db, err := store.Open(filepath.Join(dataDir, "pioreactor.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := time.Now()
	start := end.Add(-24 * time.Hour)
	if err := db.CreateExperiment(store.Experiment{Name: demoExperiment, CreatedAt: start, Description: "24 h seeded for the dashboard benchmark"}); err != nil {
		b.Fatal(err)
	}
	total := 0
	rows := make([]store.Row, 0, 20000)
	flush := func() {
		if _, err := db.Insert(rows); err != nil {
			b.Fatal(err)
		}
		total += len(rows)
		rows = rows[:0]
	}
	const step = 5 * time.Second
	n := int(24 * time.Hour / step)
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		hours := float64(i) * step.Hours()
		for u, unit := range names {
			phase := float64(u) / float64(len(names))
			rate := 0.25 + 0.1*math.Sin(hours/4+phase)
			od := 0.05 * math.Exp(hours*0.2*(1+0.1*phase))
			noise := 1 + 0.01*math.Sin(float64(i*(u+3)))
			at := at.Add(time.Duration(u) * time.Millisecond)
			rows = append(rows,
				store.Row{Table: store.ODReadings, Experiment: demoExperiment, Unit: unit, Time: at, Channel: "2", Angle: 90, Value: od * noise},
				store.Row{Table: store.ODReadingsFiltered, Experiment: demoExperiment, Unit: unit, Time: at, Value: od / 0.05},
				store.Row{Table: store.GrowthRates, Experiment: demoExperiment, Unit: unit, Time: at, Value: rate})
			if i%12 == 0 {
				temp := 30 + 0.3*math.Sin(hours+phase)
				truth := [store.TruthColumns]float64{od, rate, temp, temp + 2, 15, 500, 0}
				rows = append(rows,
					store.Row{Table: store.TemperatureReadings, Experiment: demoExperiment, Unit: unit, Time: at, Value: temp},
					store.Row{Table: store.SimulationTruth, Experiment: demoExperiment, Unit: unit, Time: at, Truth: truth})
			}
		}
		if len(rows) >= 15000 {
			flush()
		}
	}
	flush()
	return total
}

// enabledCharts counts the overview's charts: the chart descriptors that [ui.overview.charts]
// turns on.
func enabledCharts(b *testing.B, c *simCluster) int {
	b.Helper()
	var conf map[string]map[string]string
	var charts []struct {
		Key string `json:"chart_key"`
	}
	getJSON(b, c, "/api/config/shared?format=json", &conf)
	getJSON(b, c, "/api/charts/descriptors", &charts)
	n := 0
	for _, ch := range charts {
		if v := conf["ui.overview.charts"][ch.Key]; v == "1" || v == "true" {
			n++
		}
	}
	return n
}

func getJSON(b *testing.B, c *simCluster, path string, v any) {
	b.Helper()
	resp, err := http.Get("http://" + c.http + path)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		b.Fatalf("GET %s: %v", path, err)
	}
}

// drawnAt is a page condition: every chart of the overview (want of them) names all the units
// in its data-unit-points; its value is performance.now(), milliseconds since navigation start.
func drawnAt(want int, names []string) string {
	return fmt.Sprintf(`(() => {
		const cs = [...document.querySelectorAll('section[data-chart]')];
		if (cs.length < %d) return null;
		const all = %s;
		for (const c of cs) {
			let v; try { v = JSON.parse(c.getAttribute('data-unit-points') || '{}'); } catch { return null; }
			if (!all.every((u) => v[u] > 0)) return null;
		}
		return performance.now(); })()`, want, mustJSON(names))
}

// BenchmarkDashboardOverview16Units24h: time from navigation start to an overview whose every
// enabled chart draws all 16 units, with 24 h of data in the store (seedDay). Cold is the
// first load of a fresh browser profile; warm is a reload (assets from the cache).
func BenchmarkDashboardOverview16Units24h(b *testing.B) {
	chromiumPath(b)
	names := units(16)
	dir := b.TempDir()
	t0 := time.Now()
	rows := seedDay(b, dir, names)
	b.Logf("seeded %d rows in %s", rows, time.Since(t0).Round(time.Millisecond))
	c := benchCluster(b, "--units", "16", "--data-dir", dir)
	want := enabledCharts(b, c)
	page := newTab(b, c)

	var cold, warm float64
	for i, reload := range []bool{false, true} {
		page.do("navigate", chromedp.Navigate(page.base+"/overview"))
		if reload {
			page.do("reload", chromedp.Reload())
		}
		var ms float64
		if err := json.Unmarshal(page.waitJS("every chart drawing 16 units", drawnAt(want, names)), &ms); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			cold = ms
		} else {
			warm = ms
		}
	}
	b.ReportMetric(cold, "cold-ms")
	b.ReportMetric(warm, "warm-ms")
	b.ReportMetric(float64(want), "charts")
	fmt.Printf("dashboard: overview of 16 units × 24 h (%d rows, %d charts) drawn %.0f ms after navigation start (cold), %.0f ms (reload); target < 1500 ms\n",
		rows, want, cold, warm)
}

// BenchmarkDashboardFirstLoadBytes: the JS and CSS the overview's first load transfers. The
// browser's figure is what Chromium received (it accepts br, so brotli); the gzip figure is
// the same files fetched again with Accept-Encoding: gzip only, as a browser without brotli
// would.
func BenchmarkDashboardFirstLoadBytes(b *testing.B) {
	chromiumPath(b)
	c := benchCluster(b, "--units", "3")
	page := newTab(b, c)
	page.do("open the overview", chromedp.Navigate(page.base+"/overview"))
	want := enabledCharts(b, c)
	page.waitJS("the overview's charts", fmt.Sprintf(`document.querySelectorAll('section[data-chart][data-status="ready"]').length >= %d`, want))
	var entries []struct {
		Name    string  `json:"name"`
		Encoded float64 `json:"encodedBodySize"`
		Decoded float64 `json:"decodedBodySize"`
	}
	raw := page.eval(`JSON.stringify(performance.getEntriesByType('resource').map((e) => ({name: e.name, encodedBodySize: e.encodedBodySize, decodedBodySize: e.decodedBodySize})))`)
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		b.Fatal(err)
	}
	var browser, decoded, gzipped float64
	var files []string
	for _, e := range entries {
		path := strings.SplitN(strings.TrimPrefix(e.Name, page.base), "?", 2)[0]
		if !strings.HasSuffix(path, ".js") && !strings.HasSuffix(path, ".css") {
			continue
		}
		browser += e.Encoded
		decoded += e.Decoded
		gzipped += float64(gzipSize(b, page.base+path))
		files = append(files, filepath.Base(path))
	}
	slices.Sort(files)
	b.ReportMetric(gzipped/1024, "gzip-KB")
	b.ReportMetric(browser/1024, "transferred-KB")
	b.ReportMetric(decoded/1024, "raw-KB")
	fmt.Printf("dashboard: overview first load: %d JS+CSS files, %.1f KB gzipped (%.1f KB as Chromium received them, %.1f KB uncompressed); target < 250 KB gzipped: %s\n",
		len(files), gzipped/1024, browser/1024, decoded/1024, strings.Join(files, " "))
}

// gzipSize is the size of a file as the daemon sends it to a client that accepts gzip only.
func gzipSize(b *testing.B, url string) int {
	b.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req) // the raw body: no transparent decompression
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.Header.Get("Content-Encoding") != "gzip" {
		b.Logf("%s is sent without gzip (%q)", url, resp.Header.Get("Content-Encoding"))
	}
	return int(n)
}

// BenchmarkDashboardHeap16Units: the browser's JS heap while the overview shows live data
// from 16 simulated units at --speed 60, sampled after a garbage collection every 10
// simulated minutes. PIOREACTORD_BENCH_SIM_HOURS sets how long (default 1 simulated hour =
// 1 wall minute; the figure is 10 h = 10 wall minutes).
func BenchmarkDashboardHeap16Units(b *testing.B) {
	chromiumPath(b)
	hours := 1.0
	if v := os.Getenv("PIOREACTORD_BENCH_SIM_HOURS"); v != "" {
		h, err := strconv.ParseFloat(v, 64)
		if err != nil || h <= 0 {
			b.Fatalf("PIOREACTORD_BENCH_SIM_HOURS=%q: want a positive number of hours", v)
		}
		hours = h
	}
	const speed = 60
	names := units(16)
	c := benchCluster(b, "--units", "16", "--speed", strconv.Itoa(speed), "--demo")
	page := newTab(b, c)
	page.open("/overview", "overview")
	page.unitPoints("optical_density", names, nil)

	sample := func() (used, total float64) {
		ctx, cancel := context.WithTimeout(page.ctx, browserWait)
		defer cancel()
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
				return err
			}
			h, err := chromedp.Call(ctx, runtime.GetHeapUsage, cdp.Empty{})
			used, total = h.UsedSize, h.TotalSize
			return err
		}))
		if err != nil {
			b.Fatalf("heap usage: %v", err)
		}
		return used, total
	}
	const mb = 1 << 20
	start := time.Now()
	every := 10 * time.Minute / speed // 10 simulated minutes
	var first, last, peak float64
	for i := 0; ; i++ {
		used, total := sample()
		points := page.attr(`section[data-chart="optical_density"]`, "data-unit-points")
		var perUnit map[string]int
		_ = json.Unmarshal([]byte(points), &perUnit)
		fmt.Printf("dashboard heap: %5.2f simulated h  %6.1f MB used  %6.1f MB total  OD points pio01 %d\n",
			time.Since(start).Hours()*speed, used/mb, total/mb, perUnit["pio01"])
		if i == 0 {
			first = used
		}
		last, peak = used, max(peak, used)
		if time.Since(start).Hours()*speed >= hours {
			break
		}
		time.Sleep(every)
	}
	b.ReportMetric(first/mb, "start-MB")
	b.ReportMetric(last/mb, "end-MB")
	b.ReportMetric(peak/mb, "peak-MB")
	b.ReportMetric(hours, "sim-hours")
	fmt.Printf("dashboard: JS heap after a GC, 16 units at --speed %d for %.1f simulated h: %.1f MB at start, %.1f MB at the end, %.1f MB peak\n",
		speed, hours, first/mb, last/mb, peak/mb)
}

// BenchmarkDashboardLeaderCPU5Tabs: CPU of this test process (the in-process daemon: the
// leader with its broker, API and store, and the 16 simulated workers) over a window without
// browsers, then over the same window while 5 tabs, each in its own browser context, watch the
// overview with live data at --speed 60. Chromium's own CPU is in other processes and is not
// counted. Figures are % of one core (getrusage of this process: user + system).
func BenchmarkDashboardLeaderCPU5Tabs(b *testing.B) {
	chromiumPath(b)
	const window = 20 * time.Second
	names := units(16)
	c := benchCluster(b, "--units", "16", "--speed", "60", "--demo")
	// Let the jobs settle, then measure without browsers.
	time.Sleep(5 * time.Second)
	idle := cpuPercent(window)

	browser := newChromium(b, 1400, 1000)
	first := openTab(b, browser, c.http)
	tabs := []*tab{first}
	for range 4 {
		tabs = append(tabs, openTab(b, first.ctx, c.http, chromedp.WithNewBrowserContext()))
	}
	for _, t := range tabs {
		t.open("/overview", "overview")
	}
	for _, t := range tabs {
		t.unitPoints("optical_density", names, nil)
	}
	watched := cpuPercent(window)
	b.ReportMetric(idle, "idle-%core")
	b.ReportMetric(watched, "5tabs-%core")
	b.ReportMetric(watched-idle, "delta-%core")
	fmt.Printf("dashboard: daemon process CPU (leader + 16 simulated workers at --speed 60), %s windows: %.1f%% of a core without browsers, %.1f%% with 5 tabs on the overview (+%.1f%%); Chromium's CPU excluded\n",
		window, idle, watched, watched-idle)
}

// cpuPercent is this process's user+system CPU over the next d, as % of one core.
func cpuPercent(d time.Duration) float64 {
	used := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start, t0 := used(), time.Now()
	time.Sleep(d)
	return 100 * float64(used()-start) / float64(time.Since(t0))
}

package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The pages that work on data and the cluster, on one simulated cluster with living cultures:
// an export downloads a ZIP whose CSV has rows; a config with a syntax error shows the
// daemon's error at its line; a unit added in the inventory gets assigned.
func TestDashboardDataPages(t *testing.T) {
	chromiumPath(t) // skip (or fail under CI) before starting a daemon
	c := startCluster(t, "--units", "1", "--speed", "60", "--demo")
	page := newTab(t, c)

	t.Run("export", func(t *testing.T) {
		b := page.in(t)
		// Rows to export: wait for a few OD readings in the store.
		waitForRows(t, c, "/api/experiments/demo/time_series/od_readings?lookback=1000000", 3)
		b.open("/export-data", "export-data")
		b.choose(`select[name="experiment"]`, "demo", `select[name="experiment"] option[value="demo"]:checked`)
		b.click(`input[name="dataset"][value="od_readings"]`)
		b.click(`button[data-action="export"]`)
		b.waitVisible(`a[data-export-link]`)
		href := b.attr(`a[data-export-link]`, "href")
		if !strings.HasPrefix(href, "/exports/") || path.Ext(href) != ".zip" {
			t.Fatalf("export link %q, want /exports/<file>.zip", href)
		}
		name, rows := csvRows(t, "http://"+c.http+href)
		if rows < 1 {
			t.Fatalf("%s in %s has no data rows", name, href)
		}
		t.Logf("%s: %s has %d data rows", href, name, rows)
	})

	t.Run("config syntax error at its line", func(t *testing.T) {
		b := page.in(t)
		b.open("/config", "config")
		editor := `[data-editor] .cm-content`
		b.waitVisible(editor)
		b.waitJS("the shared config in the editor", `Number(document.querySelector('[data-editor]')?.getAttribute('data-length')) > 100`)
		broken := "[stirring.config]\ninitial_target_rpm=500\n[oops\nkey=1\n"
		b.do("select all in the editor", chromedp.Click(chromedp.CSS(editor)), chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
		b.insertText(broken)
		b.waitJS("the typed text in the editor", fmt.Sprintf(`document.querySelector('[data-editor]')?.getAttribute('data-length') === '%d'`, len(broken)))
		b.click(`button[data-action="save"]`)
		b.waitVisible(`[data-config-error][data-line="3"]`)
		b.waitJS("line 3 marked in the editor", `document.querySelector('[data-editor] .cm-line.cm-error-line')?.textContent === '[oops'`)
		if _, text := c.getRaw(t, "/api/config/shared"); strings.Contains(text, "[oops") {
			t.Error("the broken config was saved")
		}
	})

	t.Run("inventory add and assign", func(t *testing.T) {
		b := page.in(t)
		b.open("/inventory", "inventory")
		b.click(`button[data-action="add-unit"]`)
		dialog := `dialog[data-dialog="add-unit"][open]`
		b.typeInto(css(dialog, `input[name="hostname"]`), "pio07")
		b.click(css(dialog, `button[type="submit"]`))
		// pioreactord does not provision over SSH (POST /api/workers/setup is a 501): the page
		// registers the unit with PUT /api/workers and says so.
		b.waitVisible(css(dialog, `[data-setup-result]`))
		if done := css(dialog, `button[data-action="done"]`); b.eval(fmt.Sprintf(`document.querySelector(%s) ? 'y' : ''`, jsString(done))) != "" {
			b.click(done)
		}
		card := `article[data-worker="pio07"]`
		b.click(css(card, `button[data-action="assign"]`))
		b.waitVisible(css(card, `[data-assignment="demo"]`))
		status, body := c.getRaw(t, "/api/workers/assignments")
		var as []struct {
			Unit       string  `json:"pioreactor_unit"`
			Experiment *string `json:"experiment"`
		}
		if err := json.Unmarshal([]byte(body), &as); status != http.StatusOK || err != nil {
			t.Fatalf("assignments: %d %v %s", status, err, body)
		}
		for _, a := range as {
			if a.Unit == "pio07" {
				if a.Experiment == nil || *a.Experiment != "demo" {
					t.Fatalf("pio07 is assigned to %v, want demo", a.Experiment)
				}
				return
			}
		}
		t.Fatalf("pio07 is not in the inventory: %s", body)
	})
}

// waitForRows waits until a time-series route returns at least n points in some series.
func waitForRows(t *testing.T, c *simCluster, route string, n int) {
	t.Helper()
	deadline := time.Now().Add(browserWait)
	for {
		_, text := c.getRaw(t, route)
		var v struct{ Data [][]any }
		_ = json.Unmarshal([]byte(text), &v)
		for _, s := range v.Data {
			if len(s) >= n {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never had %d points: %.300s", route, n, text)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// csvRows downloads a ZIP and counts the data rows (header excluded) of its first CSV.
func csvRows(t *testing.T, url string) (string, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("%s is not a ZIP: %v", url, err)
	}
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		if path.Ext(f.Name) != ".csv" {
			continue
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(r).ReadAll()
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if len(records) == 0 {
			return f.Name, 0
		}
		return f.Name, len(records) - 1
	}
	t.Fatalf("no CSV in %s: %v", url, names)
	return "", 0
}

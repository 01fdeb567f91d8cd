package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardScreenshots writes the overview, the Pioreactors page and one unit's page at
// 1400×1000 and 375×800 (a phone) as PNGs into $PIOREACTORD_SCREENSHOTS (`make screenshots`),
// after live data from a --demo cluster has flowed for a while. Each size has a viewport
// shot (<page>-<w>x<h>.png) and a whole-page one (<page>-<w>x<h>-full.png).
func TestDashboardScreenshots(t *testing.T) {
	dir := os.Getenv("PIOREACTORD_SCREENSHOTS")
	if dir == "" {
		t.Skip("PIOREACTORD_SCREENSHOTS names no folder (make screenshots sets it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	chromiumPath(t) // skip (or fail under CI) before starting a daemon
	c := startCluster(t, "--units", "3", "--speed", "60", "--demo")
	b := newTab(t, c)
	units := []string{"pio01", "pio02", "pio03"}

	// Let the cultures run: a few hundred OD readings a unit (some simulated hours).
	b.open("/overview", "overview")
	b.waitJS("a few hundred OD readings a unit", fmt.Sprintf(`(() => {
		const v = JSON.parse(document.querySelector('section[data-chart="optical_density"]')?.getAttribute('data-unit-points') || '{}');
		return %s.every((u) => (v[u] || 0) >= 300); })()`, mustJSON(units)))

	stirringReady := `article.unit-card[data-unit="pio01"] div.job[data-job="stirring"][data-state="ready"]`
	chartsDrawn := fmt.Sprintf(`(() => {
		const cs = [...document.querySelectorAll('section[data-chart]')];
		return cs.length > 0 && cs.every((c) => c.getAttribute('data-status') !== 'loading') &&
			cs.some((c) => Object.keys(JSON.parse(c.getAttribute('data-unit-points') || '{}')).length >= %d); })()`, 1)
	pages := []struct {
		name, path, page string
		ready            []string // selectors to be visible
		drawn            string   // a JavaScript condition
	}{
		{"overview", "/overview", "overview", nil, chartsDrawn},
		{"pioreactors", "/pioreactors", "pioreactors", []string{stirringReady}, "true"},
		{"unit-pio01", "/pioreactors/pio01", "unit", []string{stirringReady}, chartsDrawn},
	}
	sizes := []struct {
		w, h   int64
		mobile bool
	}{{1400, 1000, false}, {375, 800, true}}
	for _, size := range sizes {
		opts := []chromedp.EmulateViewportOption{}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		b.do("set the viewport", chromedp.EmulateViewport(size.w, size.h, opts...))
		for _, p := range pages {
			b.open(p.path, p.page)
			for _, sel := range p.ready {
				b.waitVisible(sel)
			}
			b.waitJS(p.name+" drawn", p.drawn)
			// Charts redraw at most once a second: let the last data and the resize land.
			b.do("settle", chromedp.Sleep(1500*time.Millisecond))
			base := filepath.Join(dir, fmt.Sprintf("%s-%dx%d", p.name, size.w, size.h))
			view := b.screenshot(chromedp.CaptureScreenshot())
			full := b.screenshot(chromedp.FullScreenshot(100))
			for path, png := range map[string][]byte{base + ".png": view, base + "-full.png": full} {
				if err := os.WriteFile(path, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("wrote %s.png and %s-full.png", base, base)
			// Readable at 375 px means no sideways scrolling: name what sticks out.
			if wide := b.eval(sidewaysOverflow); wide != "" {
				t.Errorf("%s at %dx%d scrolls sideways: %s", p.path, size.w, size.h, wide)
			}
		}
	}
}

func (b *tab) screenshot(a chromedp.Action[[]byte]) []byte {
	b.tb.Helper()
	png, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fail("screenshot", err)
	}
	return png
}

// sidewaysOverflow is "" when the page fits its viewport's width, else the page's width and
// the innermost elements that reach past the right edge.
const sidewaysOverflow = `(() => {
	const w = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth <= w) return '';
	const out = [...document.querySelectorAll('body *')]
		.filter((e) => e.getBoundingClientRect().right > w + 1 && ![...e.children].some((c) => c.getBoundingClientRect().right > w + 1))
		.slice(0, 6)
		.map((e) => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '') +
			' (right ' + Math.round(e.getBoundingClientRect().right) + ')');
	return 'page ' + document.documentElement.scrollWidth + ' px wide in ' + w + ': ' + out.join(', ');
})()`

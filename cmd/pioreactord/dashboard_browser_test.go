package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The dashboard's browser tests drive Debian's chromium with chromedp against an in-process
// `pioreactord --sim` (startCluster). They wait on the DOM contract of docs/dashboard.md
// (data-page, data-chart/data-unit-points, data-job/data-state, data-setting/data-value,
// data-dialog, data-action …), never on wall time.

// browserWait bounds every wait on the page: generous, since the suite runs with -race on
// two shared cores. A wait ends as soon as its condition holds.
const browserWait = 60 * time.Second

// chromiumPath finds Debian's chromium. Without it the test skips, except under CI (CI=true,
// or any non-empty CI, as mqttTool reads it), where a missing browser fails the run.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("chromium is not installed: the dashboard's browser tests need it (apt-get install chromium, or make test-deps)")
		}
		tb.Skip("chromium is not installed (apt-get install chromium); under CI=true this fails")
	}
	return path
}

// newChromium starts a headless chromium with a fresh profile and returns its allocator
// context. The flags keep it off the network: on a closed network chromium otherwise
// hangs on its background connections. The browser is killed at the end of the test.
func newChromium(tb testing.TB, width, height int) context.Context {
	tb.Helper()
	exe := chromiumPath(tb)
	profile, err := os.MkdirTemp("", "pioreactord-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	}
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	tb.Cleanup(func() {
		cancel() // waits for the browser to exit
		_ = os.RemoveAll(profile)
	})
	return ctx
}

// tab is one browser tab on a daemon's dashboard.
type tab struct {
	tb   testing.TB
	ctx  context.Context
	base string   // http://host:port of the daemon
	log  *pageLog // what the page reported
}

// pageLog keeps a tab's uncaught exceptions and console errors and warnings; the test logs
// them at its end.
type pageLog struct {
	mu    sync.Mutex
	lines []string
}

// in returns the tab for a subtest: failures end the subtest.
func (b *tab) in(tb testing.TB) *tab { return &tab{tb: tb, ctx: b.ctx, base: b.base, log: b.log} }

// newTab opens a tab in a new browser (one per test) on the cluster's dashboard.
func newTab(tb testing.TB, c *simCluster) *tab {
	tb.Helper()
	return openTab(tb, newChromium(tb, 1400, 1000), c.http)
}

// openTab opens a tab: in a new browser when parent is an allocator's context, else in the
// browser of parent, a tab's context (opts may ask for a browser context of its own).
func openTab(tb testing.TB, parent context.Context, hostport string, opts ...chromedp.ContextOption) *tab {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	tb.Cleanup(cancel)
	b := &tab{tb: tb, ctx: ctx, base: "http://" + hostport, log: &pageLog{}}
	// The first action starts the browser: run it on the tab's own context, without a timeout
	// that would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.log.record); err != nil {
		tb.Fatalf("listen to the tab: %v", err)
	}
	tb.Cleanup(func() {
		b.log.mu.Lock()
		defer b.log.mu.Unlock()
		for _, l := range b.log.lines {
			tb.Logf("browser: %s", l)
		}
	})
	return b
}

func (l *pageLog) record(ev any) {
	var line string
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		line = "uncaught: " + e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			line += " " + e.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeWarning {
			return
		}
		parts := make([]string, 0, len(e.Args))
		for _, a := range e.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, string(a.Value))
			}
		}
		line = fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " "))
	default:
		return
	}
	l.mu.Lock()
	if len(l.lines) < 50 {
		l.lines = append(l.lines, line)
	}
	l.mu.Unlock()
}

// do runs actions, failing the test with what it was doing and what the page shows.
func (b *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

func (b *tab) fail(what string, err error) {
	b.tb.Helper()
	b.tb.Fatalf("%s: %v\npage: %s", what, err, b.pageText())
}

// pageText is the start of what the page shows, for failure messages.
func (b *tab) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + "\n" + ((document.querySelector('main') || document.body || {}).innerText || '').slice(0, 1500)`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// open loads path (a full navigation) and waits for the page's section[data-page].
func (b *tab) open(path, page string) {
	b.tb.Helper()
	b.do("open "+path,
		chromedp.Navigate(b.base+path),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`section.page[data-page=%q]`, page))))
}

func (b *tab) waitVisible(sel string) {
	b.tb.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *tab) click(sel string) {
	b.tb.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// typeInto replaces an input's text by typing text (then any keys, such as kb.Enter).
func (b *tab) typeInto(sel, text string) {
	b.tb.Helper()
	b.do("type into "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		// Empty it as a person selecting all and deleting would: the page sees an input event.
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%s);
			Object.getOwnPropertyDescriptor(Object.getPrototypeOf(e), 'value').set.call(e, '');
			e.dispatchEvent(new Event('input', {bubbles: true})); e.focus(); })()`, jsString(sel))),
		chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks an option of a select as a person does (the value changes, `change` fires)
// until shown, a selector of what the choice brings, appears. The pick is repeated while
// it does not: a form may still reset its select to a default just after it rendered.
func (b *tab) choose(sel, value, shown string) {
	b.tb.Helper()
	b.waitJS(fmt.Sprintf("%s after choosing %s in %s", shown, value, sel), fmt.Sprintf(`(() => {
		if (document.querySelector(%s)) return true;
		const e = document.querySelector(%s); if (!e) return false;
		if (e.value !== %s) { e.value = %s; e.dispatchEvent(new Event('change', {bubbles: true})); }
		return false; })()`, jsString(shown), jsString(sel), jsString(value), jsString(value)))
}

// insertText types text at the focus through the Input domain, as an IME or a paste does.
func (b *tab) insertText(text string) {
	b.tb.Helper()
	b.do("insert text", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// eval evaluates a JavaScript expression whose value is a string.
func (b *tab) eval(expr string) string {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return s
}

// waitJS polls a JavaScript expression until it is truthy and returns its value as JSON.
func (b *tab) waitJS(what, expr string) json.RawMessage {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[json.RawMessage](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(browserWait)))
	if err != nil {
		b.fail("wait for "+what, err)
	}
	return v
}

// attr reads an attribute of the first element matching sel ("" when absent).
func (b *tab) attr(sel, name string) string {
	b.tb.Helper()
	return b.eval(fmt.Sprintf(`(document.querySelector(%s)?.getAttribute(%s)) ?? ''`, jsString(sel), jsString(name)))
}

// unitPoints waits until the chart's data-unit-points names every unit with more points
// than after[unit], and returns them.
func (b *tab) unitPoints(chart string, units []string, after map[string]int) map[string]int {
	b.tb.Helper()
	if after == nil {
		after = map[string]int{}
	}
	u, _ := json.Marshal(units)
	a, _ := json.Marshal(after)
	raw := b.waitJS(fmt.Sprintf("chart %s to draw more points than %v for %v", chart, after, units), fmt.Sprintf(`(() => {
		const e = document.querySelector(%s); if (!e) return null;
		let v; try { v = JSON.parse(e.getAttribute('data-unit-points') || '{}'); } catch { return null; }
		const after = %s;
		return %s.every((u) => (v[u] || 0) > (after[u] || 0)) ? v : null; })()`,
		jsString(fmt.Sprintf(`section[data-chart=%q]`, chart)), a, u))
	var out map[string]int
	if err := json.Unmarshal(raw, &out); err != nil {
		b.tb.Fatalf("data-unit-points %s: %v", raw, err)
	}
	return out
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// css builds a selector from parts: css(card, job) = card + " " + job.
func css(parts ...string) string { return strings.Join(parts, " ") }

// mustJSON is v as JSON, for values written into page scripts.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/profile"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// testProfiles is an empty profile folder and journal under dir.
func testProfiles(t *testing.T, dir string) *Profiles {
	t.Helper()
	j, _, err := profile.OpenJournal(filepath.Join(dir, "profile_runs.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	return &Profiles{Dir: &profile.Dir{Path: filepath.Join(dir, "profiles")}, Journal: j}
}

// uiRoute is one line of testdata/ui_routes.txt: a route the dashboard calls.
type uiRoute struct {
	method, route, path, body string
}

func (r uiRoute) key() string { return r.method + " " + r.route }

func readUIRoutes(t *testing.T) []uiRoute {
	t.Helper()
	f, err := os.Open("testdata/ui_routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []uiRoute
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("ui_routes.txt: %q has %d columns, want 4", line, len(cols))
		}
		out = append(out, uiRoute{cols[0], cols[1], cols[2], cols[3]})
	}
	return out
}

// leftOutRe is a row of docs/api.md's table of routes answering 501: | `METHOD /path` | why |.
var leftOutRe = regexp.MustCompile("^\\| `([A-Z]+) (/[^`]+)` \\| (.+) \\|$")

// readLeftOut reads the routes docs/api.md says answer 501, each with its reason.
func readLeftOut(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## Routes that answer 501")
			continue
		}
		if m := leftOutRe.FindStringSubmatch(line); in && m != nil {
			if strings.TrimSpace(m[3]) == "" {
				t.Errorf("docs/api.md: %s %s has no reason", m[1], m[2])
			}
			out[m[1]+" "+m[2]] = m[3]
		}
	}
	if len(out) == 0 {
		t.Fatal(`docs/api.md has no "## Routes that answer 501" table`)
	}
	return out
}

// shape is a JSON value's skeleton: objects keep their keys, lists their first element,
// scalars become their type. It pins what the dashboard reads, not the data.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

// coverageBodies are the bodies too long for ui_routes.txt.
var coverageBodies = map[string]any{
	"@shared":       map[string]string{"code": testShared},
	"@calibration":  map[string]any{"calibration_data": strings.Replace(pumpYAML, "media-pump-2025", "cal3", 1)},
	"@profile":      map[string]string{"filename": "coverage.yaml", "body": goodProfile},
	"@profile_body": map[string]string{"body": goodProfile},
}

// TestUIRouteCoverage walks every route the dashboard calls (testdata/ui_routes.txt, the
// UI rows of the HTTP API specification) on a leader with two workers: each must answer
// 2xx with the shape pinned in testdata/golden/ui_routes.json, or 501 and be listed with
// its reason in docs/api.md. None may answer 404.
func TestUIRouteCoverage(t *testing.T) {
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01")
	sc.experiment("exp2", "pio02")
	for _, name := range []string{"cal1", "cal2"} {
		status, body := call(t, sc.urls["pio01"], "POST", "/unit_api/calibrations/media_pump",
			map[string]any{"calibration_data": strings.Replace(pumpYAML, "media-pump-2025", name, 1)})
		if status != http.StatusCreated {
			t.Fatalf("calibration %s: %d %s", name, status, body)
		}
	}
	at := t0.Add(-time.Hour)
	if _, err := sc.db.Insert([]store.Row{
		{Table: store.GrowthRates, Experiment: "exp1", Unit: "pio01", Time: at, Value: 0.2},
		{Table: store.ODReadings, Experiment: "exp1", Unit: "pio01", Channel: "2", Time: at, Value: 0.05},
		{Table: store.LiquidVolumes, Experiment: "exp1", Unit: "pio01", Time: at, Value: 14},
		{Table: store.AltMediaFractions, Experiment: "exp1", Unit: "pio01", Time: at, Value: 0},
	}); err != nil {
		t.Fatal(err)
	}
	leftOut := readLeftOut(t)
	shapes := map[string]any{}
	var served, notImpl, missing []string
	for _, r := range readUIRoutes(t) {
		var body any
		switch {
		case r.body == "-":
		case strings.HasPrefix(r.body, "@"):
			body = coverageBodies[r.body]
		default:
			body = r.body
		}
		status, got := call(t, sc.url, r.method, r.path, body)
		switch {
		case status == http.StatusNotImplemented:
			notImpl = append(notImpl, r.key())
			if _, ok := leftOut[r.key()]; !ok {
				t.Errorf("%s answers 501 but is not in docs/api.md's 501 table: %s", r.key(), got)
			}
		case status == http.StatusNotFound && strings.Contains(got, "No route matches"):
			missing = append(missing, r.key())
			t.Errorf("%s is not served (404)", r.key())
		case status >= 200 && status < 300:
			served = append(served, r.key())
			shapes[r.key()] = answerShape(t, sc, status, got)
		default:
			t.Errorf("%s %s: %d %s (the sample request must succeed)", r.method, r.path, status, got)
		}
	}
	t.Logf("UI routes: %d served with a pinned shape, %d answer 501 (docs/api.md), %d missing (404)",
		len(served), len(notImpl), len(missing))
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep <unit> readable in the golden file
	enc.SetIndent("", "  ")
	if err := enc.Encode(shapes); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "ui_routes", b.String())
}

// answerShape is the shape of an answer; a task's answer adds the shape of its result.
func answerShape(t *testing.T, sc *storeCluster, status int, body string) any {
	t.Helper()
	var v any
	if json.Unmarshal([]byte(body), &v) != nil {
		return map[string]any{"status": status, "text": true}
	}
	out := map[string]any{"status": status, "body": shape(v)}
	if m, ok := v.(map[string]any); ok && status == http.StatusAccepted && m["result_url_path"] != nil && m["status"] == "accepted" {
		res := await(t, sc.url, status, body)
		out["result"] = shape(res["result"])
	}
	return out
}

// TestUIRoutesFollowSpec: with PIOREACTORD_API_SPEC naming the HTTP API specification, every
// route it marks UI is in testdata/ui_routes.txt, so adding one to the specification without
// serving it fails TestUIRouteCoverage.
func TestUIRoutesFollowSpec(t *testing.T) {
	t.Parallel()
	path := os.Getenv("PIOREACTORD_API_SPEC")
	if path == "" {
		t.Skip("PIOREACTORD_API_SPEC not set")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range readUIRoutes(t) {
		have[r.key()] = true
	}
	var lost []string
	spec := specUIRoutes(string(b))
	t.Logf("the specification marks %d UI routes", len(spec))
	for _, k := range spec {
		if !have[k] {
			lost = append(lost, k)
		}
	}
	sort.Strings(lost)
	for _, k := range lost {
		t.Errorf("the specification marks %s UI; add it to testdata/ui_routes.txt", k)
	}
}

var (
	specMethods = regexp.MustCompile(`\b(GET|POST|PUT|PATCH|DELETE)\b`)
	specPath    = regexp.MustCompile("`(/[^`]*)`")
)

// specUIRoutes lists "METHOD /path" of the specification's table rows marked UI (or
// "dashboard" in the unit API tables, whose paths are under /unit_api).
func specUIRoutes(spec string) []string {
	var out []string
	for _, line := range strings.Split(spec, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 2 {
			continue
		}
		first, last := cells[0], strings.TrimSpace(cells[len(cells)-1])
		unit := strings.Contains(first, "(dashboard")
		if !unit && !strings.HasPrefix(last, "UI") {
			continue
		}
		// "GET `/a`, `/b`; POST `/c`": each method applies to the paths after it.
		var methods []string
		base := ""
		for _, part := range regexp.MustCompile("[;,] ").Split(first, -1) {
			if ms := specMethods.FindAllString(strings.Split(part, "`")[0], -1); len(ms) > 0 {
				methods = ms
			}
			m := specPath.FindStringSubmatch(part)
			if m == nil {
				continue
			}
			p := m[1]
			switch {
			case unit:
				p = "/unit_api" + p
			case !strings.HasPrefix(p, "/api/") && base != "":
				p = base + p // `/usb/artifacts` after `/api/units/<unit>/usb`
			}
			if strings.HasPrefix(p, "/api/units/<unit>/") {
				base = "/api/units/<unit>"
			}
			p = strings.Split(p, "?")[0]
			for _, variant := range expandOptional(p) {
				for _, meth := range methods {
					out = append(out, meth+" "+variant)
				}
			}
		}
	}
	return out
}

// expandOptional turns `/a[/<b>]` into `/a` and `/a/<b>`; a "UI (one)" row only means the
// longer one, which is the one the dashboard calls.
func expandOptional(p string) []string {
	i := strings.Index(p, "[")
	if i < 0 {
		return []string{p}
	}
	j := strings.Index(p, "]")
	return []string{p[:i] + p[i+1:j] + p[j+1:]}
}

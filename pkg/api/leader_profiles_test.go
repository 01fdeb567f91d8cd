package api

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/profile"
	"github.com/pioreactor/pioreactord/pkg/store"
)

const goodProfile = `version: "1.0"
experiment_profile_name: demo-profile
common:
  jobs:
    stirring:
      actions:
        - type: start
          t: 0s
          options: {target_rpm: 500}
        - type: stop
          t: 30m
pioreactors:
  pio01:
    jobs:
      od_reading:
        actions:
          - {type: start, t: 0}
`

// profileServer is a leader with a profile folder and journal in a temporary directory.
func profileServer(t *testing.T) (string, *Profiles) {
	t.Helper()
	dir := t.TempDir()
	j, _, err := profile.OpenJournal(filepath.Join(dir, "runs.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	p := &Profiles{Dir: &profile.Dir{Path: filepath.Join(dir, "profiles")}, Journal: j}
	st := newFakeStore()
	_ = st.PutWorker(store.Worker{Unit: "pio01", AddedAt: t0})
	u := listingUnit{&fakeUnit{name: "leader", jobs: []string{"stirring", "od_reading", "experiment_profile"}}}
	s, err := New(Config{Unit: u, Now: (&fakeClock{t: t0}).Now, Leader: &Leader{Store: st, Publisher: &fakePublisher{},
		Cluster: cluster.New(cluster.Config{Resolve: func(string) (string, error) { return "", nil }}), Profiles: p}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv.URL, p
}

func TestProfileRoutes(t *testing.T) {
	t.Parallel()
	url, p := profileServer(t)
	if code, body := call(t, url, "POST", "/api/experiment_profiles", map[string]string{"filename": "a.yaml", "body": goodProfile}); code != 200 || body != `{"status":"success"}` {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := call(t, url, "POST", "/api/experiment_profiles", map[string]string{"filename": "a.yaml", "body": goodProfile}); code != 400 || !strings.Contains(body, "already exists") {
		t.Errorf("create twice: %d %s", code, body)
	}
	second := strings.Replace(goodProfile, "demo-profile", "second", 1)
	if code, body := call(t, url, "POST", "/api/experiment_profiles", map[string]string{"filename": "b.yml", "body": second}); code != 200 {
		t.Fatalf("create b: %d %s", code, body)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(p.Dir.Path, "a.yaml"), old, old); err != nil {
		t.Fatal(err)
	}
	code, body := call(t, url, "GET", "/api/experiment_profiles", nil)
	var list []struct {
		Profile map[string]any `json:"experimentProfile"`
		File    string         `json:"file"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	if list[0].File != "b.yml" || list[1].Profile["experiment_profile_name"] != "demo-profile" {
		t.Errorf("list is not newest first: %s", body)
	}
	if code, body := call(t, url, "GET", "/api/experiment_profiles/a.yaml", nil); code != 200 || body != strings.TrimSpace(goodProfile) {
		t.Errorf("get: %d %s", code, body)
	}
	if code, _ := call(t, url, "GET", "/api/experiment_profiles/..%2Fprofiles%2Fa.yaml", nil); code != 200 {
		t.Errorf("get with path components: %d, want them stripped", code)
	}
	for _, name := range []string{"missing.yaml", "a.txt"} {
		if code, _ := call(t, url, "GET", "/api/experiment_profiles/"+name, nil); code != 404 {
			t.Errorf("get %s: %d", name, code)
		}
	}
	changed := strings.Replace(goodProfile, "30m", "45m", 1)
	if code, body := call(t, url, "PATCH", "/api/experiment_profiles/a.yaml", map[string]string{"body": changed}); code != 200 {
		t.Errorf("overwrite: %d %s", code, body)
	}
	if src, _ := os.ReadFile(filepath.Join(p.Dir.Path, "a.yaml")); string(src) != changed {
		t.Errorf("overwrite did not write")
	}
	if code, _ := call(t, url, "DELETE", "/api/experiment_profiles/a.yaml", nil); code != 200 {
		t.Errorf("delete: %d", code)
	}
	if code, _ := call(t, url, "DELETE", "/api/experiment_profiles/a.yaml", nil); code != 404 {
		t.Errorf("delete twice: %d", code)
	}
}

func TestProfileBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	url, p := profileServer(t)
	tests := []struct {
		name, file, body, code string
		line                   int
	}{
		{"malformed yaml", "x.yaml", "version: \"1.0\"\nexperiment_profile_name: x\ncommon: [\n", "yaml.syntax", 4},
		{"unknown job", "x.yaml", strings.Replace(goodProfile, "stirring:", "stiring:", 1), "job.unknown", 5},
		{"unknown unit", "x.yaml", strings.Replace(goodProfile, "pio01:", "pio99:", 1), "unit.unknown", 13},
		{"bad expression", "x.yaml", strings.Replace(goodProfile, "t: 0s", "t: 0s\n          if: \"1 +* 2\"", 1), "expression.syntax", 9},
		{"repeat without every", "x.yaml", goodProfile + "      stirring:\n        actions:\n          - {type: repeat, t: 1h, actions: []}\n", "repeat.every.missing", 20},
		{"path in file name", "../x.yaml", goodProfile, "", 0},
		{"not yaml", "x.txt", goodProfile, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, url, "POST", "/api/experiment_profiles", map[string]string{"filename": tc.file, "body": tc.body})
			if code != 400 {
				t.Fatalf("%d %s", code, body)
			}
			if tc.code == "" {
				if !strings.Contains(body, "file name") {
					t.Errorf("body %s", body)
				}
				return
			}
			var env struct {
				Cause       string               `json:"cause"`
				Diagnostics []profile.Diagnostic `json:"diagnostics"`
			}
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, d := range env.Diagnostics {
				found = found || d.Code == tc.code && d.Line == tc.line && d.Path != "" || d.Code == "yaml.syntax" && tc.code == d.Code
			}
			if !found || !strings.Contains(env.Cause, "line ") {
				t.Errorf("want %s on line %d: %s", tc.code, tc.line, body)
			}
		})
	}
	if code, _ := call(t, url, "PATCH", "/api/experiment_profiles/x.yaml", map[string]string{"body": "version: 1.0\n"}); code != 400 {
		t.Errorf("invalid overwrite: %d", code)
	}
	entries, _ := os.ReadDir(p.Dir.Path)
	if len(entries) != 0 {
		t.Errorf("bad input wrote %d file(s)", len(entries))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p.Dir.Path), "x.yaml")); err == nil {
		t.Errorf("../x.yaml was written")
	}
	if code, body := call(t, url, "POST", "/api/experiment_profiles", `{}`); code != 400 || !strings.Contains(body, "Invalid request body.") {
		t.Errorf("empty body: %d %s", code, body)
	}
}

func TestProfileRunsRoutes(t *testing.T) {
	t.Parallel()
	url, p := profileServer(t)
	seq, _ := p.Journal.Begin(profile.RunInfo{JobID: 4, Name: "one", File: "one.yaml", Experiment: "exp1", StartedAt: "2026-03-01T12:00:00.000Z"})
	_, _ = p.Journal.Begin(profile.RunInfo{JobID: 5, Name: "two", File: "two.yaml", Experiment: "exp2", StartedAt: "2026-03-01T12:01:00.000Z"})
	p.Journal.Progress(seq, profile.Progress{ActionCount: 3, Pending: 1}, map[string]any{"action_count": 3, "experiment_profile_name": "one"})
	code, body := call(t, url, "GET", "/api/experiments/exp1/experiment_profiles/running", nil)
	if code != 200 || !strings.Contains(body, `"job_name":"experiment_profile","experiment":"exp1","job_id":4,"settings":{"action_count":3`) || strings.Contains(body, "two") {
		t.Errorf("running: %d %s", code, body)
	}
	_ = p.Journal.End(seq, profile.StatusFinished, "2026-03-01T13:00:00.000Z", nil)
	if _, body := call(t, url, "GET", "/api/experiments/exp1/experiment_profiles/running", nil); body != "[]" {
		t.Errorf("running after the end: %s", body)
	}
	_, body = call(t, url, "GET", "/api/experiments/exp1/experiment_profiles/recent", nil)
	if !strings.Contains(body, `"experiment_profile_name":"one"`) || !strings.Contains(body, `"started_at":"2026-03-01T12:00:00.000Z"`) || !strings.Contains(body, `"status":"finished"`) {
		t.Errorf("recent: %s", body)
	}
}

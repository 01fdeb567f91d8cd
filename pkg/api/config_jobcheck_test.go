package api

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/config"
)

// stirringCheck stands for jobs.CheckConfig: it refuses a stirring period under 1 s.
func stirringCheck(c *config.Config) error {
	v, err := c.Float("stirring.config", "duration_between_updates_seconds", 23)
	if err == nil && v < 1 {
		err = fmt.Errorf("[stirring.config] duration_between_updates_seconds %v must be at least 1 s", v)
	}
	return err
}

// A save runs Config.CheckConfig on the effective config it would give, the unit's file
// layered over the shared one as at start, and a refusal is a 400 naming the key, with
// nothing written.
func TestConfigSaveRunsTheJobsChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := &ConfigFiles{Shared: filepath.Join(dir, "config.ini")}
	if err := f.WriteShared([]byte(testShared)); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Unit: listingUnit{&fakeUnit{name: "pio01"}}, ConfigFiles: f, CheckConfig: stirringCheck})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	fast := "[stirring.config]\nduration_between_updates_seconds=0.5\n"
	slow := "[stirring.config]\nduration_between_updates_seconds=5\n"
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
	for _, tc := range []struct {
		name, path, code string
		status           int
		file             string // the file the route writes
		want             string // its content afterwards
	}{
		{"unit file refused", "/unit_api/config/specific", fast, 400, filepath.Join(dir, "unit_config.ini"), ""},
		{"shared file refused", "/unit_api/config/shared", testShared + "\n" + fast, 400, f.Shared, testShared},
		{"unit file saved", "/unit_api/config/specific", slow, 200, filepath.Join(dir, "unit_config.ini"), slow},
		// The unit's own value wins at start, so the shared one cannot stop its jobs.
		{"shared value the unit file overrides", "/unit_api/config/shared", testShared + "\n" + fast, 200, f.Shared, testShared + "\n" + fast},
	} {
		status, body := call(t, srv.URL, "POST", tc.path, map[string]string{"code": tc.code})
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
		if tc.status == 400 && !strings.Contains(body, "duration_between_updates_seconds") {
			t.Errorf("%s: %s does not name the key", tc.name, body)
		}
		if got := read(tc.file); got != tc.want {
			t.Errorf("%s: %s holds %q, want %q", tc.name, tc.file, got, tc.want)
		}
	}
}

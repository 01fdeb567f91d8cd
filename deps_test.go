package pioreactord_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The dependency rules of STYLE.md: each third-party library stays inside the one package
// that wraps it, and jobs never reach the broker, the HTTP server or the store.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/pioreactor/pioreactord/"
	owners := map[string]string{ // library prefix -> the only package that may import it
		"github.com/mochi-mqtt/server": mod + "pkg/broker",
		"github.com/eclipse/paho.mqtt": mod + "pkg/pubsub",
		"go.etcd.io/bbolt":             mod + "pkg/store",
		"github.com/labstack/echo":     mod + "pkg/api",
		"gopkg.in/ini.v1":              mod + "pkg/config",
		"periph.io/x/host":             mod + "pkg/hal/periph",
		"periph.io/x/conn":             mod + "pkg/hal/periph",
	}
	forbidden := map[string][]string{ // package prefix -> packages it must not import
		mod + "pkg/jobs":       {mod + "pkg/broker", mod + "pkg/api", mod + "pkg/store", mod + "pkg/cluster", mod + "cmd"},
		mod + "pkg/supervisor": {mod + "pkg/jobs", mod + "pkg/broker", mod + "pkg/api", mod + "pkg/store", mod + "pkg/cluster"},
		mod + "pkg/hal":        {mod + "pkg/supervisor", mod + "pkg/jobs", mod + "pkg/pubsub", mod + "pkg/api", mod + "pkg/store"},
		mod + "pkg/contract":   {mod},
		mod + "pkg/clock":      {mod},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			for lib, owner := range owners {
				if strings.HasPrefix(imp, lib) && !strings.HasPrefix(pkg, owner) {
					t.Errorf("%s imports %s; only %s may", pkg, imp, owner)
				}
			}
			for prefix, bans := range forbidden {
				if !strings.HasPrefix(pkg, prefix) {
					continue
				}
				for _, ban := range bans {
					if strings.HasPrefix(imp, ban) {
						t.Errorf("%s must not import %s", pkg, imp)
					}
				}
			}
		}
	}
}

// Jobs take time from the injected clock only, so the simulation can run faster than real
// time and tests can run in virtual time (STYLE.md, docs/simulation.md, "Virtual clock").
func TestJobsUseTheClockAndRecover(t *testing.T) {
	files, err := filepath.Glob("pkg/jobs/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no job sources: %v", err)
	}
	wall := regexp.MustCompile(`\btime\.(Now|Sleep|After|AfterFunc|NewTimer|NewTicker|Tick|Since|Until)\(`)
	// Helper goroutines go through Runtime.Go, which recovers panics (timer.go has no job).
	bareGo := regexp.MustCompile(`^\s*go\s`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if wall.MatchString(line) {
				t.Errorf("%s:%d uses the wall clock: %s", f, i+1, strings.TrimSpace(line))
			}
			if bareGo.MatchString(line) && filepath.Base(f) != "timer.go" {
				t.Errorf("%s:%d starts a goroutine without rt.Go: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

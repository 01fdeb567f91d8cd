package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// lineOf is the 1-based line of path holding want.
func lineOf(t *testing.T, path, want string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if l == want {
			return i + 1
		}
	}
	t.Fatalf("%s has no line %q", path, want)
	return 0
}

// At start the daemon runs the checks a config editor runs before saving: a bad listener or
// [mqtt] value stops it, naming file and line; a bad job value is logged at ERROR with its
// key and line, and the daemon starts (the unit stays reachable).
func TestStartValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		set     [3]string
		refused bool
	}{
		{"ui port", [3]string{"ui", "port", "eighty"}, true},
		{"ui tls half", [3]string{"ui", "tls_cert_file", "/nowhere.crt"}, true},
		{"mqtt max_packet_size", [3]string{"mqtt", "max_packet_size", "5"}, true},
		{"job key", [3]string{"od_reading.config", "samples_per_second", "banana"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			conf := leaderConfig(t, dir, tc.set)
			line := lineOf(t, conf, tc.set[1]+"="+tc.set[2])
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &syncBuffer{}
			done := make(chan error, 1)
			go func() { done <- run(ctx, leaderArgs(dir, conf), out, out) }()
			if tc.refused {
				select {
				case err := <-done:
					want := fmt.Sprintf("%s line %d: Invalid value for [%s] %s", conf, line, tc.set[0], tc.set[1])
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("run = %v, want it to contain %q", err, want)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("the daemon started:\n%s", out.String())
				}
				return
			}
			eventually(t, "the daemon's banner", func() bool { return apiLine.MatchString(out.String()) })
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
			var found bool
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.Contains(l, "level=ERROR") && strings.Contains(l, "[od_reading.config] samples_per_second") &&
					strings.Contains(l, fmt.Sprintf("line=%d", line)) {
					found = true
				}
			}
			if !found {
				t.Errorf("no ERROR naming the key and line %d:\n%s", line, out.String())
			}
		})
	}
}

package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/config"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
		check   func(options) bool
	}{
		{"sim binds loopback", []string{"--sim"}, false, func(o options) bool {
			return o.role == "both" && o.httpAddr == "127.0.0.1:4999" && o.mqttAddr == "127.0.0.1:1883" && o.wsAddr == "127.0.0.1:9001" && o.units == 3
		}},
		{"worker role", []string{"--sim", "--role", "worker", "--unit", "pio09", "--broker", "127.0.0.1:1883"}, false, func(o options) bool {
			return o.role == "worker" && o.unit == "pio09" && !o.leader()
		}},
		{"bad role", []string{"--sim", "--role", "boss"}, true, nil},
		{"a worker without --sim drives the HAT", []string{"--role", "worker", "--unit", "pio01"}, false, func(o options) bool {
			return !o.sim && o.role == "worker" && !o.leader()
		}},
		{"version", []string{"--version"}, false, func(o options) bool { return o.version }},
		{"speed needs sim", []string{"--role", "leader", "--speed", "10"}, true, nil},
		{"negative speed", []string{"--sim", "--speed", "-1"}, true, nil},
		{"stray argument", []string{"--sim", "extra"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
}

// Outside --sim the leader refuses to serve an API anyone on the network could drive.
func TestLeaderOutsideSimNeedsAPIKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := strings.Replace(string(config.Template()), "[cluster.topology]", "[cluster.topology]\nleader_hostname=leader\nleader_address=127.0.0.1\n", 1)
	path := filepath.Join(dir, "config.ini")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--role", "leader", "--unit", "leader", "--config", path, "--data-dir", dir,
		"--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0"}
	err := run(context.Background(), args, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "api_key") {
		t.Fatalf("run = %v, want a refusal naming api_key", err)
	}
}

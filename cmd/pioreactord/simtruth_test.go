package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

var (
	workerLine = regexp.MustCompile(`worker\s+pio01 at (http://\S+)`)
	stampForm  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// get answers a GET on any base URL, with an API key when one is given.
func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls f (every 50 ms, up to 20 s) until it reports true.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("%s: not within 20 s", what)
}

// Under --sim a simulated worker's truth is on MQTT (retained, in the documented form),
// answered by its unit API, stored by the leader, chartable and exportable, and it moves
// off the experiment when the worker is unassigned.
func TestSimulationTruthEndToEnd(t *testing.T) {
	c := startCluster(t, "--units", "1", "--speed", "600")
	m := workerLine.FindStringSubmatch(c.out.String())
	if m == nil {
		t.Fatalf("no address of pio01 in the banner:\n%s", c.out.String())
	}
	worker := m[1]
	conn, err := pubsub.NewDialer(c.mqtt, "pioreactor", "raspberry", slog.New(slog.DiscardHandler)).Dial(context.Background(), pubsub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan pubsub.Message, 1000)
	if err := conn.Subscribe(context.Background(), "pioreactor/+/+/simulation/truth", pubsub.AtLeastOnce, func(m pubsub.Message) {
		select {
		case msgs <- m:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	const topic = "pioreactor/pio01/demo/simulation/truth"
	var truth map[string]any
	select {
	case m := <-msgs:
		if m.Topic != topic {
			t.Fatalf("truth on %s, want %s", m.Topic, topic)
		}
		if err := json.Unmarshal(m.Payload, &truth); err != nil {
			t.Fatalf("%s: %v", m.Payload, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no message on %s", topic)
	}
	var keys []string
	for k := range truth {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"alt_media_fraction", "growth_rate_per_hour", "heater_pcb_temperature_c", "liquid_temperature_c",
		"od", "rpm", "timestamp", "volume_ml"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if ts, _ := truth["timestamp"].(string); !stampForm.MatchString(ts) {
		t.Errorf("timestamp %q is not in the contract's form", truth["timestamp"])
	}
	if v, _ := truth["liquid_temperature_c"].(float64); v < 10 || v > 40 {
		t.Errorf("liquid at %v °C", truth["liquid_temperature_c"])
	}

	status, body := get(t, worker+"/unit_api/simulation/truth", "")
	if status != http.StatusOK || !strings.Contains(body, `"volume_ml":`) {
		t.Errorf("GET pio01 /unit_api/simulation/truth = %d %s", status, body)
	}
	status, body = get(t, "http://"+c.http+"/unit_api/simulation/truth", "")
	if status != http.StatusNotFound || !strings.Contains(body, "no simulated bioreactor") {
		t.Errorf("GET leader /unit_api/simulation/truth = %d %s, want 404: the leader's own unit is not simulated", status, body)
	}

	eventually(t, "stored truth", func() bool {
		_, body := get(t, "http://"+c.http+"/api/experiments/demo/time_series/simulation_truth/liquid_temperature_c", "")
		return strings.Contains(body, `"series":["pio01"]`)
	})
	status, body = get(t, "http://"+c.http+"/api/datasets/exportable", "")
	if status != http.StatusOK || !strings.Contains(body, `"dataset_name":"simulation_truth"`) {
		t.Errorf("datasets = %d, simulation_truth not listed", status)
	}
	status, body = get(t, "http://"+c.http+"/api/datasets/exportable/simulation_truth/preview?n_rows=2", "")
	if status != http.StatusOK || !strings.Contains(body, `"pioreactor_unit":"pio01"`) || !strings.Contains(body, `"growth_rate_per_hour":`) {
		t.Errorf("preview = %d %s", status, body)
	}

	if code, body := c.call(t, http.MethodDelete, "/api/experiments/demo/workers/pio01", ""); code >= 300 {
		t.Fatalf("unassign: %d %v", code, body)
	}
	eventually(t, "truth cleared after unassignment", func() bool {
		for {
			select {
			case m := <-msgs:
				if m.Topic == topic && len(m.Payload) == 0 {
					return true
				}
			default:
				return false
			}
		}
	})
}

// Without --sim nothing of the simulation truth exists: no publisher, no route, no dataset.
func TestNoSimulationTruthWithoutSim(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	if err := os.WriteFile(cfg, append(config.Template(), "\n[ui_basic_auth]\napi_key=k3y\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--role", "leader", "--config", cfg, "--data-dir", dir, "--unit", "leader",
			"--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0"}, out, out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	var base string
	eventually(t, "the daemon's banner", func() bool {
		if m := apiLine.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
		}
		return base != ""
	})
	status, body := get(t, base+"/unit_api/simulation/truth", "k3y")
	if status != http.StatusNotFound || !strings.Contains(body, "no simulated bioreactor") {
		t.Errorf("GET /unit_api/simulation/truth = %d %s, want 404", status, body)
	}
	status, body = get(t, base+"/api/datasets/exportable", "k3y")
	if status != http.StatusOK || strings.Contains(body, "simulation_truth") {
		t.Errorf("datasets = %d; simulation_truth listed: %v", status, strings.Contains(body, "simulation_truth"))
	}
}

// A unit gets a truth publisher exactly when it has a simulated bioreactor.
func TestTruthOnlyForSimulatedUnits(t *testing.T) {
	t.Parallel()
	for _, seed := range []int64{0, 7} {
		u, err := openUnit("pio01", unitDeps{dataDir: t.TempDir(), leader: "leader", dialer: pubsub.NewBus(), clock: clock.Real{},
			log: slog.New(slog.DiscardHandler), conf: config.LoadDefault(), simSeed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if has := u.truth != nil && u.simTruthAPI() != nil; has != (seed > 0) {
			t.Errorf("simSeed %d: truth publisher %v", seed, has)
		}
		if err := u.close(); err != nil {
			t.Error(err)
		}
	}
}

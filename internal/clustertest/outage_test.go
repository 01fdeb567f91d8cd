package clustertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// outageEnv sets the length of each outage of the outage tests (default 3s, so that
// `make test` stays short); the scenario is PIOREACTORD_OUTAGE=30s.
const outageEnv = "PIOREACTORD_OUTAGE"

func outageLength(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv(outageEnv)
	if v == "" {
		return 3 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration", outageEnv, v)
	}
	return d
}

// The outage on the embedded broker: a worker process reads OD at 1 Hz through a
// kill -STOP of the leader (which is the broker) and a kill -9 + restart of the leader on
// the same data directory. Every reading is stored exactly once.
func TestOutageEmbeddedBroker(t *testing.T) {
	t.Parallel()
	runOutage(t, nil)
}

// The same with Debian's mosquitto as the broker: kill -STOP of mosquitto, then kill -9 +
// restart of the leader (the broker stays up).
func TestOutageMosquitto(t *testing.T) {
	t.Parallel()
	m := startMosquittoProc(t)
	runOutage(t, m)
}

// outageCluster is a leader and one worker, pio01, as separate processes.
type outageCluster struct {
	dir        string
	leaderArgs []string
	leader     *proc
	worker     *proc
	api        client
}

func runOutage(t *testing.T, mosquitto *mosquittoProc) {
	outage := outageLength(t)
	const exp = "outage"
	c := &outageCluster{dir: t.TempDir()}
	workerPort := freePort(t)
	mq, extra := freePort(t), ""
	if mosquitto != nil {
		mq, extra = mosquitto.port, "embedded_broker=0\n"
	}
	text := clusterConfig(mq, map[string]int{"pio01": workerPort}, extra)
	if !strings.Contains(text, "samples_per_second=0.2\n") {
		t.Fatal("template changed: no samples_per_second=0.2")
	}
	text = strings.Replace(text, "samples_per_second=0.2\n", "samples_per_second=1\n", 1) // 1 Hz
	conf := writeConfig(t, filepath.Join(c.dir, "leader"), text)
	c.leaderArgs = []string{"--sim", "--role", "leader", "--units", "0", "--unit", "leader", "--config", conf,
		"--data-dir", filepath.Join(c.dir, "leader", "data"), "--http", "127.0.0.1:0"}
	if mosquitto == nil {
		c.leaderArgs = append(c.leaderArgs, "--mqtt", fmt.Sprintf("127.0.0.1:%d", mq), "--ws", "127.0.0.1:0")
	}
	c.startLeader(t, "leader")
	wconf := writeConfig(t, filepath.Join(c.dir, "pio01"), text)
	workerArgs := []string{"--sim", "--role", "worker", "--unit", "pio01", "--config", wconf,
		"--broker", fmt.Sprintf("127.0.0.1:%d", mq), "--data-dir", filepath.Join(c.dir, "pio01", "data"),
		"--http", fmt.Sprintf("127.0.0.1:%d", workerPort)}
	c.worker = start(t, "pio01", workerArgs...)
	c.worker.await(t, httpLine)

	c.api.must(t, http.StatusCreated, http.MethodPut, "/api/workers", map[string]any{"pioreactor_unit": "pio01"})
	c.api.must(t, http.StatusCreated, http.MethodPost, "/api/experiments", map[string]any{"experiment": exp})
	c.api.must(t, http.StatusOK, http.MethodPut, "/api/experiments/"+exp+"/workers", map[string]any{"pioreactor_unit": "pio01"})
	res := c.api.task(t, http.MethodPatch, "/api/workers/pio01/jobs/run/job_name/od_reading/experiments/"+exp, map[string]any{})
	if r := result(t, res, "pio01"); r["ok"] != true {
		t.Fatalf("start od_reading: %v", r)
	}
	time.Sleep(5 * time.Second)

	// 1. The broker freezes: its process is stopped, its connections stay open.
	frozen := c.leader.cmd.Process
	if mosquitto != nil {
		frozen = mosquitto.cmd.Process
	}
	t.Logf("kill -STOP of the broker for %v", outage)
	if err := frozen.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(outage)
	if err := frozen.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)

	// 2. The leader dies without a word and comes back on the same data directory.
	t.Logf("kill -9 of the leader, restarted after %v", outage)
	c.leader.kill(t)
	time.Sleep(outage)
	c.startLeader(t, "leader (restarted)")
	// The restarted broker has lost its retained messages: the assignment is republished
	// from the store.
	assignment := "pioreactor/pio01/$experiment/assignment"
	bus := watch(t, fmt.Sprintf("127.0.0.1:%d", mq), "pioreactor", "raspberry", assignment)
	eventually(t, "the retained assignment after the restart", func() error {
		bus.mu.Lock()
		defer bus.mu.Unlock()
		if v := bus.last[assignment]; !strings.Contains(v, `"experiment":"`+exp+`"`) {
			return fmt.Errorf("%s = %q", assignment, v)
		}
		return nil
	})
	time.Sleep(5 * time.Second)

	// Readings go on until the stop reaches the worker: the last is after stopAt-maxGap.
	stopAt := time.Now()
	c.api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/pio01/jobs/stop/job_name/od_reading/experiments/"+exp, nil)
	// The worker keeps running: it must replay what it kept by itself.
	c.awaitStored(t, exp, stopAt)
	// A clean stop on a healthy link leaves nothing to replay.
	c.worker.stop()
	if left := spoolTopics(t, filepath.Join(c.dir, "pio01", "data", "pio01", "outbox.db")); len(left) > 0 {
		t.Errorf("the worker's outbox holds %d messages after a clean stop: %v", len(left), left)
	}
	c.leader.stop()

	db, err := store.Open(filepath.Join(c.dir, "leader", "data", "pioreactor.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	byChannel := map[string][]time.Time{}
	it := db.Rows(store.Query{Table: store.ODReadings, Experiments: []string{exp}, Units: []string{"pio01"}})
	for it.Next() {
		r := it.Row()
		byChannel[r.Channel] = append(byChannel[r.Channel], r.Time)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if len(byChannel) == 0 {
		t.Fatal("no OD reading stored")
	}
	for ch, times := range byChannel {
		s := summarize(times)
		t.Logf("channel %s: %s", ch, s)
		if s.dups > 0 {
			t.Errorf("channel %s: %d readings stored twice", ch, s.dups)
		}
		if s.worst > maxGap {
			t.Errorf("channel %s: readings missing: a gap of %v after %s", ch, s.worst, s.at.Format(time.TimeOnly))
		}
		if s.last.Before(stopAt.Add(-maxGap)) {
			t.Errorf("channel %s: readings missing: the last is at %s, od_reading was stopped at %s", ch,
				s.last.Format(time.TimeOnly), stopAt.Format(time.TimeOnly))
		}
	}
}

// maxGap is the widest gap allowed between two stored readings at 1 Hz: a reading is late
// by at most one publish timeout when the outage begins; none is lost.
const maxGap = 2500 * time.Millisecond

// drainWait bounds the wait for a running worker to replay what it kept: its connections
// come back within paho's reconnect backoff, then a replay takes a second or two.
const drainWait = 90 * time.Second

// series is one channel's stored readings, summarized.
type series struct {
	expected, stored, dups int
	first, last, at        time.Time
	worst                  time.Duration
}

func (s series) String() string {
	return fmt.Sprintf("%d readings expected at 1 Hz from %s to %s, %d stored, %d duplicates, worst gap %v (after %s)",
		s.expected, s.first.Format(time.TimeOnly), s.last.Format(time.TimeOnly), s.stored, s.dups, s.worst, s.at.Format(time.TimeOnly))
}

func summarize(times []time.Time) series {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	s := series{stored: len(times)}
	if len(times) == 0 {
		return s
	}
	s.first, s.last = times[0], times[len(times)-1]
	for i := 1; i < len(times); i++ {
		gap := times[i].Sub(times[i-1])
		if gap == 0 {
			s.dups++
		}
		if gap > s.worst {
			s.worst, s.at = gap, times[i-1]
		}
	}
	s.expected = int(s.last.Sub(s.first).Round(time.Second)/time.Second) + 1
	return s
}

// awaitStored waits, the worker running, until the leader's API shows a reading for every
// second from the first to stopAt on each channel: whatever the worker kept during the
// outages has been replayed. It fails after drainWait.
func (c *outageCluster) awaitStored(t *testing.T, exp string, stopAt time.Time) {
	t.Helper()
	path := "/api/workers/pio01/experiments/" + exp + "/time_series/od_readings/channel?lookback=2&target_points=1000000"
	var last string
	for deadline := time.Now().Add(drainWait); time.Now().Before(deadline); time.Sleep(time.Second) {
		status, raw := c.api.raw(t, http.MethodGet, path, nil)
		if status != http.StatusOK {
			last = fmt.Sprintf("GET %s: %d %s", path, status, raw)
			continue
		}
		var ts struct {
			Data [][]struct {
				X string  `json:"x"`
				Y float64 `json:"y"`
			} `json:"data"`
		}
		if err := json.Unmarshal(raw, &ts); err != nil || len(ts.Data) != 1 {
			last = fmt.Sprintf("GET %s: %s", path, raw)
			continue
		}
		byChannel := map[float64][]time.Time{}
		for _, p := range ts.Data[0] {
			at, err := time.Parse(time.RFC3339Nano, p.X)
			if err != nil {
				t.Fatalf("GET %s: time %q: %v", path, p.X, err)
			}
			byChannel[p.Y] = append(byChannel[p.Y], at)
		}
		done := len(byChannel) > 0
		last = ""
		for ch, times := range byChannel {
			s := summarize(times)
			last += fmt.Sprintf("channel %v: %s; ", ch, s)
			done = done && s.worst <= maxGap && !s.last.Before(stopAt.Add(-maxGap))
		}
		if done {
			t.Logf("stored while the worker runs: %s", last)
			return
		}
	}
	t.Fatalf("the running worker did not replay its readings within %v: %s\nits log:\n%s", drainWait, last, tail(c.worker.out.String(), 40))
}

// spoolTopics lists the messages in a stopped worker's outbox.
func spoolTopics(t *testing.T, path string) []string {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries, err := db.Outbox().Oldest(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, e := range entries {
		topics = append(topics, fmt.Sprintf("%s at %s: %.80s", e.Topic, e.At.Format(time.TimeOnly+".000"), e.Payload))
	}
	return topics
}

// startLeader starts (or restarts) the leader with the cluster's arguments.
func (c *outageCluster) startLeader(t *testing.T, name string) {
	t.Helper()
	c.leader = start(t, name, c.leaderArgs...)
	c.api = client{base: "http://" + c.leader.await(t, httpLine), key: apiKey}
}

package clustertest

import (
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

	c.api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/pio01/jobs/stop/job_name/od_reading/experiments/"+exp, nil)
	c.awaitDrained(t, workerArgs)
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
		sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
		dups, worst, at := 0, time.Duration(0), time.Time{}
		for i := 1; i < len(times); i++ {
			gap := times[i].Sub(times[i-1])
			if gap == 0 {
				dups++
			}
			if gap > worst {
				worst, at = gap, times[i-1]
			}
		}
		expected := int(times[len(times)-1].Sub(times[0]).Round(time.Second)/time.Second) + 1
		t.Logf("channel %s: %d readings expected at 1 Hz from %s to %s, %d stored, %d duplicates, worst gap %v (after %s)",
			ch, expected, times[0].Format(time.TimeOnly), times[len(times)-1].Format(time.TimeOnly), len(times), dups, worst, at.Format(time.TimeOnly))
		if dups > 0 {
			t.Errorf("channel %s: %d readings stored twice", ch, dups)
		}
		// A reading is late by at most one publish timeout when the outage begins; none
		// is lost.
		if worst > 2500*time.Millisecond {
			t.Errorf("channel %s: readings missing: a gap of %v after %s", ch, worst, at.Format(time.TimeOnly))
		}
	}
}

// startLeader starts (or restarts) the leader with the cluster's arguments.
func (c *outageCluster) startLeader(t *testing.T, name string) {
	t.Helper()
	c.leader = start(t, name, c.leaderArgs...)
	c.api = client{base: "http://" + c.leader.await(t, httpLine), key: apiKey}
}

// awaitDrained stops the worker and checks its outbox is empty; if not, it restarts it to
// replay the rest (a stopped worker keeps its spool), a few times.
func (c *outageCluster) awaitDrained(t *testing.T, workerArgs []string) {
	t.Helper()
	spool := filepath.Join(c.dir, "pio01", "data", "pio01", "outbox.db")
	for try := 0; ; try++ {
		time.Sleep(5 * time.Second)
		c.worker.stop()
		db, err := store.Open(spool, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.Outbox().Len()
		_ = db.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if try == 3 {
			t.Fatalf("the worker's outbox still holds %d messages", n)
		}
		t.Logf("the worker's outbox holds %d messages: restarting it to replay them; its log:\n%s", n, tail(c.worker.out.String(), 30))
		c.worker = start(t, fmt.Sprintf("pio01 (restart %d)", try+1), workerArgs...)
		c.worker.await(t, httpLine)
	}
}

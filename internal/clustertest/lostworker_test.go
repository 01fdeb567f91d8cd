package clustertest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// lostWindow is how long the broker may take to give up on a silent worker: its last will
// fires after 1.5 keep-alives (125 s). A killed process closes its sockets, so the will
// fires at once; a frozen one takes the whole window.
const lostWindow = 190 * time.Second

// The leader's lost-worker watch: kill -9 a worker and the leader marks it lost in the
// inventory (GET /api/workers: lost_since) within the window, logging it once; start the
// worker again and the mark goes, without restarting the leader.
func TestLeaderMarksKilledWorkerLost(t *testing.T) {
	c := startCluster(t, "", 0)
	for _, w := range []string{"pio01", "pio02"} {
		c.api.must(t, http.StatusCreated, http.MethodPut, "/api/workers",
			map[string]any{"pioreactor_unit": w, "model_name": "pioreactor_40ml", "model_version": "1.5"})
	}
	lostSince := func() (map[string]string, error) {
		status, body := c.api.do(t, http.MethodGet, "/api/workers", nil)
		if status != http.StatusOK {
			return nil, fmt.Errorf("GET /api/workers: %d", status)
		}
		out := map[string]string{}
		for _, row := range body.([]any) {
			w := row.(map[string]any)
			if s, ok := w["lost_since"].(string); ok {
				out[w["pioreactor_unit"].(string)] = s
			}
		}
		return out, nil
	}
	if lost, err := lostSince(); err != nil || len(lost) != 0 {
		t.Fatalf("before any loss: %v, %v", lost, err)
	}

	args := c.workers["pio02"].cmd.Args[1:]
	killed := time.Now()
	c.workers["pio02"].kill(t)
	deadline := killed.Add(lostWindow)
	for {
		lost, err := lostSince()
		if err == nil && lost["pio02"] != "" && lost["pio01"] == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after the kill: lost %v, %v", time.Since(killed).Round(time.Second), lost, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("pio02 marked lost %v after kill -9", time.Since(killed).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // the will is retained; nothing more is logged
	if n := strings.Count(c.leader.out.String(), "pio02 seems to be lost."); n != 1 {
		t.Fatalf("the leader logged the loss %d times:\n%s", n, tail(c.leader.out.String(), 30))
	}

	c.workers["pio02"] = start(t, "pio02", args...)
	c.workers["pio02"].await(t, httpLine)
	eventually(t, "pio02 back in the inventory", func() error {
		lost, err := lostSince()
		if err != nil {
			return err
		}
		if s := lost["pio02"]; s != "" {
			return fmt.Errorf("pio02 still lost since %s", s)
		}
		if !strings.Contains(c.leader.out.String(), "pio02 is back.") {
			return fmt.Errorf("the leader did not log the return")
		}
		return nil
	})
}

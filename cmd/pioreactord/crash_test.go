package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// daemonProc is a pioreactord process the test can kill -9.
type daemonProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	http string
}

func startDaemonProc(t *testing.T, bin string, args ...string) *daemonProc {
	t.Helper()
	p := &daemonProc{out: &syncBuffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	for i := 0; i < 400 && p.http == ""; i++ {
		if m := apiLine.FindStringSubmatch(p.out.String()); m != nil {
			p.http = m[1]
		}
		time.Sleep(25 * time.Millisecond)
	}
	if p.http == "" {
		t.Fatalf("daemon did not start:\n%s", p.out.String())
	}
	return p
}

// odPoints counts the OD readings the leader's chart route returns for the experiment.
func (p *daemonProc) odPoints(t *testing.T) int {
	t.Helper()
	resp, err := http.Get("http://" + p.http + "/api/experiments/demo/time_series/od_readings?lookback=100&target_points=100000")
	if err != nil {
		t.Fatalf("%v; the daemon's output:\n%s", err, p.out.String())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v struct{ Data [][]any }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil {
		t.Fatalf("time_series: %d %s", resp.StatusCode, b)
	}
	n := 0
	for _, s := range v.Data {
		n += len(s)
	}
	return n
}

// kill -9 of the leader while it ingests, then a restart on the same data: the store opens,
// and every reading it had already served is still there.
func TestLeaderKilledDuringIngestKeepsItsData(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the daemon")
	}
	bin := buildDaemon(t)
	data := t.TempDir()
	args := []string{"--sim", "--units", "2", "--speed", "60", "--data-dir", data, "--unit", "leader",
		"--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0"}
	p := startDaemonProc(t, bin, args...)
	req, _ := http.NewRequest(http.MethodPatch, "http://"+p.http+"/api/workers/$broadcast/jobs/run/job_name/od_reading/experiments/demo", strings.NewReader(`{}`))
	req.Header.Set("content-type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	var before int
	for deadline := time.Now().Add(30 * time.Second); before < 100 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		before = p.odPoints(t)
	}
	if before < 100 {
		t.Fatalf("only %d readings stored", before)
	}
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL, mid-ingest
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	again := startDaemonProc(t, bin, args...)
	// The simulated clock restarts from the wall clock, behind the virtual time of the
	// readings already stored: the chart's window reaches them once it has caught up.
	after := 0
	for deadline := time.Now().Add(30 * time.Second); after < before && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		after = again.odPoints(t)
	}
	if after < before {
		t.Fatalf("%d readings served before kill -9, %d after the restart", before, after)
	}
	t.Logf("%d readings served before kill -9, %d after the restart", before, after)
}

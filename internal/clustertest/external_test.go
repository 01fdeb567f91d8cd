package clustertest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mosquittoProc is a running mosquitto and its port.
type mosquittoProc struct {
	cmd  *exec.Cmd
	port int
}

// startMosquitto runs Debian's mosquitto on a free loopback port with the cluster's
// credentials and no anonymous access. Without mosquitto the test is skipped, except in CI.
func startMosquitto(t *testing.T) int {
	t.Helper()
	return startMosquittoProc(t).port
}

// startMosquittoProc is startMosquitto, with the process (to stop and continue it).
func startMosquittoProc(t *testing.T) *mosquittoProc {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
			}
		}
	}
	passwd, perr := exec.LookPath("mosquitto_passwd")
	if err != nil || perr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("mosquitto is not installed (make test-deps installs it)")
		}
		t.Skip("mosquitto is not installed")
	}
	dir := t.TempDir()
	pw := filepath.Join(dir, "passwd")
	if out, err := exec.Command(passwd, "-b", "-c", pw, "pioreactor", "raspberry").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	port := freePort(t)
	conf := filepath.Join(dir, "mosquitto.conf")
	text := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\npersistence false\nlog_dest stderr\n", port, pw)
	if os.Geteuid() == 0 {
		// As root, mosquitto drops to user mosquitto, who cannot read the test's temp dir.
		text += "user root\n"
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := &output{}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mosquitto: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT) // a test that failed while it was stopped
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return &mosquittoProc{cmd: cmd, port: port}
		}
	}
	t.Fatalf("mosquitto did not listen on %s:\n%s", addr, out.String())
	return nil
}

// TestExternalBroker: with [mqtt] embedded_broker=0 the leader runs no broker of its own and
// the whole cluster (leader API, workers, jobs) goes through a Mosquitto it is pointed at.
func TestExternalBroker(t *testing.T) {
	t.Parallel()
	port := startMosquitto(t)
	c := startCluster(t, "embedded_broker=0\n", port)
	if strings.Contains(c.leader.out.String(), "WebSocket") {
		t.Fatalf("the leader started its own broker:\n%s", c.leader.out.String())
	}
	bus := watch(t, c.mqtt, "pioreactor", "raspberry", "pioreactor/#")
	api := c.api
	api.must(t, http.StatusCreated, http.MethodPut, "/api/workers", map[string]any{"pioreactor_unit": "pio01"})
	api.must(t, http.StatusCreated, http.MethodPost, "/api/experiments", map[string]any{"experiment": "ext"})
	api.must(t, http.StatusOK, http.MethodPut, "/api/experiments/ext/workers", map[string]any{"pioreactor_unit": "pio01"})
	res := api.task(t, http.MethodPatch, "/api/workers/pio01/jobs/run/job_name/stirring/experiments/ext", map[string]any{})
	if r := result(t, res, "pio01"); r["ok"] != true {
		t.Fatalf("start stirring: %v", r)
	}
	bus.wait(t, "pioreactor/pio01/ext/stirring/$state", "ready")
	api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/pio01/jobs/update/job_name/stirring/experiments/ext",
		map[string]any{"settings": map[string]any{"target_rpm": 321}})
	bus.wait(t, "pioreactor/pio01/ext/stirring/target_rpm", "321.0")
	api.must(t, http.StatusAccepted, http.MethodPatch, "/api/workers/pio01/jobs/stop/job_name/stirring/experiments/ext", nil)
	bus.wait(t, "pioreactor/pio01/ext/stirring/$state", "disconnected")
}

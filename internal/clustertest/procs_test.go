package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// bins holds the binaries TestMain builds once: pioreactord, pio and its pios link.
var bins struct{ daemon, pio, pios string }

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clustertest-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		bins.daemon, bins.pio, bins.pios = filepath.Join(dir, "pioreactord"), filepath.Join(dir, "pio"), filepath.Join(dir, "pios")
		for bin, pkg := range map[string]string{bins.daemon: "cmd/pioreactord", bins.pio: "cmd/pio"} {
			// GOFLAGS from the environment applies, as for the test binary itself.
			cmd := exec.Command(goTool(), "build", "-o", bin, "github.com/pioreactor/pioreactord/"+pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
				return 1
			}
		}
		if err := os.Symlink(bins.pio, bins.pios); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// goTool is the go command: the one that runs this test ($GOROOT/bin, set by go test), else
// the one on PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// output collects a process's stdout and stderr while it runs.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// proc is one daemon process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *output
	done chan struct{}
}

// start runs pioreactord with args; the process is stopped (SIGTERM, then SIGKILL) at the
// end of the test, and its output shown if the test failed.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &output{}, done: make(chan struct{})}
	p.cmd = exec.Command(bins.daemon, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, tail(p.out.String(), 60))
		}
	})
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stop asks the process to end and waits; a process that does not end in 10 s is killed.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill is kill -9: the unit vanishes without a word.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.done
}

// await waits until the output matches re and returns its first group.
func (p *proc) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.out.String()); m != nil {
			return m[1]
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited:\n%s", p.name, tail(p.out.String(), 40))
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not print %s:\n%s", p.name, re, tail(p.out.String(), 40))
	return ""
}

var httpLine = regexp.MustCompile(`HTTP API\s+http://(\S+)`)

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeConfig writes dir/config.ini.
func writeConfig(t *testing.T, dir, text string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.ini")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// client talks to a daemon's API with the cluster's key.
type client struct {
	base, key string
}

// do sends a request and returns the status and the decoded JSON (nil if not JSON).
func (c client) do(t *testing.T, method, path string, body any) (int, any) {
	t.Helper()
	status, raw := c.raw(t, method, path, body)
	var v any
	_ = json.Unmarshal(raw, &v)
	return status, v
}

func (c client) raw(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Basic "+c.key)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// must sends a request that must answer want, and returns the JSON answer.
func (c client) must(t *testing.T, want int, method, path string, body any) any {
	t.Helper()
	status, raw := c.raw(t, method, path, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, raw, want)
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	return v
}

// task sends a request that must answer 202 with a task and returns the task's result.
func (c client) task(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	acc, _ := c.must(t, http.StatusAccepted, method, path, body).(map[string]any)
	url, _ := acc["result_url_path"].(string)
	if url == "" {
		t.Fatalf("%s %s: no task in %v", method, path, acc)
	}
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		status, v := c.do(t, http.MethodGet, url, nil)
		if status == http.StatusOK {
			m := v.(map[string]any)
			if m["status"] != "succeeded" {
				t.Fatalf("task of %s %s: %v", method, path, m)
			}
			res, _ := m["result"].(map[string]any)
			return res
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("task of %s %s never finished", method, path)
	return nil
}

// broker watches retained values on the cluster's broker.
type broker struct {
	conn pubsub.Client
	mu   sync.Mutex
	last map[string]string
}

func watch(t *testing.T, addr, user, pass, filter string) *broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pubsub.NewDialer(addr, user, pass, nil).Dial(ctx, pubsub.Options{})
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(conn.Close)
	b := &broker{conn: conn, last: map[string]string{}}
	if err := conn.Subscribe(ctx, filter, pubsub.AtLeastOnce, func(m pubsub.Message) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.last[m.Topic] = string(m.Payload)
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// wait waits until topic's latest payload is want.
func (b *broker) wait(t *testing.T, topic, want string) {
	t.Helper()
	var got string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		got = b.last[topic]
		b.mu.Unlock()
		if got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s = %q, want %q", topic, got, want)
}

// eventually retries check until it passes (nil) or 20 s are spent, then fails with its error.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	var err error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: %v", what, err)
}

package clustertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cliRun runs pio or pios against the cluster and returns its exit code and output.
func cliRun(t *testing.T, c *testCluster, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "PIO_LEADER_URL="+c.api.base, "PIO_URL="+c.api.base, "PIO_API_KEY="+apiKey,
		"PIO_BROKER="+c.mqtt, "DOT_PIOREACTOR="+t.TempDir(), "EXPERIMENT=")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = strings.NewReader("")
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return code, out.String(), errOut.String()
}

// expect runs a command line that must exit with code and print want (on either stream).
func expect(t *testing.T, c *testCluster, code int, want string, bin string, args ...string) string {
	t.Helper()
	got, out, errOut := cliRun(t, c, bin, args...)
	if got != code || !strings.Contains(out+errOut, want) {
		t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit %d with %q",
			bin[strings.LastIndex(bin, "/")+1:], strings.Join(args, " "), got, out, errOut, code, want)
	}
	return out
}

// cliSmoke runs the pio and pios binaries against the running cluster: pio straight at a
// worker's daemon and through the leader (--unit), pios through the leader's relay.
func cliSmoke(t *testing.T, c *testCluster) {
	pio01 := "--url=http://" + c.workers["pio01"].await(t, httpLine)
	bus := watch(t, c.mqtt, "pioreactor", "raspberry", "pioreactor/+/exp1/#")

	expect(t, c, 0, "0.", bins.pio, "version")
	expect(t, c, 0, "Backed up the database to ", bins.pio, "backup_database")
	expect(t, c, 0, "Usage: pio", bins.pio)
	expect(t, c, 2, "No such command 'no_such_job'", bins.pio, pio01, "run", "no_such_job")
	expect(t, c, 2, "Missing argument 'VALUE'", bins.pio, pio01, "jobs", "set", "stirring", "target-rpm")
	expect(t, c, 1, "Aborted!", bins.pio, pio01, "kill")

	expect(t, c, 0, "Started od_reading on pio02.", bins.pio, "--unit", "pio02", "run", "od_reading")
	bus.wait(t, "pioreactor/pio02/exp1/od_reading/$state", "ready")
	expect(t, c, 0, "od_reading experiment=exp1", bins.pio, "--unit", "pio02", "jobs", "list", "running")

	expect(t, c, 0, "", bins.pio, pio01, "jobs", "set", "stirring", "target-rpm", "420")
	bus.wait(t, "pioreactor/pio01/exp1/stirring/target_rpm", "420.0")
	expect(t, c, 0, "| pioreactor/pio01/exp1/stirring/target_rpm | 420.0", bins.pio, "mqtt", "-t", "pioreactor/pio01/exp1/stirring/target_rpm", "-n", "1")
	expect(t, c, 0, "Killed 1 job.", bins.pio, pio01, "kill", "--job-name", "od_reading")
	bus.wait(t, "pioreactor/pio01/exp1/od_reading/$state", "disconnected")

	out := expect(t, c, 0, "pio02", bins.pios, "jobs", "list", "running")
	if !strings.Contains(out, "pio01") || !strings.Contains(out, "  [job_id=") {
		t.Errorf("pios jobs list running:\n%s", out)
	}
	expect(t, c, 2, "Unknown unit(s): nope.", bins.pios, "run", "stirring", "--units", "nope", "-y")
	expect(t, c, 1, "Aborted!", bins.pios, "run", "od_reading", "--units", "pio01") // no answer to the prompt
	expect(t, c, 0, "", bins.pios, "run", "od_reading", "--units", "pio01", "-y")
	bus.wait(t, "pioreactor/pio01/exp1/od_reading/$state", "ready")
	expect(t, c, 0, "", bins.pios, "kill", "--job-name", "od_reading", "--experiments", "exp1", "-y")
	for _, w := range []string{"pio01", "pio02"} {
		bus.wait(t, "pioreactor/"+w+"/exp1/od_reading/$state", "disconnected")
	}
	expect(t, c, 0, "", bins.pios, "sync-configs", "-y")
	expect(t, c, 0, "pio01", bins.pio, "workers", "status")
}

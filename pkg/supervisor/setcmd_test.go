package supervisor

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// slowJob declares a settable float `speed` and applies no command until release closes.
type slowJob struct{ release chan struct{} }

func (j *slowJob) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.Declare(Setting{Name: "speed", Datatype: contract.Float, Settable: true}); err != nil {
		return err
	}
	if err := rt.Set(ctx, "speed", 0.0); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	select {
	case <-j.release:
	case <-ctx.Done():
		return nil
	}
	return rt.Serve(ctx)
}

// A flood of /set messages faster than the job applies them ends with the newest value, and
// costs one pair of log lines, not one per message.
func TestSetFloodKeepsNewestValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 10000
		job := &slowJob{release: make(chan struct{})}
		r := newRig(t, Spec{Name: "stirring", New: func(Options) (Job, error) { return job, nil }})
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= n; i++ {
			r.set("stirring", "speed", strconv.Itoa(i))
		}
		synctest.Wait()
		close(job.release)
		synctest.Wait()
		if got := r.retained("stirring", "speed"); got != strconv.Itoa(n)+".0" {
			t.Fatalf("speed after %d /set = %q, want %d.0", n, got, n)
		}
		if c := r.logs.count("WARN"); c > 2 {
			t.Fatalf("%d warnings for one burst, want at most 2", c)
		}
		if !r.logs.has("superseded") {
			t.Error("the superseded values were not reported")
		}
	})
}

// Refused /set payloads say what was wrong and are quoted short in the log.
func TestSetRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, specOf("stirring", &testJob{}))
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		huge := strings.Repeat("x", 1<<20)
		for _, p := range []string{"NaN", "inf", "-Infinity", "1e400", huge, "abc"} {
			r.set("stirring", "speed", p)
		}
		r.set("stirring", "$state", huge)
		synctest.Wait()
		if got := r.retained("stirring", "speed"); got != "400.0" {
			t.Fatalf("speed = %q after refused payloads, want 400.0", got)
		}
		for _, want := range []string{"'NaN' is not a number (NaN)", "'inf' is not a finite number", "'1e400' is too large",
			"could not convert string to float: 'abc'", "(1048576 bytes)"} {
			if !r.logs.has(want) {
				t.Errorf("no log line with %q", want)
			}
		}
		if n := r.logs.longest(); n > 300 {
			t.Errorf("a log line of %d bytes: payloads must be cut", n)
		}
	})
}

func TestEcho(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"abc", "'abc'"},
		{"a\x00b\n", `'a\x00b\n'`},
		{strings.Repeat("y", 65), "'" + strings.Repeat("y", 64) + "…' (65 bytes)"},
	} {
		if got := echo([]byte(tc.in)); got != tc.want {
			t.Errorf("echo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// At start the supervisor switches every output off and replaces a retained pwms/dc left by
// a killed daemon (a pump at 100 %) with the truth.
func TestPWMTruthAtStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		topic := contract.Topic("pio01", "exp", "pwms", "dc")
		r := newRigWith(t, rigOptions{before: func(r *rig) {
			_ = r.pwm.SetDutyCycle(100)
			c, _ := r.bus.Dial(context.Background(), pubsub.Options{})
			_ = c.Publish(context.Background(), topic, []byte(`{"17": 100.0}`), 1, true)
			c.Close()
		}})
		defer r.shutdown()
		synctest.Wait()
		if got, _ := r.bus.Retained(topic); string(got) != "{}" {
			t.Fatalf("retained pwms/dc = %q after start, want {}", got)
		}
		if r.pwm.get() != 0 {
			t.Fatalf("PWM at %v after start, want 0", r.pwm.get())
		}
	})
}

// helperJob starts a helper that needs a moment after the job's ctx ends, and returns.
type helperJob struct{ ended atomic.Bool }

func (j *helperJob) Run(ctx context.Context, rt *Runtime) error {
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	rt.Go(func() {
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // say, a final publish
		j.ended.Store(true)
	})
	<-ctx.Done()
	return nil
}

// Goroutines started with Runtime.Go are joined before the job is finished.
func TestGoJoinedBeforeFinish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		job := &helperJob{}
		r := newRig(t, Spec{Name: "stirring", New: func(Options) (Job, error) { return job, nil }})
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		if n, _ := r.sup.StopJobs(context.Background(), contract.StopFilter{JobName: "stirring"}); n != 1 {
			t.Fatalf("stopped %d jobs", n)
		}
		if !job.ended.Load() {
			t.Fatal("a helper goroutine outlived its job")
		}
	})
}

// Internal client ids carry a long random suffix: a client cannot guess one to take over
// a job's session.
func TestClientIDsUnguessable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := make(chan string, 8)
		r := newRigWith(t, rigOptions{dialer: func(b *pubsub.Bus) pubsub.Dialer {
			return dialFunc(func(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
				ids <- o.ClientID
				return b.Dial(ctx, o)
			})
		}}, specOf("stirring", &testJob{}))
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			id := <-ids
			i := strings.LastIndexByte(id, '-')
			if len(id)-i-1 < 16 {
				t.Errorf("client id %q: random suffix shorter than 16 characters", id)
			}
		}
	})
}

type dialFunc func(ctx context.Context, o pubsub.Options) (pubsub.Client, error)

func (f dialFunc) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	return f(ctx, o)
}

// jsonJob has a JSON setting whose setter refuses every value, quoting it whole.
type jsonJob struct{}

func (jsonJob) Run(ctx context.Context, rt *Runtime) error {
	err := rt.Declare(Setting{Name: "profile", Datatype: contract.JSON, Settable: true, OnSet: func(v any) error {
		return fmt.Errorf("profile %s refused", v)
	}})
	if err == nil {
		err = rt.Set(ctx, "profile", json.RawMessage(`{}`))
	}
	if err == nil {
		err = rt.Ready(ctx)
	}
	if err != nil {
		return err
	}
	return rt.Serve(ctx)
}

// A setter's error that quotes a large value is cut in the log.
func TestSetterErrorClipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, Spec{Name: "stirring", New: func(Options) (Job, error) { return jsonJob{}, nil }})
		defer r.shutdown()
		if err := r.start("stirring"); err != nil {
			t.Fatal(err)
		}
		r.set("stirring", "profile", `{"a":"`+strings.Repeat("z", 60000)+`"}`)
		synctest.Wait()
		if !r.logs.has("bytes)") {
			t.Fatal("the setter's error was not logged cut")
		}
		if n := r.logs.longest(); n > 700 {
			t.Fatalf("a log line of %d bytes", n)
		}
	})
}

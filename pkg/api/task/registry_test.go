package task

import (
	"context"
	"errors"
	"testing"
	"time"
)

// wait polls until id leaves Pending (the registry has no completion hook on purpose: polling
// is its contract).
func wait(t *testing.T, r *Registry, id string) Outcome {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if o := r.Lookup(id); o.Status != Pending {
			return o
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("task %s still pending", id)
	return Outcome{}
}

func TestOutcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fn   Func
		want Outcome
	}{
		{"value", func(context.Context) (any, error) { return 3, nil }, Outcome{Status: Succeeded, Result: 3}},
		{"nil result", func(context.Context) (any, error) { return nil, nil }, Outcome{Status: Succeeded}},
		{"error", func(context.Context) (any, error) { return nil, errors.New("boom") },
			Outcome{Status: Failed, Failure: Failure{Message: "boom", Cause: "boom"}}},
		{"python repr unwrapped", func(context.Context) (any, error) { return nil, errors.New(`RuntimeError("X")`) },
			Outcome{Status: Failed, Failure: Failure{Message: "X", Cause: "X"}}},
		{"failure kept", func(context.Context) (any, error) {
			return nil, &Failure{Message: "m", Remediation: "r"}
		}, Outcome{Status: Failed, Failure: Failure{Message: "m", Cause: "m", Remediation: "r"}}},
		{"panic", func(context.Context) (any, error) { panic("oops") },
			Outcome{Status: Failed, Failure: Failure{Message: "task panicked: oops", Cause: "task panicked: oops"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := New(0)
			defer r.Close()
			id := r.Submit(tc.fn)
			if got := wait(t, r, id); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if got := r.Lookup(id); got != tc.want {
				t.Fatalf("second read %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestUnknownIsPendingAndEviction(t *testing.T) {
	t.Parallel()
	r := New(2)
	defer r.Close()
	if r.Lookup("nope").Status != Pending {
		t.Fatal("unknown id not pending")
	}
	ids := make([]string, 3)
	for i := range ids {
		ids[i] = r.Submit(func(context.Context) (any, error) { return i, nil })
		wait(t, r, ids[i])
	}
	if r.Lookup(ids[0]).Status != Pending || r.Lookup(ids[2]).Result != 2 {
		t.Fatalf("oldest not evicted: %+v %+v", r.Lookup(ids[0]), r.Lookup(ids[2]))
	}
}

func TestCloseCancelsAndRefuses(t *testing.T) {
	t.Parallel()
	r := New(0)
	started := make(chan struct{})
	id := r.Submit(func(ctx context.Context) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	<-started
	r.Close()
	if o := r.Lookup(id); o.Status != Failed || o.Failure.Message != "context canceled" {
		t.Fatalf("got %+v", o)
	}
	if o := r.Lookup(r.Submit(func(context.Context) (any, error) { return 1, nil })); o.Status != Failed {
		t.Fatalf("submit after close: %+v", o)
	}
}

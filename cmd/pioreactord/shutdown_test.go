package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A SIGTERM while the --demo jobs are still starting is a clean shutdown: run returns nil
// and nothing is logged at ERROR (a job seeing its own cancellation is not a failure).
func TestCleanShutdownLogsNoError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after time.Duration // after the banner; < 0: cancelled before run starts
	}{
		{"before start", -1},
		{"at the banner", 0},
		{"jobs starting", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.after < 0 {
				cancel()
			}
			out := &syncBuffer{}
			done := make(chan error, 1)
			args := []string{"--sim", "--demo", "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--mqtt", "127.0.0.1:0", "--ws", "127.0.0.1:0", "--unit", "leader"}
			go func() { done <- run(ctx, args, out, out) }()
			if tc.after >= 0 {
				for deadline := time.Now().Add(20 * time.Second); !apiLine.MatchString(out.String()); time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("no banner:\n%s", out.String())
					}
				}
				time.Sleep(tc.after) // not an assertion on time: any moment of the start will do
				cancel()
			}
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run returned %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("daemon did not stop")
			}
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.Contains(l, "level=ERROR") {
					t.Errorf("ERROR logged at shutdown: %s", l)
				}
			}
		})
	}
}

package main

import (
	"os"
	"testing"
)

// A --sim worker started without a config must expect the leader a --sim leader started
// without --unit calls itself (the host's name): with another name its outbox never sees
// the leader's streamer and never replays what it kept during an outage.
func TestSimWorkerExpectsTheHostsLeader(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Skip("no hostname on this machine")
	}
	leaderOpts := options{sim: true, role: "both", unit: host}
	for _, tc := range []struct {
		name string
		o    options
		want string
	}{
		{"leader without --unit", leaderOpts, host},
		{"leader with --unit", options{sim: true, role: "leader", unit: "boss"}, "boss"},
		{"worker without a config", options{sim: true, role: "worker", unit: "pio09"}, host},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := simLeaderName(tc.o)
			if err != nil || got != tc.want {
				t.Fatalf("simLeaderName = %q, %v; want %q", got, err, tc.want)
			}
			tc.o.dataDir = t.TempDir()
			conf, _, err := loadConfig(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := conf.LeaderHostname(); got != tc.want {
				t.Fatalf("the loaded config names leader %q; want %q", got, tc.want)
			}
		})
	}
}

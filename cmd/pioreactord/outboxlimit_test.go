package main

import (
	"testing"

	"github.com/pioreactor/pioreactord/pkg/config"
)

// A worker's outbox replays at most half the broker's maximum packet at a time.
func TestReplayMaxBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  int
	}{
		{"", 512 << 10},
		{"65536", 32 << 10},
		{"2097152", 1 << 20},
	} {
		conf := config.LoadDefault().With([][3]string{{config.SecMQTT, keyMaxPacket, tc.value}})
		if got := replayMaxBytes(conf); got != tc.want {
			t.Errorf("max_packet_size=%q: %d, want %d", tc.value, got, tc.want)
		}
	}
}

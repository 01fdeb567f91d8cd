package main

import (
	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/config"
)

// replayMaxBytes bounds one outbox replay to half the broker's largest packet ([mqtt]
// max_packet_size, blank for the broker's default), leaving room for the packet's topic
// and headers: a larger replay would be refused on every try. A value the start checks
// refuse never gets here; should one, the default holds.
func replayMaxBytes(conf *config.Config) int {
	n, err := intOr(conf, config.SecMQTT, keyMaxPacket, 0)
	if err != nil || n <= 0 {
		n = broker.DefaultMaxPacketSize
	}
	return n / 2
}

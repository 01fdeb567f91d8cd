package broker

import (
	"bytes"
	"math"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// packetIDs works around a mochi v2.7.9 bug. MQTT packet identifiers are chosen by each
// side independently (3.1.1 §2.3.1), but mochi keeps the client's and its own in one
// per-client in-flight map, and answers a SUBSCRIBE or UNSUBSCRIBE whose id equals that
// of a QoS>0 message it is still delivering to the client with "identifier in use":
// the subscription is refused (SUBACK 0x91, not even a valid 3.1.1 code) or the
// unsubscription silently ignored. paho and mochi both count ids up from 1, so a job that
// subscribes while retained messages are arriving hits this readily.
//
// The fix: on reading such a packet, swap its id for one that is free in the map, and
// put the client's id back when the SUBACK/UNSUBACK is encoded. mochi reads a client's
// packets one at a time and writes the ack before reading the next, so one swap per
// client is outstanding at most.
type packetIDs struct {
	mqtt.HookBase
	swapped sync.Map // *mqtt.Client -> idSwap
}

type idSwap struct{ client, broker uint16 }

func (h *packetIDs) ID() string { return "pioreactord-packet-ids" }

func (h *packetIDs) Provides(b byte) bool {
	return bytes.IndexByte([]byte{mqtt.OnPacketRead, mqtt.OnPacketEncode, mqtt.OnDisconnect}, b) >= 0
}

func (h *packetIDs) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if t := pk.FixedHeader.Type; t != packets.Subscribe && t != packets.Unsubscribe {
		return pk, nil
	}
	if _, inUse := cl.State.Inflight.Get(pk.PacketID); !inUse {
		return pk, nil
	}
	// mochi hands out its own ids counting up from 1, so search from the top.
	for id := uint16(math.MaxUint16); id > 0; id-- {
		if _, inUse := cl.State.Inflight.Get(id); !inUse {
			h.swapped.Store(cl, idSwap{client: pk.PacketID, broker: id})
			pk.PacketID = id
			break
		}
	}
	return pk, nil
}

func (h *packetIDs) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if t := pk.FixedHeader.Type; t != packets.Suback && t != packets.Unsuback {
		return pk
	}
	if v, ok := h.swapped.Load(cl); ok && v.(idSwap).broker == pk.PacketID {
		h.swapped.Delete(cl)
		pk.PacketID = v.(idSwap).client
	}
	return pk
}

func (h *packetIDs) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	h.swapped.Delete(cl)
}

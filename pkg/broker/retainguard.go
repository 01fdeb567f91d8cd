package broker

import (
	"bytes"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// retainGuard works around a data race in mochi v2.7.9: a SUBSCRIBE with a wildcard scans
// the topic tree's retained paths (TopicsIndex.scanMessages) without the locks under which a
// retained PUBLISH or last will writes them (TopicsIndex.RetainMessage). Readers of the tree
// (subscribes) take a read lock and writers (retained publishes and wills) the write lock,
// from the hook that opens each operation to the hook that mochi always calls after it.
type retainGuard struct {
	mqtt.HookBase
	mu   sync.RWMutex
	held sync.Map // *mqtt.Client -> bool (true: write lock) for the packet being processed
	will sync.Map // *mqtt.Client -> struct{}: the write lock taken for its retained will
}

func (g *retainGuard) ID() string { return "pioreactord-retain-guard" }

func (g *retainGuard) Provides(b byte) bool {
	return bytes.IndexByte([]byte{mqtt.OnSubscribe, mqtt.OnPublish, mqtt.OnPacketProcessed, mqtt.OnWill, mqtt.OnWillSent}, b) >= 0
}

// OnSubscribe runs once a SUBSCRIBE is valid; OnPacketProcessed always follows it.
func (g *retainGuard) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	g.mu.RLock()
	g.held.Store(cl, false)
	return pk
}

// OnPublish runs once a PUBLISH is accepted, before mochi retains it.
func (g *retainGuard) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Retain {
		g.mu.Lock()
		g.held.Store(cl, true)
	}
	return pk, nil
}

func (g *retainGuard) OnPacketProcessed(cl *mqtt.Client, _ packets.Packet, _ error) {
	if write, ok := g.held.LoadAndDelete(cl); ok {
		if write.(bool) {
			g.mu.Unlock()
		} else {
			g.mu.RUnlock()
		}
	}
}

// OnWill runs before a last will is retained and published; OnWillSent after, unless the
// will is delayed (MQTT 5 only), which is then left unguarded.
func (g *retainGuard) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if will.Retain && will.WillDelayInterval == 0 { // a delayed will is retained later, unguarded
		g.mu.Lock()
		g.will.Store(cl, struct{}{})
	}
	return will, nil
}

func (g *retainGuard) OnWillSent(cl *mqtt.Client, _ packets.Packet) {
	if _, ok := g.will.LoadAndDelete(cl); ok {
		g.mu.Unlock()
	}
}

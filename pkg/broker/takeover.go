package broker

import (
	"bytes"
	"log/slog"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// takeoverGuard refuses a CONNECT that would take over the session of one of the daemon's
// own clients. MQTT lets any client with a known id take over that id's session: the
// broker drops the current connection (3.1.4-3) and hands its subscriptions and queued
// messages to the newcomer. Anyone holding the shared credentials could thus cut the
// leader's API or ingester off the broker by reusing their ids.
//
// The daemon's own clients connect on the protected (loopback) listener; a client arriving
// on any other listener is refused with "identifier rejected" when a session of that id,
// connected or kept for later, came in on the protected listener. Clients on the
// protected listener may take over as usual (a reconnect after a lost connection), and
// so may clients on the public listeners among themselves.
type takeoverGuard struct {
	mqtt.HookBase
	srv       *mqtt.Server
	auth      *hook  // only a client that would be let in learns that its id is taken
	protected string // listener id of the daemon's own clients
	log       *slog.Logger
}

func (g *takeoverGuard) ID() string { return "pioreactord-takeover-guard" }

func (g *takeoverGuard) Provides(b byte) bool {
	return bytes.IndexByte([]byte{mqtt.OnConnect}, b) >= 0
}

// OnConnect runs after the CONNECT is read and validated, before authentication and
// before mochi takes over any existing session.
func (g *takeoverGuard) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if cl.Net.Listener == g.protected || !g.auth.valid(pk) {
		return nil // the protected listener's own, or refused by authentication next
	}
	existing, ok := g.srv.Clients.Get(cl.ID)
	if !ok || existing.Net.Listener != g.protected {
		return nil
	}
	g.log.Warn("mqtt client refused: its client id is one of the daemon's own", "client", cl.ID,
		"remote", cl.Net.Remote, "listener", cl.Net.Listener)
	if err := g.srv.SendConnack(cl, packets.ErrClientIdentifierNotValid, false, nil); err != nil {
		g.log.Debug("send connack", "client", cl.ID, "err", err)
	}
	return packets.ErrClientIdentifierNotValid
}

package broker

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"log/slog"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// hook authenticates clients against one username/password pair and logs the life of
// connections. Every authenticated client may publish and subscribe to every topic
// (the reference broker has no ACLs either).
type hook struct {
	mqtt.HookBase
	user, pass []byte
	log        *slog.Logger
}

func (h *hook) ID() string { return "pioreactord" }

func (h *hook) Provides(b byte) bool {
	return bytes.IndexByte([]byte{
		mqtt.OnConnectAuthenticate,
		mqtt.OnACLCheck,
		mqtt.OnSessionEstablished,
		mqtt.OnDisconnect,
		mqtt.OnPublishDropped,
	}, b) >= 0
}

// OnConnectAuthenticate accepts only the configured pair. Both comparisons always run,
// in constant time, so the answer's timing says nothing about which half was wrong.
func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if h.valid(pk) {
		return true
	}
	h.log.Info("mqtt client refused", "client", cl.ID, "remote", cl.Net.Remote,
		"listener", cl.Net.Listener, "username", string(pk.Connect.Username))
	return false
}

// valid reports whether pk carries the configured credentials.
func (h *hook) valid(pk packets.Packet) bool {
	userOK := subtle.ConstantTimeCompare(pk.Connect.Username, h.user)
	passOK := subtle.ConstantTimeCompare(pk.Connect.Password, h.pass)
	return len(h.user) > 0 && pk.Connect.UsernameFlag && userOK&passOK == 1
}

func (h *hook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

func (h *hook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	h.log.Debug("mqtt client connected", "client", cl.ID, "remote", cl.Net.Remote,
		"listener", cl.Net.Listener, "clean", pk.Connect.Clean, "will", pk.Connect.WillFlag)
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	if errors.Is(err, packets.ErrPacketTooLarge) {
		// Its message was refused unread: tell the operator who sent too much.
		h.log.Warn("mqtt client disconnected: packet larger than the broker's maximum ([mqtt] max_packet_size)",
			"client", cl.ID, "remote", cl.Net.Remote, "listener", cl.Net.Listener)
		return
	}
	h.log.Debug("mqtt client disconnected", "client", cl.ID, "remote", cl.Net.Remote, "err", err)
}

// OnPublishDropped means a client's outgoing queue was full: data was lost, so say so.
func (h *hook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.log.Warn("mqtt message dropped, client queue full", "client", cl.ID, "topic", pk.TopicName)
}

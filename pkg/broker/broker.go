package broker

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// DefaultMaxPacketSize is the largest MQTT packet accepted when Config.MaxPacketSize is 0.
// It leaves room for a worker's outbox replay batch (hundreds of readings in one message)
// while one client can no longer make the broker buffer an arbitrarily large payload.
const DefaultMaxPacketSize = 1 << 20

// Config says where the broker listens and which credentials it accepts.
type Config struct {
	TCPAddr string // host:port for MQTT (over TLS when TLS is set), e.g. ":1883"; port 0 picks a free port
	WSAddr  string // host:port for MQTT over WebSocket (WSS when TLS is set) on path /mqtt; "" means none
	// LocalAddr is a plain MQTT listener for the daemon's own clients, e.g. "127.0.0.1:0";
	// "" means none. A client arriving on another listener may not take over the session
	// of a client id that came in here (see takeoverGuard).
	LocalAddr string
	Username  string // the only accepted user; "" refuses every network client
	Password  string
	// TLS, when set, makes TCPAddr and WSAddr serve TLS only (LocalAddr stays plain).
	TLS *tls.Config
	// MaxPacketSize is the largest packet, in bytes, a client may send; a client announcing
	// a larger one is disconnected before its body is read. 0 means DefaultMaxPacketSize.
	MaxPacketSize int
}

// maxPacketSize checks and defaults Config.MaxPacketSize.
func (c Config) maxPacketSize() (uint32, error) {
	switch {
	case c.MaxPacketSize == 0:
		return DefaultMaxPacketSize, nil
	case c.MaxPacketSize < minPacketSize || c.MaxPacketSize > maxRemaining:
		return 0, fmt.Errorf("%w: %d bytes, want %d to %d", ErrPacketSize, c.MaxPacketSize, minPacketSize, maxRemaining)
	}
	return uint32(c.MaxPacketSize), nil
}

const (
	minPacketSize = 1 << 10   // below this, the daemon's own settings and logs would not fit
	maxRemaining  = 268435455 // the largest MQTT remaining length (3.1.1 §2.2.3)
)

// Broker is an embedded MQTT broker whose listeners are already bound.
type Broker struct {
	srv       *mqtt.Server
	tcpAddr   string
	wsAddr    string
	localAddr string
	log       *slog.Logger

	ran       atomic.Bool
	closeOnce sync.Once
}

// Listener ids, as mochi reports them in a client's Net.Listener.
const (
	listenerTCP   = "tcp"
	listenerWS    = "ws"
	listenerLocal = "local"
)

// Listen binds the listeners and prepares the broker; nothing is served until Run.
// It fails if a port is taken or the config is invalid. Run must be called to release
// the listeners.
func Listen(cfg Config, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxPacket, err := cfg.maxPacketSize()
	if err != nil {
		return nil, err
	}
	var lns []net.Listener
	closeAll := func() {
		for _, ln := range lns {
			_ = ln.Close() // closing one mochi already closed is harmless
		}
	}
	bind := func(what, addr string, tlsConf *tls.Config) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("listen %s %q: %w", what, addr, err)
		}
		lns = append(lns, ln)
		if tlsConf != nil {
			ln = tls.NewListener(ln, tlsConf)
		}
		return ln, nil
	}
	tcpLn, err := bind("mqtt tcp", cfg.TCPAddr, cfg.TLS)
	if err != nil {
		return nil, err
	}
	var wsLn, localLn net.Listener
	if cfg.WSAddr != "" {
		if wsLn, err = bind("mqtt websocket", cfg.WSAddr, cfg.TLS); err != nil {
			return nil, err
		}
	}
	if cfg.LocalAddr != "" {
		if localLn, err = bind("mqtt local", cfg.LocalAddr, nil); err != nil {
			return nil, err
		}
	}

	srv := mqtt.New(&mqtt.Options{
		Capabilities: capabilities(maxPacket),
		Logger:       slog.New(quietHandler{log.Handler()}).With("component", "mochi"),
		// $SYS topics are not part of the contract; refreshing them every second (the
		// default) costs a runtime.ReadMemStats per second for nothing.
		SysTopicResendInterval: 60,
	})
	b := &Broker{srv: srv, tcpAddr: tcpLn.Addr().String(), log: log}

	auth := &hook{user: []byte(cfg.Username), pass: []byte(cfg.Password), log: log}
	err = srv.AddHook(auth, nil)
	if err == nil {
		err = srv.AddHook(&takeoverGuard{srv: srv, auth: auth, protected: listenerLocal, log: log}, nil)
	}
	if err == nil {
		err = srv.AddHook(&packetIDs{}, nil)
	}
	if err == nil {
		err = srv.AddHook(&retainGuard{}, nil)
	}
	if err == nil {
		err = srv.AddListener(newTCPListener(listenerTCP, tcpLn))
	}
	if err == nil && wsLn != nil {
		b.wsAddr = wsLn.Addr().String()
		err = srv.AddListener(newWSListener(listenerWS, wsLn))
	}
	if err == nil && localLn != nil {
		b.localAddr = localLn.Addr().String()
		err = srv.AddListener(newTCPListener(listenerLocal, localLn))
	}
	if err != nil {
		b.close() // closes the listeners mochi already has
		closeAll()
		return nil, fmt.Errorf("set up mqtt broker: %w", err)
	}
	return b, nil
}

// capabilities are mochi's defaults with the changes the contract needs.
func capabilities(maxPacket uint32) *mqtt.Capabilities {
	c := mqtt.NewDefaultServerCapabilities()
	// mochi checks this against the length in each packet's fixed header, for every
	// protocol version, before it allocates the body: a larger packet ends the connection.
	c.MaximumPacketSize = maxPacket
	// The reference's Mosquitto allows 1000 in-flight messages per client (docs/mqtt.md, "Broker and connections"); mochi
	// silently drops messages for a subscriber that falls further behind, which lost rows
	// for the leader's ingester above ~20,000 rows/s. The protocol maximum removes that cliff.
	c.MaximumInflight = 65535
	// mochi's default (24 h) silently deletes retained messages a day after they were
	// published, which would erase a long-running job's retained $state. 0 = never.
	c.MaximumMessageExpiryInterval = 0
	// Persistent sessions (clean session false) of clients that never come back would
	// otherwise live, and collect QoS>0 messages, forever; client ids carry a random
	// suffix per process start, so every daemon restart would leave one behind.
	c.MaximumSessionExpiryInterval = 60 * 60
	// Outgoing queue per client. mochi drops (it does not block on) messages for a client
	// whose queue is full, QoS 1/2 included, so keep it large enough for the UI's initial
	// burst of retained messages on a wide subscription.
	c.MaximumClientWritesPending = 8192
	return c
}

// TCPAddr is the bound host:port of the MQTT listener.
func (b *Broker) TCPAddr() string { return b.tcpAddr }

// WSAddr is the bound host:port of the WebSocket listener, or "" if there is none.
func (b *Broker) WSAddr() string { return b.wsAddr }

// LocalAddr is the bound host:port of the plain listener for the daemon's own clients, or
// "" if there is none.
func (b *Broker) LocalAddr() string { return b.localAddr }

// Run serves until ctx is done, then disconnects every client, closes the listeners and
// returns nil. It can be called once.
func (b *Broker) Run(ctx context.Context) error {
	if b.ran.Swap(true) {
		return ErrRunTwice
	}
	defer b.close()
	if err := b.srv.Serve(); err != nil {
		return fmt.Errorf("serve mqtt: %w", err)
	}
	b.log.Debug("mqtt broker serving", "tcp", b.tcpAddr, "ws", b.wsAddr)
	<-ctx.Done()
	return nil
}

// close shuts mochi down once: a second mochi Close panics (it closes a channel).
func (b *Broker) close() {
	b.closeOnce.Do(func() { _ = b.srv.Close() })
}

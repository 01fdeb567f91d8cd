package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// Config says where the broker listens and which credentials it accepts.
type Config struct {
	TCPAddr  string // host:port for plain MQTT, e.g. ":1883"; port 0 picks a free port
	WSAddr   string // host:port for MQTT over WebSocket on path /mqtt; "" means no WebSocket
	Username string // the only accepted user; "" refuses every network client
	Password string
}

// Broker is an embedded MQTT broker whose listeners are already bound.
type Broker struct {
	srv     *mqtt.Server
	tcpAddr string
	wsAddr  string
	log     *slog.Logger

	ran       atomic.Bool
	closeOnce sync.Once
}

// Listen binds the listeners and prepares the broker; nothing is served until Run.
// It fails if a port is taken. Run must be called to release the listeners.
func Listen(cfg Config, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tcpLn, err := net.Listen("tcp", cfg.TCPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen mqtt tcp %q: %w", cfg.TCPAddr, err)
	}
	var wsLn net.Listener
	if cfg.WSAddr != "" {
		wsLn, err = net.Listen("tcp", cfg.WSAddr)
		if err != nil {
			_ = tcpLn.Close()
			return nil, fmt.Errorf("listen mqtt websocket %q: %w", cfg.WSAddr, err)
		}
	}

	srv := mqtt.New(&mqtt.Options{
		Capabilities: capabilities(),
		Logger:       slog.New(quietHandler{log.Handler()}).With("component", "mochi"),
		// $SYS topics are not part of the contract; refreshing them every second (the
		// default) costs a runtime.ReadMemStats per second for nothing.
		SysTopicResendInterval: 60,
	})
	b := &Broker{srv: srv, tcpAddr: tcpLn.Addr().String(), log: log}

	err = srv.AddHook(&hook{user: []byte(cfg.Username), pass: []byte(cfg.Password), log: log}, nil)
	if err == nil {
		err = srv.AddHook(&packetIDs{}, nil)
	}
	if err == nil {
		err = srv.AddHook(&retainGuard{}, nil)
	}
	if err == nil {
		err = srv.AddListener(newTCPListener("tcp", tcpLn))
	}
	if err == nil && wsLn != nil {
		b.wsAddr = wsLn.Addr().String()
		err = srv.AddListener(newWSListener("ws", wsLn))
	}
	if err != nil {
		b.close() // closes the listeners mochi already has; closing twice is harmless
		_ = tcpLn.Close()
		if wsLn != nil {
			_ = wsLn.Close()
		}
		return nil, fmt.Errorf("set up mqtt broker: %w", err)
	}
	return b, nil
}

// capabilities are mochi's defaults with the changes the contract needs.
func capabilities() *mqtt.Capabilities {
	c := mqtt.NewDefaultServerCapabilities()
	// The reference's Mosquitto allows 1000 in-flight messages per client (spec §1); mochi
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

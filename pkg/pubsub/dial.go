package pubsub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

const (
	defaultKeepAlive = 60 * time.Second
	connectTimeout   = 10 * time.Second // one attempt: TCP connect + CONNECT/CONNACK
	firstRetry       = 250 * time.Millisecond
	maxRetry         = 5 * time.Second  // between attempts in Dial
	maxReconnect     = 10 * time.Second // paho's default, 10 min, leaves a worker deaf too long
	closeQuiesce     = 1000             // ms Close waits for DISCONNECT to be written
	abandonQuiesce   = 250              // ms the same, for a connection Dial gives up on
)

// pahoDialer dials one broker over TCP, or TLS when tls is set, with fixed credentials.
type pahoDialer struct {
	addr, user, pass string
	tls              *tls.Config
	log              *slog.Logger
}

// NewDialer returns a Dialer for the broker at brokerAddr ("host:port", plain TCP).
func NewDialer(brokerAddr, username, password string, log *slog.Logger) Dialer {
	return NewTLSDialer(brokerAddr, username, password, nil, log)
}

// NewTLSDialer returns a Dialer for the broker at brokerAddr speaking MQTT over TLS
// (ssl://) with tlsConf (see ClientTLS); a nil tlsConf means plain TCP, as NewDialer.
func NewTLSDialer(brokerAddr, username, password string, tlsConf *tls.Config, log *slog.Logger) Dialer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &pahoDialer{addr: brokerAddr, user: username, pass: password, tls: tlsConf, log: log}
}

// Dial connects, retrying with backoff until ctx is done. A refusal by the broker (bad
// credentials, rejected client id) is returned at once, wrapping ErrRefused.
//
// Once connected, paho reconnects by itself after any loss, and the client renews its
// subscriptions each time (see onConnect). Dial's own loop replaces paho's ConnectRetry
// for the first connection only because ConnectRetry retries a refusal forever and reports
// nothing until it gives up.
func (d *pahoDialer) Dial(ctx context.Context, o Options) (Client, error) {
	c := newPahoClient(d.log.With("mqtt_client", logID(o.ClientID)), o)
	wait := firstRetry
	for {
		pc := paho.NewClient(d.options(o, c))
		err := waitToken(ctx, pc.Connect())
		if err == nil {
			select {
			case <-c.up: // the first onConnect has run: from now on it renews subscriptions
				c.paho = pc
				return c, nil
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		// Bounded wait: enough to send DISCONNECT if connected (no will); a connect still
		// in progress is abandoned by paho when it ends.
		pc.Disconnect(abandonQuiesce)
		switch {
		case refused(err):
			c.cancel()
			return nil, fmt.Errorf("connect to mqtt broker %s: %w: %w", d.addr, ErrRefused, err)
		case ctx.Err() != nil:
			c.cancel()
			return nil, fmt.Errorf("connect to mqtt broker %s: %w (last error: %w)", d.addr, ctx.Err(), err)
		}
		d.log.Debug("mqtt connect failed, retrying", "addr", d.addr, "err", err, "in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait = min(2*wait, maxRetry)
	}
}

func (d *pahoDialer) options(o Options, c *pahoClient) *paho.ClientOptions {
	keepAlive := o.KeepAlive
	if keepAlive <= 0 {
		keepAlive = defaultKeepAlive
	}
	scheme := "tcp://"
	if d.tls != nil {
		scheme = "ssl://"
	}
	po := paho.NewClientOptions().
		AddBroker(scheme + d.addr).
		SetClientID(o.ClientID).
		SetUsername(d.user).
		SetPassword(d.pass).
		// Explicit 3.1.1, or paho retries every refused CONNECT as MQTT 3.1.
		SetProtocolVersion(4).
		// docs/mqtt.md, "Broker and connections": the subscriber keeps its session. The broker refuses a persistent
		// session without a client id, so an anonymous id gets a clean one; so does a
		// NoLateDelivery connection, whose unsent messages must not survive a reconnect.
		SetCleanSession(o.ClientID == "" || o.NoLateDelivery).
		SetKeepAlive(keepAlive).
		SetConnectTimeout(connectTimeout).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(maxReconnect).
		// We renew subscriptions ourselves; paho's ResumeSubs only replays unacknowledged
		// SUBSCRIBEs and knows nothing of a broker that lost its state in a restart.
		SetResumeSubs(false).
		// In order: paho calls c.route on its router goroutine, one message at a time, in
		// arrival order. route only appends to per-subscription queues and returns at once,
		// so order is kept per subscription without ever blocking paho's network goroutine
		// (the STYLE note's OrderMatters(false) would instead run each message on a fresh
		// goroutine and lose the order).
		SetOrderMatters(true).
		// No per-filter paho routes: every message reaches this handler and is routed with
		// the same matching code as the Bus. A message no subscription wants (say, replayed
		// from a persistent session before its Subscribe) is acknowledged and dropped
		// rather than left unacknowledged inside paho.
		SetDefaultPublishHandler(c.route).
		SetOnConnectHandler(c.onConnect).
		SetConnectionLostHandler(c.onLost)
	if d.tls != nil {
		po.SetTLSConfig(d.tls.Clone()) // paho may fill in ServerName; keep the caller's intact
	}
	if w := o.Will; w != nil {
		po.SetBinaryWill(w.Topic, w.Payload, w.QoS, w.Retain)
	}
	if o.NoLateDelivery {
		po.SetStore(noResendStore{paho.NewMemoryStore()})
	}
	return po
}

// noResendStore keeps no outbound PUBLISH. paho resends whatever its store holds after
// every reconnect, whatever the clean-session flag says: a message whose Publish already
// failed would be delivered late, which a NoLateDelivery connection must never do.
type noResendStore struct{ paho.Store }

func (s noResendStore) Put(key string, m packets.ControlPacket) {
	if _, ok := m.(*packets.PublishPacket); ok && strings.HasPrefix(key, "o.") {
		return
	}
	s.Store.Put(key, m)
}

// refused reports whether err is a CONNACK refusal that retrying cannot fix.
func refused(err error) bool {
	for _, r := range []error{
		packets.ErrorRefusedBadUsernameOrPassword,
		packets.ErrorRefusedNotAuthorised,
		packets.ErrorRefusedIDRejected,
		packets.ErrorRefusedBadProtocolVersion,
	} {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// waitToken waits for a paho token or ctx, whichever comes first.
func waitToken(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return t.Error()
	case <-ctx.Done():
		return ctx.Err()
	}
}

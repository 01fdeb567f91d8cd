package pubsub

import (
	"context"
	"time"
)

// QoS levels used by the contract (docs/mqtt.md, "QoS and retain").
const (
	AtMostOnce  byte = 0
	AtLeastOnce byte = 1
	ExactlyOnce byte = 2
)

// Message is one received message.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Handler receives messages of one subscription, one at a time, in order.
type Handler func(Message)

// Client is a connection to the broker.
type Client interface {
	// Publish sends and waits for the broker's acknowledgement (QoS > 0) or ctx.
	Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error
	// Subscribe registers h for filter (MQTT wildcards); it is renewed after every reconnect.
	Subscribe(ctx context.Context, filter string, qos byte, h Handler) error
	Unsubscribe(ctx context.Context, filters ...string) error
	// Close disconnects cleanly: the last will does not fire. Safe to call twice.
	Close()
}

// Will is published by the broker if the connection ends uncleanly.
type Will struct {
	Topic   string
	Payload []byte
	QoS     byte
	Retain  bool
}

// Options describe one connection.
type Options struct {
	ClientID  string // "" lets the broker choose
	Will      *Will
	KeepAlive time.Duration // 0 means 60 s
	// OnReconnect runs after an automatic reconnect, once every subscription is renewed; while
	// a renewal fails it is retried, and OnReconnect waits.
	OnReconnect func()
	// MaxQueued bounds the messages waiting for one subscription's handler; beyond it new
	// messages are dropped and logged (see queue). 0 means DefaultMaxQueued.
	MaxQueued int
	// OnDrop, if set, runs on a goroutine of its own when a subscription's backlog starts
	// dropping messages, once per burst: a consumer that vouches for what it stored (the
	// leader's ingester) learns that it missed some.
	OnDrop func(filter string)
	// NoLateDelivery is for connections that send commands whose meaning expires (the
	// leader's API relaying a /set): Publish fails with ErrNotConnected while the connection
	// is down instead of leaving the message with paho, and the session is clean, so paho
	// drops whatever it had not sent when the connection came back. A command is then
	// refused during an outage rather than carried out when the broker returns.
	NoLateDelivery bool
}

// Dialer opens connections; the paho Dialer and the in-memory Bus both implement it.
type Dialer interface {
	Dial(ctx context.Context, o Options) (Client, error)
}

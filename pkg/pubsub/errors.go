package pubsub

import "errors"

var (
	// ErrClosed is returned by a Client's methods after Close (or, on the Bus, Crash).
	ErrClosed = errors.New("pubsub: client closed")
	// ErrInvalidTopic is returned when publishing to an empty topic or one with wildcards.
	ErrInvalidTopic = errors.New("pubsub: invalid topic")
	// ErrInvalidFilter is returned when subscribing to a malformed filter (e.g. "a/#/b").
	ErrInvalidFilter = errors.New("pubsub: invalid topic filter")
	// ErrRefused means the broker refused the connection (credentials, client id): retrying
	// will not help.
	ErrRefused = errors.New("pubsub: connection refused by broker")
	// ErrNotConnected is returned by Publish on a NoLateDelivery connection that is down.
	ErrNotConnected = errors.New("pubsub: not connected to the broker")
	// ErrNoCertificate means a CA file given to ClientTLS holds no PEM certificate.
	ErrNoCertificate = errors.New("pubsub: no PEM certificate in file")
)

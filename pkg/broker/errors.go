package broker

import "errors"

// ErrRunTwice is returned by a second call to (*Broker).Run: mochi cannot serve twice.
var ErrRunTwice = errors.New("broker: Run called twice")

// ErrPacketSize is returned by Listen for a Config.MaxPacketSize out of range.
var ErrPacketSize = errors.New("broker: maximum packet size out of range")

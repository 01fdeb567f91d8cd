package broker

import "errors"

// ErrRunTwice is returned by a second call to (*Broker).Run: mochi cannot serve twice.
var ErrRunTwice = errors.New("broker: Run called twice")

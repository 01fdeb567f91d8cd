package main

import "github.com/pioreactor/pioreactord/pkg/pubsub"

// logSink is what the log sink publishes on: conn, through this daemon's own unit's outbox
// when it has one (a worker), so that the log lines of an outage are spooled and replayed
// like its readings. The HTTP APIs keep conn itself: a command must fail during an outage,
// not be sent late.
func (d *daemon) logSink(conn pubsub.Client) pubsub.Client {
	if len(d.units) > 0 && d.units[0].box != nil {
		return d.units[0].box.Wrap(conn)
	}
	return conn
}

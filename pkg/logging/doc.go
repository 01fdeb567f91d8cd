// Package logging owns the daemon's log/slog handler: every record goes to a text sink
// (stderr) and, when it is routed to an experiment, to MQTT as the reference's log message
// (docs/mqtt.md, "Logs"): topic pioreactor/<unit>/<experiment>/logs/<source>/<level>, QoS 0, not
// retained, payload contract.Log.
//
// Routing is done with attrs, normally set once with logger.With: "unit" and "experiment"
// (both required for MQTT), "job" (the task, unless "task" is given; default "pioreactord")
// and "source" (default "app"). Routing attrs are read at the top level only, not inside a
// group, and are not repeated in the MQTT message; every other attr is appended to it as
// " key=value", an "err" attr as ": <error>".
//
// Invariants:
//   - Logging never blocks on the network: records for MQTT go to a bounded queue drained by
//     Run; when it is full they are dropped and counted (Dropped). Publish failures are
//     counted (Failed), never logged (that would loop).
//   - Before SetPublisher (the MQTT connection comes up after logging starts), and whenever it
//     is nil, records go to the text sink only.
//   - Time comes from the injected clock, for both sinks: the simulation runs faster than
//     the wall clock and its logs must agree with its data.
//   - Records are bounded: in both sinks the message is cut to MaxMessageBytes and each attr
//     value to MaxAttrBytes, and the MQTT text as a whole to MaxMessageBytes, each cut noted
//     as "… (truncated, N bytes)". A payload echoed into a log cannot make a huge row.
//   - Level names on the wire are the reference's: DEBUG, INFO, NOTICE, WARNING, ERROR,
//     CRITICAL (slog's WARN is WARNING here).
package logging

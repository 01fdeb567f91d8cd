// Package broker owns the embedded MQTT broker (mochi-mqtt): its TCP and WebSocket listeners,
// optionally over TLS, a plain loopback listener for the daemon's own clients, authentication,
// and the broker options the contract depends on (docs/mqtt.md, "Broker and connections").
//
// Invariants:
//   - mochi types never leave this package; callers see Config, Listen and (*Broker).Run.
//   - Anonymous clients are always refused. Only the configured Username/Password pair is
//     accepted; an empty Username refuses every network client (there is no in-process client).
//   - No packet larger than Config.MaxPacketSize is read, and no first packet (CONNECT, read
//     before authentication) larger than 64 KiB: the connection ends on the packet's header.
//   - With Config.TLS set, the TCP and WebSocket listeners accept TLS only.
//   - A client on a public listener cannot take over the session of a client id that came
//     in on the local listener (the daemon's own clients).
//   - There is no persistence: retained messages and sessions live in memory and are gone
//     after a restart, like the reference broker. Retained messages never expire.
//   - Listeners are bound by Listen, so the real port is known before Run (port 0 works), and
//     the server is closed exactly once, when Run's context ends.
//   - Passwords are never logged.
package broker

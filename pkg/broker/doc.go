// Package broker owns the embedded MQTT broker (mochi-mqtt): its TCP and WebSocket listeners,
// authentication, and the broker options the contract depends on (spec/mqtt.md §1).
//
// Invariants:
//   - mochi types never leave this package; callers see Config, Listen and (*Broker).Run.
//   - Anonymous clients are always refused. Only the configured Username/Password pair is
//     accepted; an empty Username refuses every network client (there is no in-process client).
//   - There is no persistence: retained messages and sessions live in memory and are gone
//     after a restart, like the reference broker. Retained messages never expire.
//   - Listeners are bound by Listen, so the real port is known before Run (port 0 works), and
//     the server is closed exactly once, when Run's context ends.
//   - Passwords are never logged.
package broker

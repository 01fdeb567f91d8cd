// Package pubsub is the MQTT client side: a small Client interface, its implementation over
// paho (Dial) and an in-memory bus with the same retained/wildcard semantics for tests (Bus).
//
// Invariants: handlers never run on the network goroutine long enough to block it (each
// subscription has its own delivery goroutine); subscriptions survive reconnects; a clean
// Close never fires the last will.
package pubsub

// Package pubsub is the MQTT client side: a small Client interface, its implementation over
// paho (Dial) and an in-memory bus with the same retained/wildcard semantics for tests (Bus).
//
// Invariants: handlers never run on the network goroutine long enough to block it (each
// subscription has its own delivery goroutine, with a bounded backlog that drops and logs
// when full); subscriptions survive reconnects, and OnReconnect runs only once they are
// all renewed; a clean Close never fires the last will; a NoLateDelivery connection never
// delivers a message after its Publish failed.
package pubsub

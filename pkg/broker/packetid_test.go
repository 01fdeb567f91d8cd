package broker

import (
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Packet identifiers are per direction (MQTT 3.1.1 §2.3.1): a client's SUBSCRIBE or
// UNSUBSCRIBE may reuse the id of a message the broker is still delivering to it. mochi
// keeps both directions in one map and would refuse such a SUBSCRIBE (SUBACK 0x80) and
// ignore such an UNSUBSCRIBE. paho and mochi both count ids up from 1, so it is common.
func TestPacketIDsAreIndependentPerDirection(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	pub := mustConnect(t, tcpURL(b), nil)
	// Acks withheld, so the broker's outgoing ids 1, 2, 3 stay in flight.
	var held []paho.Message
	got := make(chan paho.Message, 10)
	sub := mustConnect(t, tcpURL(b), func(o *paho.ClientOptions) { o.SetAutoAckDisabled(true) })
	wait(t, sub.Subscribe("a", 1, func(_ paho.Client, m paho.Message) { got <- m })) // client id 1
	for range 3 {
		wait(t, pub.Publish("a", 1, false, "x"))
		held = append(held, next(t, got))
	}

	tok := sub.Subscribe("b", 1, func(_ paho.Client, m paho.Message) { got <- m }) // client id 2
	wait(t, tok)
	if code := tok.(*paho.SubscribeToken).Result()["b"]; code != 1 {
		t.Fatalf("SUBACK for b = %#x, want granted QoS 1", code)
	}
	wait(t, sub.Unsubscribe("a")) // client id 3
	wait(t, pub.Publish("a", 1, false, "after unsubscribe"))
	wait(t, pub.Publish("b", 1, false, "y"))
	if m := next(t, got); m.Topic() != "b" {
		t.Errorf("got %s=%q, want b (a was unsubscribed)", m.Topic(), m.Payload())
	}
	for _, m := range held {
		m.Ack()
	}
}

package broker

import (
	"fmt"
	"sync"
	"testing"
)

// Retained publishes on new topics while other clients subscribe with wildcards: mochi
// v2.7.9 races here without retainGuard (go test -race reports it), and every retained
// message must still reach a late subscriber.
func TestRetainedPublishesRaceWildcardSubscribes(t *testing.T) {
	t.Parallel()
	b := startDefault(t)
	pub := mustConnect(t, tcpURL(b), nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 300 {
			wait(t, pub.Publish(fmt.Sprintf("pioreactor/u%d/exp/job/attr", i%30), 1, true, fmt.Sprint(i)))
		}
	})
	for range 3 {
		wg.Go(func() {
			sub := mustConnect(t, tcpURL(b), nil)
			defer sub.Disconnect(10)
			for range 20 {
				wait(t, sub.Subscribe("pioreactor/+/exp/#", 1, nil))
				wait(t, sub.Unsubscribe("pioreactor/+/exp/#"))
			}
		})
	}
	wg.Wait()
	late := mustConnect(t, tcpURL(b), nil)
	msgs := inbox(t, late, "pioreactor/+/exp/job/attr")
	seen := map[string]bool{}
	for len(seen) < 30 {
		m := next(t, msgs)
		seen[m.Topic()] = true
	}
}

// Package pubsubtest holds test doubles around pkg/pubsub that several packages' tests need.
package pubsubtest

import (
	"context"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// IDRecorder dials through Dialer and remembers the client ids it was asked for.
type IDRecorder struct {
	Dialer pubsub.Dialer

	mu  sync.Mutex
	ids []string
}

func (d *IDRecorder) Dial(ctx context.Context, o pubsub.Options) (pubsub.Client, error) {
	d.mu.Lock()
	d.ids = append(d.ids, o.ClientID)
	d.mu.Unlock()
	return d.Dialer.Dial(ctx, o)
}

// IDs are the client ids dialed so far, in order.
func (d *IDRecorder) IDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ids...)
}

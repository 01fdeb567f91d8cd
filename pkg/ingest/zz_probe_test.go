package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

func BenchmarkZZProbe(b *testing.B) {
	for _, rate := range []int{10000, 20000} {
		for _, qos := range []byte{0, 1} {
			b.Run(fmt.Sprint(rate, "/", qos), func(b *testing.B) {
				for b.Loop() {
					ctx, cancel := context.WithCancel(context.Background())
					brk, _ := broker.Listen(broker.Config{TCPAddr: "127.0.0.1:0", Username: "u", Password: "p"}, nil)
					done := make(chan error, 1)
					go func() { done <- brk.Run(ctx) }()
					d := pubsub.NewDialer(brk.TCPAddr(), "u", "p", nil)
					sub, _ := d.Dial(ctx, pubsub.Options{ClientID: "sub"})
					var got atomic.Int64
					for _, f := range ingest.Filters() {
						sub.Subscribe(ctx, f, qos, func(pubsub.Message) { got.Add(1) })
					}
					pubs := make([]*rawPublisher, 64)
					for i := range pubs {
						pubs[i], _ = dialRaw(brk.TCPAddr(), fmt.Sprint("w", i), "u", "p", 64)
					}
					per := rate / 64 / 50
					var wg sync.WaitGroup
					begin := time.Now()
					for i, p := range pubs {
						wg.Go(func() {
							next := begin
							for range 250 {
								for range per {
									p.publish(fmt.Sprintf("pioreactor/u%d/e/od_reading/od1", i), []byte(`{"calibrated":0,"timestamp":"2026-01-01T00:00:00.000Z","angle":"90","od":0.0512345,"channel":"1","ir_led_intensity":80.0}`))
								}
								p.flush()
								next = next.Add(20 * time.Millisecond)
								time.Sleep(time.Until(next))
							}
						})
					}
					wg.Wait()
					total := int64(64 * per * 250)
					dl := time.Now().Add(5 * time.Second)
					for got.Load() < total && time.Now().Before(dl) {
						time.Sleep(time.Millisecond)
					}
					b.ReportMetric(float64(total-got.Load()), "lost")
					for _, p := range pubs {
						p.close()
					}
					sub.Close()
					cancel()
					<-done
				}
			})
		}
	}
}

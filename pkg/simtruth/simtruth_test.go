package simtruth

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

const every = 5 * time.Second

// rig is a simulated unit with a truth publisher on an in-memory bus, in virtual time.
type rig struct {
	bus   *pubsub.Bus
	plant *sim.Bioreactor
	exp   atomic.Value // string
	pub   *Publisher
	stop  context.CancelFunc
	done  chan error

	mu   sync.Mutex
	seen []pubsub.Message // live messages on every truth topic
}

func newRig(t *testing.T, exp string) *rig {
	t.Helper()
	r := &rig{bus: pubsub.NewBus(), done: make(chan error, 1)}
	var err error
	if r.plant, err = sim.New(sim.DefaultParams(), clock.Real{}, nil); err != nil {
		t.Fatal(err)
	}
	r.exp.Store(exp)
	r.pub, err = New(Config{Unit: "pio01", Truth: r.plant.Truth, Experiment: func() string { return r.exp.Load().(string) },
		Dialer: r.bus, Clock: clock.Real{}, Every: every})
	if err != nil {
		t.Fatal(err)
	}
	watch, _ := r.bus.Dial(context.Background(), pubsub.Options{})
	if err := watch.Subscribe(context.Background(), contract.SimulationTruthTopic("+", "+"), pubsub.AtLeastOnce, func(m pubsub.Message) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.seen = append(r.seen, m)
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(watch.Close)
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- r.pub.Run(ctx) }()
	t.Cleanup(func() { // after a failure too: a bubble must end with no goroutine left
		cancel()
		synctest.Wait()
	})
	return r
}

// wait lets n sampling periods pass and everything settle at the last tick's instant.
func (r *rig) wait(n int) {
	time.Sleep(time.Duration(n) * every)
	synctest.Wait()
}

func (r *rig) messages() []pubsub.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func (r *rig) shutdown(t *testing.T) {
	t.Helper()
	r.stop()
	if err := <-r.done; err != nil {
		t.Errorf("Run returned %v", err)
	}
	synctest.Wait()
}

// The retained truth is the plant's own state at the instant it was sampled, in the
// documented keys, one message per period.
func TestPublishesThePlantsTruth(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, "exp1")
		// Heat, so that the temperatures move between samples.
		if err := r.plant.Board().PWM["5"].SetDutyCycle(40); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.pub.Latest(); ok {
			t.Fatal("a truth before the first sample")
		}
		topic := "pioreactor/pio01/exp1/simulation/truth"
		var prev float64
		for i := 1; i <= 3; i++ {
			r.wait(1)
			raw, ok := r.bus.Retained(topic)
			if !ok {
				t.Fatalf("sample %d: no retained %s", i, topic)
			}
			want := Payload(r.plant.Truth()) // the same virtual instant as the sample
			if w := contract.Marshal(want); string(raw) != string(w) {
				t.Fatalf("sample %d:\n got %s\nwant %s", i, raw, w)
			}
			var got contract.SimulationTruth
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("sample %d: %v: %s", i, err, raw)
			}
			if !got.Timestamp.Time().Equal(time.Now()) {
				t.Errorf("sample %d stamped %v at %v", i, got.Timestamp.Time(), time.Now())
			}
			if latest, _ := r.pub.Latest(); string(contract.Marshal(latest)) != string(raw) {
				t.Errorf("Latest = %+v, want %s", latest, raw)
			}
			if i > 1 && float64(got.HeaterPCBTemperatureC) <= prev {
				t.Errorf("sample %d: heater at %v, not above the previous %v", i, got.HeaterPCBTemperatureC, prev)
			}
			prev = float64(got.HeaterPCBTemperatureC)
		}
		var keys map[string]any
		raw, _ := r.bus.Retained(topic)
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatal(err)
		}
		wantKeys := []string{"alt_media_fraction", "growth_rate_per_hour", "heater_pcb_temperature_c", "liquid_temperature_c",
			"od", "rpm", "timestamp", "volume_ml"}
		var gotKeys []string
		for k := range keys {
			gotKeys = append(gotKeys, k)
		}
		if slices.Sort(gotKeys); !slices.Equal(gotKeys, wantKeys) {
			t.Errorf("keys %v, want %v", gotKeys, wantKeys)
		}
		if n := len(r.messages()); n != 3 {
			t.Errorf("%d messages in 3 periods, want 3", n)
		}
		r.shutdown(t)
	})
}

// The truth goes where the unit's assignment is, and nowhere while it has none; a topic
// left behind is cleared.
func TestFollowsTheAssignment(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, "")
		at := func(exp string) string { return contract.SimulationTruthTopic("pio01", exp) }
		r.wait(2)
		if n := len(r.messages()); n != 0 {
			t.Fatalf("%d truth messages while unassigned", n)
		}
		if _, ok := r.pub.Latest(); !ok {
			t.Error("no Latest while unassigned: the API has nothing to answer")
		}
		steps := []struct {
			exp    string
			has    []string // retained truths after the next sample
			hasnot []string
		}{
			{"a", []string{at("a")}, nil},
			{"b", []string{at("b")}, []string{at("a")}},
			{"", nil, []string{at("a"), at("b")}},
			{"c", []string{at("c")}, []string{at("b")}},
		}
		for _, s := range steps {
			r.exp.Store(s.exp)
			r.wait(1)
			for _, topic := range s.has {
				if _, ok := r.bus.Retained(topic); !ok {
					t.Errorf("assigned to %q: no retained %s", s.exp, topic)
				}
			}
			for _, topic := range s.hasnot {
				if v, ok := r.bus.Retained(topic); ok {
					t.Errorf("assigned to %q: %s still holds %s", s.exp, topic, v)
				}
			}
		}
		r.shutdown(t)
		if v, ok := r.bus.Retained(at("c")); ok {
			t.Errorf("after Run: %s still holds %s", at("c"), v)
		}
	})
}

func TestConfigRequired(t *testing.T) {
	t.Parallel()
	if _, err := New(Config{Unit: "pio01"}); err == nil {
		t.Error("New accepted a config without a truth source")
	}
}

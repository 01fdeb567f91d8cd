package jobs

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
)

// fakeInventory is an inventory of workers with their lost marks.
type fakeInventory struct {
	mu      sync.Mutex
	workers map[string]time.Time // unit → lost since (zero: not lost)
	writes  int
}

func (f *fakeInventory) InInventory(unit string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.workers[unit]
	return ok, nil
}

func (f *fakeInventory) SetLost(unit string, since time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.workers[unit] = since
	f.writes++
	return nil
}

func (f *fakeInventory) lostSince(unit string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.workers[unit]
}

// The leader's monitor marks an inventory worker whose monitor goes lost, logs it once, and
// clears the mark when the worker is back; other units and the leader itself are ignored.
func TestMonitorWatchesLostWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inv := &fakeInventory{workers: map[string]time.Time{"pio02": {}, "pio03": time.Unix(1, 0)}}
		r := newAutoRig(t, sim.DefaultParams(), nil, NewLeaderMonitorSpec("1.0", inv))
		defer r.close()
		r.start("monitor", nil)
		time.Sleep(time.Second)
		state := func(unit string) string {
			return contract.JobTopic(unit, contract.UniversalExp, "monitor", contract.StateAttr)
		}
		// A mark left from before the leader started goes when the worker is seen alive.
		r.publish(state("pio03"), "ready", true)
		time.Sleep(time.Second)
		if !inv.lostSince("pio03").IsZero() {
			t.Fatal("pio03 still marked lost after its retained ready")
		}
		at := time.Now()
		for range 2 { // the will, then a repeat: logged once
			r.publish(state("pio02"), "lost", true)
			time.Sleep(time.Second)
		}
		r.publish(state("pio99"), "lost", true)  // not in the inventory
		r.publish(state("pio01"), "lost", false) // the leader itself
		time.Sleep(time.Second)
		if got := inv.lostSince("pio02"); !got.Equal(at) {
			t.Fatalf("pio02 lost since %v, want %v", got, at)
		}
		if n := r.logs.count("pio02 seems to be lost."); n != 1 {
			t.Fatalf("logged %d times", n)
		}
		if r.logs.has("pio99") || r.logs.has("pio01 seems") {
			t.Fatal("a unit outside the inventory, or the leader, reported")
		}
		r.publish(state("pio02"), "ready", true)
		time.Sleep(time.Second)
		if !inv.lostSince("pio02").IsZero() || !r.logs.has("pio02 is back.") {
			t.Fatalf("pio02 back: lost since %v", inv.lostSince("pio02"))
		}
		// Lost again later: marked and logged again.
		r.publish(state("pio02"), "lost", true)
		time.Sleep(time.Second)
		if inv.lostSince("pio02").IsZero() || r.logs.count("pio02 seems to be lost.") != 2 {
			t.Fatal("the second loss was not marked")
		}
	})
}

// count is how many log lines contain s.
func (l *logRecords) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

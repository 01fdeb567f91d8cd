package profile

import (
	"container/heap"
	"context"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// item is one scheduled piece of work.
type item struct {
	at   time.Time
	prio int
	seq  uint64
	fn   func(ctx context.Context, at time.Time)
}

type queue []*item

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.prio != b.prio {
		return a.prio < b.prio
	}
	return a.seq < b.seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*item)) }
func (q *queue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// scheduler runs items in time order, one at a time, on clk. Only its own goroutine (inside
// run and the items it calls) adds items, so it can sleep until the next one is due.
type scheduler struct {
	clk clock.Clock
	q   queue
	seq uint64
}

func (s *scheduler) add(at time.Time, prio int, fn func(ctx context.Context, at time.Time)) {
	s.seq++
	heap.Push(&s.q, &item{at: at, prio: prio, seq: s.seq, fn: fn})
}

func (s *scheduler) pending() int { return len(s.q) }

// run executes items until none is left or ctx ends; after each it calls tick.
func (s *scheduler) run(ctx context.Context, tick func()) error {
	for len(s.q) > 0 {
		next := s.q[0]
		if wait := next.at.Sub(s.clk.Now()); wait > 0 {
			if err := s.clk.Sleep(ctx, wait); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		heap.Pop(&s.q)
		next.fn(ctx, next.at)
		tick()
	}
	return nil
}

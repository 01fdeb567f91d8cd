package supervisor

import "sync"

// inboxDepth is how many /set commands wait in the job's channel before they coalesce.
const inboxDepth = 64

// inbox carries /set commands from the delivery goroutines to the job, in order. The channel
// holds inboxDepth commands; beyond that a command waits in pending, one entry per attribute
// holding the newest value: a flood of /set messages costs at most one entry per attribute
// and the job still ends with the latest value of each, where dropping would keep the
// oldest. The values replaced are counted and logged once per burst.
type inbox struct {
	rt *Runtime
	ch chan command

	mu        sync.Mutex
	pending   map[string][]byte // attribute -> newest payload not yet in ch
	order     []string          // pending attributes, oldest first
	replaced  int               // values overwritten in this burst
	pumping   bool              // forward runs; until it ends nothing may overtake it
	closed    bool
	done      chan struct{} // closed by close
	forwarder sync.WaitGroup
}

func newInbox(rt *Runtime) *inbox {
	return &inbox{rt: rt, ch: make(chan command, inboxDepth), pending: map[string][]byte{}, done: make(chan struct{})}
}

// put never blocks: it runs on a delivery goroutine of the job's connection.
func (b *inbox) put(c command) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	if !b.pumping {
		select {
		case b.ch <- c:
			b.mu.Unlock()
			return
		default:
		}
	}
	if _, ok := b.pending[c.attr]; ok {
		b.replaced++
	} else {
		b.order = append(b.order, c.attr)
	}
	b.pending[c.attr] = c.payload
	burst := !b.pumping
	if burst {
		b.pumping = true
		b.forwarder.Add(1)
		go b.forward()
	}
	b.mu.Unlock()
	if burst {
		b.rt.log.Warn("commands arrive faster than the job applies them; keeping the newest value per setting")
	}
}

// forward moves pending commands into the channel as the job takes them, oldest attribute
// first; it ends when nothing is pending (the burst is over) or the job ends.
func (b *inbox) forward() {
	defer b.forwarder.Done()
	for {
		b.mu.Lock()
		if len(b.order) == 0 || b.closed {
			n := b.replaced
			b.replaced, b.pumping = 0, false
			b.mu.Unlock()
			if n > 0 {
				b.rt.log.Warn("older /set values superseded by newer ones were not applied", "superseded", n)
			}
			return
		}
		attr := b.order[0]
		c := command{attr: attr, payload: b.pending[attr]}
		b.order = b.order[1:]
		delete(b.pending, attr)
		b.mu.Unlock()
		select {
		case b.ch <- c:
		case <-b.done:
		}
	}
}

// close drops what is pending and waits for the forwarding goroutine.
func (b *inbox) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
	b.mu.Unlock()
	b.forwarder.Wait()
}

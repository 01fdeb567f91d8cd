package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// drain replays the spool, oldest first, in batches of at most Batch messages and
// MaxBytes bytes, while the gate is open. A batch leaves the spool only on its
// acknowledgement; an unacknowledged batch is sent again (the store drops what it already
// has). It returns an error only when ctx ends.
func (o *Outbox) drain(ctx context.Context) error {
	for {
		o.mu.Lock()
		open := o.linkUp && o.ready
		o.mu.Unlock()
		if !open {
			return nil
		}
		entries, err := o.cfg.Spool.Oldest(o.cfg.Batch)
		if err != nil {
			o.fault.Fail(fmt.Errorf("read: %w", err))
			return nil
		}
		if len(entries) == 0 {
			return nil
		}
		msgs, ids := o.fit(entries)
		if len(ids) == 0 {
			// The oldest alone exceeds MaxBytes: no replay can carry it, and trying would
			// block every message behind it.
			e := entries[0]
			o.log.Warn("spooled message too large to replay: dropped", "topic", e.Topic, "bytes", len(e.Payload), "max_bytes", o.cfg.MaxBytes)
			if err := o.cfg.Spool.Delete([]uint64{e.ID}); err != nil {
				o.fault.Fail(fmt.Errorf("delete an oversized message: %w", err))
				return nil
			}
			o.dropped.Add(1)
			continue
		}
		id := o.batch.Add(1)
		r := ingest.Replay{Batch: id, Messages: msgs}
		pctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
		err = o.client.Publish(pctx, ingest.ReplayTopic(o.cfg.Unit), contract.Marshal(r), pubsub.AtLeastOnce, false)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.log.Debug("replay not sent", "err", err)
			o.linkDown()
			return nil
		}
		if !o.awaitAck(ctx, id) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			o.log.Debug("replay not acknowledged; will send it again", "batch", id)
			return nil
		}
		if err := o.cfg.Spool.Delete(ids); err != nil {
			o.fault.Fail(fmt.Errorf("delete replayed messages: %w", err))
			return nil
		}
		o.replayed.Add(int64(len(ids)))
	}
}

// replayOverhead is what a replay's JSON adds to its messages: the batch number, the
// brackets, the separators.
const replayOverhead = 64

// fit takes entries, oldest first, while their replay stays within MaxBytes, so that a
// batch of large messages (log lines) or a broker with a small maximum packet cannot
// refuse every replay. It returns none when the oldest entry alone is too large.
func (o *Outbox) fit(entries []store.OutboxEntry) ([]ingest.ReplayMessage, []uint64) {
	size := replayOverhead
	var msgs []ingest.ReplayMessage
	var ids []uint64
	for _, e := range entries {
		m := ingest.ReplayMessage{Topic: e.Topic, Payload: e.Payload, PublishedAt: contract.Timestamp(e.At)}
		size += len(contract.Marshal(m)) + 1 // and its comma
		if size > o.cfg.MaxBytes {
			break
		}
		msgs = append(msgs, m)
		ids = append(ids, e.ID)
	}
	return msgs, ids
}

func (o *Outbox) awaitAck(ctx context.Context, id uint64) bool {
	timeout := time.NewTimer(o.cfg.AckTimeout)
	defer timeout.Stop()
	for {
		select {
		case a := <-o.acks:
			if a.Batch == id {
				return true
			}
		case <-timeout.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

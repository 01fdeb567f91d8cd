package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Buckets of the worker's outbox (schema 2):
//
//	outbox/count            number of entries, uint64 BE
//	outbox/entries/         <seq BE> -> uvarint(unix µs) text(topic) payload
var (
	bucketOutboxEntries = []byte("entries")
	keyOutboxCount      = []byte("count")
)

// Outbox is a bounded first-in-first-out queue of MQTT messages on disk: what a worker
// published while the leader could not store it, kept across restarts until the leader
// has them (package outbox). Appends are durable when they return.
type Outbox struct{ db *DB }

// Outbox returns the outbox kept in this file.
func (db *DB) Outbox() *Outbox { return &Outbox{db: db} }

// OutboxEntry is one queued message. ID orders entries (Append assigns it).
type OutboxEntry struct {
	ID      uint64
	Topic   string
	Payload []byte
	At      time.Time // when it was first published
}

// Append queues entries in order, assigning their IDs. If the outbox would then hold more
// than limit entries (limit > 0), the oldest are dropped and their number returned.
func (o *Outbox) Append(entries []OutboxEntry, limit int) (dropped int, err error) {
	err = o.db.update(func(tx *bolt.Tx) error {
		root, b := outboxBuckets(tx)
		n := outboxCount(root)
		for i := range entries {
			e := &entries[i]
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			e.ID = seq
			v := binary.AppendUvarint(nil, uint64(max(0, e.At.UnixMicro())))
			v = append(appendText(v, e.Topic), e.Payload...)
			if err := b.Put(u64Key(seq), v); err != nil {
				return err
			}
			n++
		}
		if limit > 0 && n > uint64(limit) {
			c := b.Cursor()
			for k, _ := c.First(); k != nil && n > uint64(limit); k, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
				n--
				dropped++
			}
		}
		return root.Put(keyOutboxCount, u64Key(n))
	})
	if err != nil {
		return 0, fmt.Errorf("append %d to outbox: %w", len(entries), err)
	}
	return dropped, nil
}

// Oldest returns up to n entries, oldest first, copied out.
func (o *Outbox) Oldest(n int) ([]OutboxEntry, error) {
	var out []OutboxEntry
	err := o.db.view(func(tx *bolt.Tx) error {
		_, b := outboxBuckets(tx)
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			d := decoder{b: v}
			at := d.uvarint()
			topic := d.text()
			if d.err != nil {
				return fmt.Errorf("outbox entry %x: %w", k, d.err)
			}
			out = append(out, OutboxEntry{ID: binary.BigEndian.Uint64(k), Topic: topic,
				Payload: append([]byte{}, d.b...), At: time.UnixMicro(int64(at)).UTC()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// Delete removes entries by ID; absent IDs are ignored.
func (o *Outbox) Delete(ids []uint64) error {
	err := o.db.update(func(tx *bolt.Tx) error {
		root, b := outboxBuckets(tx)
		n := outboxCount(root)
		for _, id := range ids {
			k := u64Key(id)
			if b.Get(k) == nil {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			n--
		}
		return root.Put(keyOutboxCount, u64Key(n))
	})
	if err != nil {
		return fmt.Errorf("delete %d from outbox: %w", len(ids), err)
	}
	return nil
}

// Len is the number of queued entries.
func (o *Outbox) Len() (int, error) {
	var n uint64
	err := o.db.view(func(tx *bolt.Tx) error {
		root, _ := outboxBuckets(tx)
		n = outboxCount(root)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return int(n), nil
}

func outboxBuckets(tx *bolt.Tx) (root, entries *bolt.Bucket) {
	root = tx.Bucket(bucketOutbox)
	return root, root.Bucket(bucketOutboxEntries)
}

func outboxCount(root *bolt.Bucket) uint64 {
	if v := root.Get(keyOutboxCount); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

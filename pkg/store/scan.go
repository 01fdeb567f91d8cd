package store

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Query selects rows of one table for Rows and Count.
type Query struct {
	Table Table
	// Experiments to read, in this order; nil means every experiment holding rows of the
	// table (including $experiment and experiments without an experiments row), by name.
	Experiments []string
	// Units restricts the rows to these units; nil means every unit.
	Units []string
	// From and To bound the time column, both inclusive; zero leaves that end open.
	From, To time.Time
	// ByUnit orders rows by unit, then time (unit names ascending); otherwise rows are in
	// time order across units. Within one experiment either way; rows at the same instant
	// keep insertion order within a series, and unit then channel order across series.
	ByUnit bool
}

// releaseEvery is how many rows a Rows reads between two releaseMapped calls: small
// queries never pay for one, and a long scan keeps its resident set to a few MB.
const releaseEvery = 1 << 17

// readChunk is how many rows Rows buffers in total per refill round: each refill is its
// own short read transaction, so a long export never holds one open (a long read
// transaction stops bbolt from growing the file under the ingester).
const readChunk = 16384

// Rows iterates the rows of a Query in order, copying each out of the file:
//
//	it := db.Rows(q)
//	for it.Next() { use(it.Row()) }
//	if err := it.Err(); err != nil { ... }
type Rows struct {
	db     *DB
	q      Query
	groups [][]*source // merged by time within a group, groups one after the other
	gi     int
	merge  sourceHeap
	cur    *source
	err    error
	row    Row
	start  bool
	width  int   // series in the current group
	unread int64 // rows read since the last releaseMapped
}

// source is one series being read in chunks.
type source struct {
	s        series
	idx      int    // position in the query's order: the tie-break between series
	after    []byte // last key read; nil before the first read
	rows     []Row
	micros   []int64
	pos      int
	done     bool // nothing left after rows
	from, to []byte
}

// Rows starts an iteration. It reads nothing until Next.
func (db *DB) Rows(q Query) *Rows { return &Rows{db: db, q: q} }

// Next advances to the next row; false at the end or on an error (see Err).
func (it *Rows) Next() bool {
	if it.err != nil {
		return false
	}
	if !it.start {
		it.start = true
		if it.err = it.plan(); it.err != nil {
			return false
		}
	}
	for {
		if it.cur != nil {
			// the row just returned is consumed; put its source back if it has more
			it.cur.pos++
			if ok, err := it.cur.ready(it, it.chunk()); err != nil {
				it.err = err
				return false
			} else if ok {
				heap.Push(&it.merge, it.cur)
			}
			it.cur = nil
		}
		if it.merge.Len() > 0 {
			it.cur = heap.Pop(&it.merge).(*source)
			it.row = it.cur.rows[it.cur.pos]
			return true
		}
		if it.gi >= len(it.groups) {
			return false
		}
		it.width = len(it.groups[it.gi])
		for _, s := range it.groups[it.gi] {
			ok, err := s.ready(it, it.chunk())
			if err != nil {
				it.err = err
				return false
			}
			if ok {
				heap.Push(&it.merge, s)
			}
		}
		it.groups[it.gi] = nil
		it.gi++
	}
}

// Row is the current row; it is valid until the next call of Next.
func (it *Rows) Row() *Row { return &it.row }

// Err is the error that ended the iteration, if any.
func (it *Rows) Err() error { return it.err }

// chunk shares readChunk between the series merged together.
func (it *Rows) chunk() int { return max(64, readChunk/max(1, it.width)) }

// plan lists the series to read and groups them.
func (it *Rows) plan() error {
	q := it.q
	if !q.Table.Known() {
		return fmt.Errorf("read rows: unknown table %q", q.Table)
	}
	var from, to []byte
	if !q.From.IsZero() {
		from = timeKey(q.From.UTC().Truncate(time.Microsecond))
	}
	if !q.To.IsZero() {
		to = timeKey(q.To)
	}
	return it.db.view(func(tx *bolt.Tx) error {
		exps := q.Experiments
		if exps == nil {
			exps = experimentsWithData(tx)
		}
		idx := 0
		for _, exp := range exps {
			var group []*source
			lastUnit := ""
			for _, s := range seriesOf(tx, exp, q.Table, q.Units) {
				if q.ByUnit && len(group) > 0 && s.unit != lastUnit {
					it.groups = append(it.groups, group)
					group = nil
				}
				lastUnit = s.unit
				group = append(group, &source{s: s, idx: idx, from: from, to: to})
				idx++
			}
			if len(group) > 0 {
				it.groups = append(it.groups, group)
			}
		}
		return nil
	})
}

// ready makes sure the source has a row at pos, reading the next chunk if needed; false
// when the series is exhausted.
func (s *source) ready(it *Rows, chunk int) (bool, error) {
	if s.pos < len(s.rows) {
		return true, nil
	}
	if s.done {
		return false, nil
	}
	s.rows, s.micros, s.pos = s.rows[:0], s.micros[:0], 0
	err := it.db.view(func(tx *bolt.Tx) error {
		defer func() {
			if it.unread += int64(len(s.rows)); it.unread >= releaseEvery {
				releaseMapped(tx)
				it.unread = 0
			}
		}()
		b := s.s.bucket(tx)
		if b == nil {
			s.done = true
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		switch {
		case s.after != nil:
			if k, v = c.Seek(s.after); k != nil && bytes.Equal(k, s.after) {
				k, v = c.Next()
			}
		case s.from != nil:
			k, v = c.Seek(s.from)
		default:
			k, v = c.First()
		}
		for ; k != nil; k, v = c.Next() {
			if v == nil { // not a row (a nested bucket never lives here; be safe)
				continue
			}
			if s.to != nil && bytes.Compare(k[:timeKeyLen], s.to) > 0 {
				s.done = true
				break
			}
			if len(s.rows) == chunk {
				return nil
			}
			r := Row{Table: s.s.table, Experiment: s.s.exp, Unit: s.s.unit, Channel: s.s.channel, Time: keyTime(k)}
			if err := decodeValue(&r, v); err != nil {
				return fmt.Errorf("%s/%s/%s at %x: %w", s.s.exp, s.s.table, s.s.unit, k, err)
			}
			s.rows = append(s.rows, r)
			s.micros = append(s.micros, keyMicros(k))
			s.after = append(s.after[:0], k...)
		}
		if k == nil {
			s.done = true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("read rows: %w", err)
	}
	return len(s.rows) > 0, nil
}

// sourceHeap orders sources by the time of their current row, then by query order.
type sourceHeap []*source

func (h sourceHeap) Len() int { return len(h) }
func (h sourceHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	ta, tb := a.micros[a.pos], b.micros[b.pos]
	if ta != tb {
		return ta < tb
	}
	return a.idx < b.idx
}
func (h sourceHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *sourceHeap) Push(x any)   { *h = append(*h, x.(*source)) }
func (h *sourceHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Count is the number of rows Rows(q) would return, counted from keys alone.
func (db *DB) Count(q Query) (int64, error) {
	if !q.Table.Known() {
		return 0, fmt.Errorf("count rows: unknown table %q", q.Table)
	}
	var n int64
	err := db.view(func(tx *bolt.Tx) error {
		exps := q.Experiments
		if exps == nil {
			exps = experimentsWithData(tx)
		}
		for _, exp := range exps {
			for _, s := range seriesOf(tx, exp, q.Table, q.Units) {
				n += countKeys(tx, s.bucket(tx), q.From, q.To)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count rows: %w", err)
	}
	return n, nil
}

// countKeys counts the rows of b with from ≤ time ≤ to (zero: open). A count walks every
// leaf page of the range, so a long one lets go of the pages as it goes (releaseMapped).
func countKeys(tx *bolt.Tx, b *bolt.Bucket, from, to time.Time) int64 {
	if b == nil {
		return 0
	}
	c := b.Cursor()
	var k []byte
	if from.IsZero() {
		k, _ = c.First()
	} else {
		k, _ = c.Seek(timeKey(from))
	}
	limit := int64(-1)
	if !to.IsZero() {
		limit = to.UnixMicro()
	}
	var n int64
	for ; k != nil; k, _ = c.Next() {
		if limit >= 0 && int64(binary.BigEndian.Uint64(k)) > limit {
			break
		}
		if n++; n%releaseEvery == 0 {
			releaseMapped(tx)
		}
	}
	return n
}

// Units lists the units with rows of table t in experiment exp, ascending.
func (db *DB) Units(exp string, t Table) ([]string, error) {
	var out []string
	err := db.view(func(tx *bolt.Tx) error {
		out = children(tableBucket(tx, exp, t))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list units of %s/%s: %w", exp, t, err)
	}
	return slices.Clip(out), nil
}

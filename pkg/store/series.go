package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A series is the bucket holding one table's rows of one unit in one experiment (and one
// photodiode channel for the OD tables):
//
//	experiment_data/<exp>/<table>/<unit>/           rows
//	experiment_data/<exp>/<table>/<unit>/<channel>/ rows    (od_readings, raw_od_readings, od_blanks)
//
// so deleting the experiment's bucket deletes every row it owns, and the units of a chart
// are the names of the nested buckets.

// series names one series bucket.
type series struct {
	table              Table
	exp, unit, channel string
}

func (s series) path() [][]byte {
	p := [][]byte{[]byte(s.exp), []byte(s.table), []byte(s.unit)}
	if s.table.HasChannels() {
		p = append(p, []byte(s.channel))
	}
	return p
}

// bucket returns the series bucket, nil if it does not exist.
func (s series) bucket(tx *bolt.Tx) *bolt.Bucket {
	b := tx.Bucket(bucketExperimentData)
	for _, name := range s.path() {
		if b = b.Bucket(name); b == nil {
			return nil
		}
	}
	return b
}

// create returns the series bucket, creating it and its parents.
func (s series) create(tx *bolt.Tx) (*bolt.Bucket, error) {
	b := tx.Bucket(bucketExperimentData)
	for _, name := range s.path() {
		var err error
		if b, err = b.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("create series %s/%s/%s: %w", s.exp, s.table, s.unit, err)
		}
	}
	// Rows mostly arrive in time order: split full pages, not half-full ones (bbolt's
	// default of 0.5 would double the file).
	b.FillPercent = 1.0
	return b, nil
}

// InsertStats counts what Insert did with its rows.
type InsertStats struct {
	Inserted   int // new rows
	Duplicates int // rows identical to a stored row (same series, microsecond and values)
	Invalid    int // rows Validate refused
}

// Add sums two stats.
func (s InsertStats) Add(o InsertStats) InsertStats {
	return InsertStats{s.Inserted + o.Inserted, s.Duplicates + o.Duplicates, s.Invalid + o.Invalid}
}

// Insert stores rows in one write transaction. A row identical to one already stored (same
// series, same microsecond, same values) is a replay and is skipped, which makes
// redelivery harmless (docs/mqtt.md QoS 1, the workers' outbox). Invalid rows are counted
// and skipped; they do not fail the others. Times are stored at millisecond precision.
func (db *DB) Insert(rows []Row) (InsertStats, error) {
	var st InsertStats
	err := db.update(func(tx *bolt.Tx) error {
		st = InsertStats{}
		return newInserter(tx).insert(rows, &st)
	})
	if err != nil {
		return InsertStats{}, fmt.Errorf("insert %d rows: %w", len(rows), err)
	}
	return st, nil
}

// inserter writes rows in one write transaction, keeping the series buckets it opened.
type inserter struct {
	tx      *bolt.Tx
	buckets map[series]*bolt.Bucket
	// bbolt keeps references to keys and values until commit: they are carved from an
	// arena that is only appended to (a grown arena leaves the old array to the old slices).
	arena []byte
}

func newInserter(tx *bolt.Tx) *inserter {
	return &inserter{tx: tx, buckets: map[series]*bolt.Bucket{}, arena: make([]byte, 0, 1<<16)}
}

func (in *inserter) insert(rows []Row, st *InsertStats) error {
	for i := range rows {
		r := &rows[i]
		if r.Validate() != nil {
			st.Invalid++
			continue
		}
		s := series{r.Table, r.Experiment, r.Unit, r.Channel}
		if !r.Table.HasChannels() {
			s.channel = ""
		}
		b, ok := in.buckets[s]
		if !ok {
			var err error
			if b, err = s.create(in.tx); err != nil {
				return err
			}
			in.buckets[s] = b
		}
		t := r.Time.UTC().Truncate(time.Millisecond)
		key := in.carve(func(dst []byte) []byte { return binary.BigEndian.AppendUint64(dst, uint64(t.UnixMicro())) })
		val := in.carve(func(dst []byte) []byte { return encodeValue(dst, r) })
		dup, n, err := sameInstant(b, key, val)
		if err != nil {
			return err
		}
		if dup {
			st.Duplicates++
			continue
		}
		if n > 0 {
			key = in.carve(func(dst []byte) []byte { return binary.BigEndian.AppendUint16(append(dst, key...), uint16(n)) })
		}
		if err := b.Put(key, val); err != nil {
			return fmt.Errorf("put %s row: %w", r.Table, err)
		}
		st.Inserted++
	}
	return nil
}

// carve appends with fn to the arena and returns what it appended, capped so that a later
// append can never write into it.
func (in *inserter) carve(fn func([]byte) []byte) []byte {
	start := len(in.arena)
	in.arena = fn(in.arena)
	return in.arena[start:len(in.arena):len(in.arena)]
}

// sameInstant looks at the rows stored at key's microsecond: dup if one has val, else n is
// the suffix the new row takes (0 when the instant is free).
func sameInstant(b *bolt.Bucket, key, val []byte) (dup bool, n int, err error) {
	c := b.Cursor()
	k, v := c.Seek(key)
	for ; k != nil && bytes.HasPrefix(k, key); k, v = c.Next() {
		if bytes.Equal(v, val) {
			return true, 0, nil
		}
		next := 1
		if len(k) == timeKeyLen+2 {
			next = int(binary.BigEndian.Uint16(k[timeKeyLen:])) + 1
		}
		n = max(n, next)
	}
	if n > maxSuffix {
		return false, 0, fmt.Errorf("more than %d rows at %s", maxSuffix, keyTime(key))
	}
	return false, n, nil
}

// children lists the names of the nested buckets of b, in key order; nil b has none.
func children(b *bolt.Bucket) []string {
	if b == nil {
		return nil
	}
	var out []string
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			out = append(out, string(k))
		}
	}
	return out
}

// tableBucket is experiment_data/<exp>/<table>, nil if absent.
func tableBucket(tx *bolt.Tx, exp string, t Table) *bolt.Bucket {
	b := tx.Bucket(bucketExperimentData).Bucket([]byte(exp))
	if b == nil {
		return nil
	}
	return b.Bucket([]byte(t))
}

// seriesOf lists the series of a table in an experiment, units (and channels) ascending;
// units, when non-nil, restricts the list to those units.
func seriesOf(tx *bolt.Tx, exp string, t Table, units []string) []series {
	tb := tableBucket(tx, exp, t)
	var out []series
	for _, u := range children(tb) {
		if units != nil && !contains(units, u) {
			continue
		}
		if !t.HasChannels() {
			out = append(out, series{t, exp, u, ""})
			continue
		}
		for _, ch := range children(tb.Bucket([]byte(u))) {
			out = append(out, series{t, exp, u, ch})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// experimentsWithData lists the experiments that have a subtree in experiment_data
// (including $experiment and experiments without a row), by name.
func experimentsWithData(tx *bolt.Tx) []string {
	return children(tx.Bucket(bucketExperimentData))
}

package store

import (
	"bytes"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ChartQuery asks for the time series of one table in one experiment, for charts
// (docs/http.md, "Charts").
type ChartQuery struct {
	Table      Table
	Experiment string
	// Unit restricts the answer to one unit (not validated); "" means every unit with rows.
	Unit string
	// After and Until bound the window: After < time ≤ Until.
	After, Until time.Time
	// TargetPoints is the most points a series gets; more rows are downsampled.
	TargetPoints int
}

// Point is one chart point.
type Point struct {
	Time  time.Time
	Value float64
}

// Series is one line of a chart: a unit's, or a unit's photodiode channel's.
type Series struct {
	Name   string // <unit>, or <unit>-<channel> for the OD tables
	Points []Point
}

// Chart answers q for a table with a value column. Series come in unit (then channel)
// order; series without rows in the window are left out. A series with more than
// TargetPoints rows keeps the rows first at or after TargetPoints instants evenly spaced
// from its first to its last row in the window (duplicates dropped), as the reference
// does: each is one cursor seek, so the cost is independent of the window's size.
func (db *DB) Chart(q ChartQuery) ([]Series, error) {
	if q.Table.ValueColumn() == "" {
		return nil, fmt.Errorf("chart %s: the table has no value column", q.Table)
	}
	if q.TargetPoints <= 0 {
		return nil, fmt.Errorf("chart %s: target points %d must be > 0", q.Table, q.TargetPoints)
	}
	var units []string
	if q.Unit != "" {
		units = []string{q.Unit}
	}
	lo, hi := q.After.UnixMicro()+1, q.Until.UnixMicro()
	var out []Series
	err := db.view(func(tx *bolt.Tx) error {
		for _, s := range seriesOf(tx, q.Experiment, q.Table, units) {
			pts, err := chartSeries(tx, s, lo, hi, q.TargetPoints)
			if err != nil {
				return err
			}
			if len(pts) == 0 {
				continue
			}
			name := s.unit
			if q.Table.HasChannels() {
				name += "-" + s.channel
			}
			out = append(out, Series{Name: name, Points: pts})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chart %s of %s: %w", q.Table, q.Experiment, err)
	}
	return out, nil
}

func chartSeries(tx *bolt.Tx, s series, lo, hi int64, target int) ([]Point, error) {
	b := s.bucket(tx)
	lo = max(lo, 0) // a window reaching before 1970 holds every row: keys start at the epoch
	if b == nil || lo > hi {
		return nil, nil
	}
	n := countKeys(tx, b, time.UnixMicro(lo), time.UnixMicro(hi))
	if n == 0 {
		return nil, nil
	}
	c := b.Cursor()
	point := func(k, v []byte) (Point, error) {
		r := Row{Table: s.table}
		if err := decodeValue(&r, v); err != nil {
			return Point{}, fmt.Errorf("%s/%s/%s at %x: %w", s.exp, s.table, s.unit, k, err)
		}
		return Point{Time: keyTime(k), Value: r.Value}, nil
	}
	if n <= int64(target) {
		pts := make([]Point, 0, n)
		for k, v := c.Seek(timeKey(time.UnixMicro(lo))); k != nil && keyMicros(k) <= hi; k, v = c.Next() {
			p, err := point(k, v)
			if err != nil {
				return nil, err
			}
			pts = append(pts, p)
		}
		return pts, nil
	}
	firstK, _ := c.Seek(timeKey(time.UnixMicro(lo)))
	first := keyMicros(firstK)
	var lastK, lastV []byte
	if k, _ := c.Seek(timeKey(time.UnixMicro(hi + 1))); k == nil {
		lastK, lastV = c.Last()
	} else {
		lastK, lastV = c.Prev()
	}
	if target == 1 {
		p, err := point(lastK, lastV)
		return []Point{p}, err
	}
	last := keyMicros(lastK)
	pts := make([]Point, 0, target)
	var prev []byte
	for i := range target {
		at := last
		if i < target-1 {
			at = int64(math.Ceil(float64(first) + float64(last-first)*float64(i)/float64(target-1)))
		}
		k, v := c.Seek(timeKey(time.UnixMicro(at)))
		if k == nil || bytes.Equal(k, prev) {
			continue
		}
		prev = append(prev[:0], k...)
		p, err := point(k, v)
		if err != nil {
			return nil, err
		}
		pts = append(pts, p)
	}
	return pts, nil
}

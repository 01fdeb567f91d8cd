package store

import (
	"bytes"
	"container/heap"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// LogRow is one stored log line as the log routes return it (docs/http.md, "Logs").
type LogRow struct {
	Timestamp  time.Time
	Level      string
	Unit       string
	Message    string
	Task       string
	Experiment string
	Source     string
}

// Window is a closed time interval [From, To]; a zero To is open-ended.
type Window struct{ From, To time.Time }

// LogQuery selects log lines for Logs. Rows come newest first.
type LogQuery struct {
	// Experiments restricts the lines to these experiments; nil means all of them.
	Experiments []string
	// Units restricts the lines to these units; nil means all of them.
	Units []string
	// Levels restricts the lines to these (upper-case) levels; nil means every level.
	Levels []string
	// After drops lines at or before it (zero: no bound).
	After time.Time
	// Windows, when set, keeps only lines inside one of them.
	Windows []Window
	// Skip lines, then return at most Limit (Limit ≤ 0 means no limit).
	Skip, Limit int
}

// Logs answers q from the log series of every matching (experiment, unit), merged newest
// first in one read transaction. Lines at the same instant come latest-inserted first
// within a series, then by experiment and unit name.
func (db *DB) Logs(q LogQuery) ([]LogRow, error) {
	var levels [][]byte
	for _, l := range q.Levels {
		levels = append(levels, []byte(l))
	}
	var out []LogRow
	err := db.view(func(tx *bolt.Tx) error {
		exps := q.Experiments
		if exps == nil {
			exps = experimentsWithData(tx)
		}
		var h logHeap
		for _, exp := range exps {
			for _, s := range seriesOf(tx, exp, Logs, q.Units) {
				lc := &logCursor{s: s, c: s.bucket(tx).Cursor(), idx: len(h)}
				if lc.k, lc.v = lc.c.Last(); lc.k != nil {
					h = append(h, lc)
				}
			}
		}
		heap.Init(&h)
		skip := q.Skip
		after := int64(-1)
		if !q.After.IsZero() {
			after = q.After.UnixMicro()
		}
		for h.Len() > 0 && (q.Limit <= 0 || len(out) < q.Limit) {
			lc := h[0]
			k, v := lc.k, lc.v
			if lc.k, lc.v = lc.c.Prev(); lc.k == nil {
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
			at := keyMicros(k)
			if at <= after {
				if lc.k != nil { // everything older in this series is out too
					heap.Remove(&h, slices.Index(h, lc))
				}
				continue
			}
			if !inWindows(at, q.Windows) {
				continue
			}
			if levels != nil && !slices.ContainsFunc(levels, func(l []byte) bool { return bytes.Equal(l, logLevel(v)) }) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			r := Row{Table: Logs}
			if err := decodeValue(&r, v); err != nil {
				return fmt.Errorf("%s/logs/%s at %x: %w", lc.s.exp, lc.s.unit, k, err)
			}
			out = append(out, LogRow{Timestamp: keyTime(k), Level: r.Level, Unit: lc.s.unit,
				Message: r.Message, Task: r.Task, Experiment: lc.s.exp, Source: r.Source})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read logs: %w", err)
	}
	return out, nil
}

func inWindows(at int64, ws []Window) bool {
	if len(ws) == 0 {
		return true
	}
	for _, w := range ws {
		if at >= w.From.UnixMicro() && (w.To.IsZero() || at <= w.To.UnixMicro()) {
			return true
		}
	}
	return false
}

// logCursor walks one log series backwards.
type logCursor struct {
	s    series
	c    *bolt.Cursor
	k, v []byte
	idx  int
}

// logHeap puts the newest current line on top; ties go to the series listed first.
type logHeap []*logCursor

func (h logHeap) Len() int { return len(h) }
func (h logHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].k, h[j].k); c != 0 {
		return c > 0
	}
	return h[i].idx < h[j].idx
}
func (h logHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *logHeap) Push(x any)   { *h = append(*h, x.(*logCursor)) }
func (h *logHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

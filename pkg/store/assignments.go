package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Assignment is a worker's current experiment (experiment_worker_assignments).
type Assignment struct {
	Unit       string    `json:"pioreactor_unit"`
	Experiment string    `json:"experiment"`
	AssignedAt time.Time `json:"assigned_at"`
}

// AssignmentInterval is one row of the assignment history: a (unit, experiment) pairing
// from AssignedAt until UnassignedAt, which is zero while the pairing is current. History
// survives the deletion of its worker and of its experiment.
type AssignmentInterval struct {
	Unit         string    `json:"pioreactor_unit"`
	Experiment   string    `json:"experiment"`
	AssignedAt   time.Time `json:"assigned_at"`
	UnassignedAt time.Time `json:"unassigned_at"`
}

// Current reports whether the interval is still open.
func (i AssignmentInterval) Current() bool { return i.UnassignedAt.IsZero() }

// assignmentRecord is the stored value under assignments/<unit>. HistorySeq points at the
// open interval in assignment_history, so closing it needs no search.
type assignmentRecord struct {
	Unit       string `json:"-"` // the key
	Experiment string `json:"experiment"`
	AssignedAt string `json:"assigned_at"`
	HistorySeq uint64 `json:"history_seq"`
}

// intervalRecord is the stored value under assignment_history/<seq>.
type intervalRecord struct {
	Unit         string `json:"pioreactor_unit"`
	Experiment   string `json:"experiment"`
	AssignedAt   string `json:"assigned_at"`
	UnassignedAt string `json:"unassigned_at"`
}

// Assign puts a worker in an experiment, taking it out of the one it was in (whose name is
// returned as previous, "" if none) and recording both in the history at the same instant
// (at; zero means now). Assigning a worker to the experiment it is already in changes
// nothing and returns that experiment. ErrUnknownWorker / ErrUnknownExperiment when either
// side does not exist.
func (db *DB) Assign(unit, experiment string, at time.Time) (previous string, err error) {
	at = db.orNow(at)
	err = db.update(func(tx *bolt.Tx) error {
		if !workerExists(tx, unit) {
			return ErrUnknownWorker
		}
		if !experimentExists(tx, experiment) {
			return ErrUnknownExperiment
		}
		assignments := tx.Bucket(bucketAssignments)
		var cur assignmentRecord
		found, err := getJSON(assignments, []byte(unit), &cur)
		if err != nil {
			return err
		}
		if found {
			previous = cur.Experiment
			if cur.Experiment == experiment {
				return nil
			}
			if err := closeInterval(tx, cur.HistorySeq, at); err != nil {
				return err
			}
		}
		history := tx.Bucket(bucketAssignmentHistory)
		seq, err := history.NextSequence()
		if err != nil {
			return err
		}
		stamp := formatTime(at)
		iv := intervalRecord{Unit: unit, Experiment: experiment, AssignedAt: stamp}
		if err := putJSON(history, u64Key(seq), iv); err != nil {
			return err
		}
		rec := assignmentRecord{Experiment: experiment, AssignedAt: stamp, HistorySeq: seq}
		return putJSON(assignments, []byte(unit), rec)
	})
	if err != nil {
		return "", fmt.Errorf("assign %s to %s: %w", unit, experiment, err)
	}
	return previous, nil
}

// Unassign takes a worker out of an experiment: ErrUnknownWorker if the worker does not
// exist, ErrNotAssigned if it is not in that experiment.
func (db *DB) Unassign(unit, experiment string) error {
	err := db.update(func(tx *bolt.Tx) error {
		if !workerExists(tx, unit) {
			return ErrUnknownWorker
		}
		removed, err := unassignWhere(tx, db.now(), func(a assignmentRecord) bool {
			return a.Unit == unit && a.Experiment == experiment
		})
		if err != nil {
			return err
		}
		if len(removed) == 0 {
			return ErrNotAssigned
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unassign %s from %s: %w", unit, experiment, err)
	}
	return nil
}

// UnassignAll takes every worker out of an experiment and returns their units in name
// order (none, without error, for an unknown experiment).
func (db *DB) UnassignAll(experiment string) ([]string, error) {
	var units []string
	err := db.update(func(tx *bolt.Tx) error {
		removed, err := unassignWhere(tx, db.now(), func(a assignmentRecord) bool {
			return a.Experiment == experiment
		})
		units = make([]string, len(removed))
		for i, a := range removed {
			units[i] = a.Unit
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("unassign all from %s: %w", experiment, err)
	}
	return units, nil
}

// ClearAssignments takes every worker out of every experiment (DELETE
// /api/workers/assignments) and returns what was removed, so the caller can notify each.
func (db *DB) ClearAssignments() ([]Assignment, error) {
	var out []Assignment
	err := db.update(func(tx *bolt.Tx) error {
		var err error
		out, err = unassignWhere(tx, db.now(), func(assignmentRecord) bool { return true })
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("clear assignments: %w", err)
	}
	return out, nil
}

// Assignments lists every current assignment in unit order.
func (db *DB) Assignments() ([]Assignment, error) {
	out := []Assignment{}
	err := db.view(func(tx *bolt.Tx) error {
		return forEachAssignment(tx, func(a assignmentRecord) error {
			x, err := a.assignment()
			out = append(out, x)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	return out, nil
}

// AssignedWorkers lists the workers currently in an experiment, in unit order (none for
// an unknown experiment).
func (db *DB) AssignedWorkers(experiment string) ([]Worker, error) {
	out := []Worker{}
	err := db.view(func(tx *bolt.Tx) error {
		return forEachAssignment(tx, func(a assignmentRecord) error {
			if a.Experiment != experiment {
				return nil
			}
			w, err := getWorker(tx, a.Unit)
			if err != nil {
				return fmt.Errorf("worker of assignment %s: %w", a.Unit, err)
			}
			out = append(out, w)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list workers of %s: %w", experiment, err)
	}
	return out, nil
}

// AssignmentOf returns a worker's current assignment: ErrUnknownWorker if the worker does
// not exist, ErrNotAssigned if it is in no experiment.
func (db *DB) AssignmentOf(unit string) (Assignment, error) {
	var out Assignment
	err := db.view(func(tx *bolt.Tx) error {
		if !workerExists(tx, unit) {
			return ErrUnknownWorker
		}
		var rec assignmentRecord
		found, err := getJSON(tx.Bucket(bucketAssignments), []byte(unit), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotAssigned
		}
		rec.Unit = unit
		out, err = rec.assignment()
		return err
	})
	if err != nil {
		return Assignment{}, fmt.Errorf("read assignment of %s: %w", unit, err)
	}
	return out, nil
}

// AssignmentHistory lists history intervals in insertion order, filtered by unit and by
// experiment ("" matches any). The API's historical_worker_assignments dedupes units from
// AssignmentHistory("", exp); the per-unit log view uses AssignmentHistory(unit, "").
func (db *DB) AssignmentHistory(unit, experiment string) ([]AssignmentInterval, error) {
	out := []AssignmentInterval{}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssignmentHistory).ForEach(func(k, v []byte) error {
			var rec intervalRecord
			if err := jsonUnmarshal(k, v, &rec); err != nil {
				return err
			}
			if (unit != "" && rec.Unit != unit) || (experiment != "" && rec.Experiment != experiment) {
				return nil
			}
			iv, err := rec.interval()
			out = append(out, iv)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read assignment history: %w", err)
	}
	return out, nil
}

// unassignWhere deletes the assignments for which match is true, closing their
// history intervals at at, and returns them in unit order. Only it and Assign's
// replacement end an assignment, and both close the interval, so history never misses one.
func unassignWhere(tx *bolt.Tx, at time.Time, match func(assignmentRecord) bool) ([]Assignment, error) {
	var hit []assignmentRecord
	err := forEachAssignment(tx, func(a assignmentRecord) error {
		if match(a) {
			hit = append(hit, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Assignment, 0, len(hit))
	assignments := tx.Bucket(bucketAssignments)
	for _, a := range hit { // deleted after iterating: bbolt forbids changes under a cursor
		if err := assignments.Delete([]byte(a.Unit)); err != nil {
			return nil, err
		}
		if err := closeInterval(tx, a.HistorySeq, at); err != nil {
			return nil, err
		}
		x, err := a.assignment()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// closeInterval sets unassigned_at on a history row that is still open.
func closeInterval(tx *bolt.Tx, seq uint64, at time.Time) error {
	history := tx.Bucket(bucketAssignmentHistory)
	var rec intervalRecord
	found, err := getJSON(history, u64Key(seq), &rec)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: assignment points at missing history row %d", ErrCorrupt, seq)
	}
	if rec.UnassignedAt != "" {
		return nil
	}
	rec.UnassignedAt = formatTime(at)
	return putJSON(history, u64Key(seq), rec)
}

func forEachAssignment(tx *bolt.Tx, fn func(assignmentRecord) error) error {
	return tx.Bucket(bucketAssignments).ForEach(func(k, v []byte) error {
		var rec assignmentRecord
		if err := jsonUnmarshal(k, v, &rec); err != nil {
			return err
		}
		rec.Unit = string(k)
		return fn(rec)
	})
}

func (r assignmentRecord) assignment() (Assignment, error) {
	t, err := parseTime(r.AssignedAt)
	if err != nil {
		return Assignment{}, fmt.Errorf("assignment of %s: %w", r.Unit, err)
	}
	return Assignment{Unit: r.Unit, Experiment: r.Experiment, AssignedAt: t}, nil
}

func (r intervalRecord) interval() (AssignmentInterval, error) {
	from, err := parseTime(r.AssignedAt)
	if err != nil {
		return AssignmentInterval{}, fmt.Errorf("history of %s: %w", r.Unit, err)
	}
	until, err := parseTime(r.UnassignedAt)
	if err != nil {
		return AssignmentInterval{}, fmt.Errorf("history of %s: %w", r.Unit, err)
	}
	return AssignmentInterval{Unit: r.Unit, Experiment: r.Experiment, AssignedAt: from, UnassignedAt: until}, nil
}

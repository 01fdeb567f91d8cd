package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Experiment is one row of the experiments table with its tags (docs/data.md, "Experiments and inventory").
// The API adds delta_hours and worker_count; the tags here already are the stored set.
type Experiment struct {
	Name        string    `json:"experiment"`
	CreatedAt   time.Time `json:"created_at"`
	Description string    `json:"description"`
	Tags        []string  `json:"tags"`
}

// experimentRecord is the stored value under experiments/<name>. It is separate from
// Experiment so that the file format does not move when the API's shape does.
type experimentRecord struct {
	CreatedAt   string   `json:"created_at"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Seq         uint64   `json:"seq"` // key in experiments_by_seq: insertion order
}

func (r experimentRecord) experiment(name string) (Experiment, error) {
	t, err := parseTime(r.CreatedAt)
	if err != nil {
		return Experiment{}, fmt.Errorf("experiment %s: %w", name, err)
	}
	return Experiment{Name: name, CreatedAt: t, Description: r.Description, Tags: r.Tags}, nil
}

// CreateExperiment inserts e (CreatedAt zero means now). It fails with ErrExists if the
// name is taken. Tags are normalised as normaliseTags says.
func (db *DB) CreateExperiment(e Experiment) error {
	if e.Name == "" {
		return fmt.Errorf("create experiment: %w", ErrEmptyName)
	}
	err := db.update(func(tx *bolt.Tx) error {
		exps, bySeq := tx.Bucket(bucketExperiments), tx.Bucket(bucketExperimentsBySeq)
		if exps.Get([]byte(e.Name)) != nil {
			return ErrExists
		}
		seq, err := bySeq.NextSequence()
		if err != nil {
			return err
		}
		rec := experimentRecord{
			CreatedAt:   formatTime(db.orNow(e.CreatedAt)),
			Description: e.Description,
			Tags:        normaliseTags(e.Tags),
			Seq:         seq,
		}
		if err := putJSON(exps, []byte(e.Name), rec); err != nil {
			return err
		}
		return bySeq.Put(u64Key(seq), []byte(e.Name))
	})
	if err != nil {
		return fmt.Errorf("create experiment %s: %w", e.Name, err)
	}
	return nil
}

// Experiment returns one experiment, or ErrNotFound.
func (db *DB) Experiment(name string) (Experiment, error) {
	var e Experiment
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		e, err = getExperiment(tx, name)
		return err
	})
	if err != nil {
		return Experiment{}, fmt.Errorf("read experiment %s: %w", name, err)
	}
	return e, nil
}

// Experiments lists every experiment, newest created_at first; equal times put the later
// inserted first.
func (db *DB) Experiments() ([]Experiment, error) {
	type row struct {
		e   Experiment
		seq uint64
	}
	var rows []row
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketExperiments).ForEach(func(k, v []byte) error {
			var rec experimentRecord
			if err := jsonUnmarshal(k, v, &rec); err != nil {
				return err
			}
			e, err := rec.experiment(string(k))
			if err != nil {
				return err
			}
			rows = append(rows, row{e, rec.Seq})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := b.e.CreatedAt.Compare(a.e.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	out := make([]Experiment, len(rows))
	for i, r := range rows {
		out[i] = r.e
	}
	return out, nil
}

// LatestExperiment is the most recently inserted experiment, whatever its created_at
// (docs/data.md, "Experiments and inventory"), or ErrNotFound when there is none.
func (db *DB) LatestExperiment() (Experiment, error) {
	var e Experiment
	err := db.view(func(tx *bolt.Tx) error {
		k, v := tx.Bucket(bucketExperimentsBySeq).Cursor().Last()
		if k == nil {
			return ErrNotFound
		}
		var err error
		e, err = getExperiment(tx, string(v))
		return err
	})
	if err != nil {
		return Experiment{}, fmt.Errorf("read latest experiment: %w", err)
	}
	return e, nil
}

// UpdateExperiment replaces the description and/or the whole tag set (nil leaves a field
// alone) and returns the updated experiment, or ErrNotFound.
func (db *DB) UpdateExperiment(name string, description *string, tags *[]string) (Experiment, error) {
	var e Experiment
	err := db.update(func(tx *bolt.Tx) error {
		exps := tx.Bucket(bucketExperiments)
		var rec experimentRecord
		found, err := getJSON(exps, []byte(name), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if description != nil {
			rec.Description = *description
		}
		if tags != nil {
			rec.Tags = normaliseTags(*tags)
		}
		if err := putJSON(exps, []byte(name), rec); err != nil {
			return err
		}
		e, err = rec.experiment(name)
		return err
	})
	if err != nil {
		return Experiment{}, fmt.Errorf("update experiment %s: %w", name, err)
	}
	return e, nil
}

// DeleteExperiment removes an experiment and, in the same transaction, everything scoped
// to it: its assignments (closing their history intervals now; the history itself stays)
// and its experiment_data subtree. ErrNotFound if it does not exist.
func (db *DB) DeleteExperiment(name string) error {
	err := db.update(func(tx *bolt.Tx) error {
		exps := tx.Bucket(bucketExperiments)
		var rec experimentRecord
		found, err := getJSON(exps, []byte(name), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		if err := exps.Delete([]byte(name)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketExperimentsBySeq).Delete(u64Key(rec.Seq)); err != nil {
			return err
		}
		if _, err := unassignWhere(tx, db.now(), func(a assignmentRecord) bool {
			return a.Experiment == name
		}); err != nil {
			return err
		}
		return deleteBucketIfExists(tx.Bucket(bucketExperimentData), []byte(name))
	})
	if err != nil {
		return fmt.Errorf("delete experiment %s: %w", name, err)
	}
	return nil
}

func getExperiment(tx *bolt.Tx, name string) (Experiment, error) {
	var rec experimentRecord
	found, err := getJSON(tx.Bucket(bucketExperiments), []byte(name), &rec)
	if err != nil {
		return Experiment{}, err
	}
	if !found {
		return Experiment{}, ErrNotFound
	}
	return rec.experiment(name)
}

// experimentExists is the foreign-key check of writes that reference an experiment.
func experimentExists(tx *bolt.Tx, name string) bool {
	return name != "" && tx.Bucket(bucketExperiments).Get([]byte(name)) != nil
}

// experimentData returns experiment_data/<exp>/<child>, creating it when create is set;
// without create it is nil if absent. Everything under experiment_data/<exp> dies with the
// experiment, so new experiment-scoped families only need to live there.
func experimentData(tx *bolt.Tx, exp string, child []byte, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketExperimentData)
	if !create {
		b := root.Bucket([]byte(exp))
		if b == nil {
			return nil, nil
		}
		return b.Bucket(child), nil
	}
	b, err := root.CreateBucketIfNotExists([]byte(exp))
	if err != nil {
		return nil, fmt.Errorf("create experiment_data/%s: %w", exp, err)
	}
	c, err := b.CreateBucketIfNotExists(child)
	if err != nil {
		return nil, fmt.Errorf("create experiment_data/%s/%s: %w", exp, child, err)
	}
	return c, nil
}

// normaliseTags trims tags, drops blanks and case-insensitive duplicates (keeping the first
// spelling), and keeps the given order, which is the order tags are shown in (docs/http.md, "Experiments").
func normaliseTags(tags []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

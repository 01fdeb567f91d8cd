package store

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Worker is one row of the leader's inventory (docs/data.md, "Experiments and inventory", docs/http.md, "Workers"). The API
// renders IsActive as 0/1 and adds ipv4_address from the config.
type Worker struct {
	Unit         string    `json:"pioreactor_unit"`
	AddedAt      time.Time `json:"added_at"`
	IsActive     bool      `json:"is_active"`
	ModelName    string    `json:"model_name"`
	ModelVersion string    `json:"model_version"`
	// LostSince is when the leader saw the worker's monitor go `lost` (zero: it is not);
	// SetWorkerLost keeps it.
	LostSince time.Time `json:"lost_since,omitzero"`
}

// workerRecord is the stored value under workers/<unit>.
type workerRecord struct {
	AddedAt      string `json:"added_at"`
	IsActive     bool   `json:"is_active"`
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	LostSince    string `json:"lost_since,omitempty"`
}

func (r workerRecord) worker(unit string) (Worker, error) {
	t, err := parseTime(r.AddedAt)
	if err != nil {
		return Worker{}, fmt.Errorf("worker %s: %w", unit, err)
	}
	w := Worker{Unit: unit, AddedAt: t, IsActive: r.IsActive, ModelName: r.ModelName,
		ModelVersion: r.ModelVersion}
	if r.LostSince != "" {
		if w.LostSince, err = parseTime(r.LostSince); err != nil {
			return Worker{}, fmt.Errorf("worker %s lost_since: %w", unit, err)
		}
	}
	return w, nil
}

// PutWorker registers a worker or overwrites its row (PUT /api/workers). A registered
// worker is active, so w.IsActive is ignored; AddedAt zero means now. An existing
// assignment is kept: re-registering a worker is not a reason to pull it out of its
// experiment.
func (db *DB) PutWorker(w Worker) error {
	if w.Unit == "" {
		return fmt.Errorf("put worker: %w", ErrEmptyName)
	}
	rec := workerRecord{
		AddedAt:      formatTime(db.orNow(w.AddedAt)),
		IsActive:     true,
		ModelName:    w.ModelName,
		ModelVersion: w.ModelVersion,
	}
	err := db.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketWorkers), []byte(w.Unit), rec)
	})
	if err != nil {
		return fmt.Errorf("put worker %s: %w", w.Unit, err)
	}
	return nil
}

// Worker returns one worker, or ErrNotFound.
func (db *DB) Worker(unit string) (Worker, error) {
	var w Worker
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		w, err = getWorker(tx, unit)
		return err
	})
	if err != nil {
		return Worker{}, fmt.Errorf("read worker %s: %w", unit, err)
	}
	return w, nil
}

// Workers lists the inventory ordered by unit name (bytewise, as SQLite's default
// collation orders it).
func (db *DB) Workers() ([]Worker, error) {
	out := []Worker{}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWorkers).ForEach(func(k, v []byte) error {
			var rec workerRecord
			if err := jsonUnmarshal(k, v, &rec); err != nil {
				return err
			}
			w, err := rec.worker(string(k))
			if err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return out, nil
}

// DeleteWorker removes a worker and its current assignment (closing that history interval
// now), or returns ErrNotFound. Its labels stay: they belong to the experiment's record.
func (db *DB) DeleteWorker(unit string) error {
	err := db.update(func(tx *bolt.Tx) error {
		workers := tx.Bucket(bucketWorkers)
		if workers.Get([]byte(unit)) == nil {
			return ErrNotFound
		}
		if err := workers.Delete([]byte(unit)); err != nil {
			return err
		}
		_, err := unassignWhere(tx, db.now(), func(a assignmentRecord) bool { return a.Unit == unit })
		return err
	})
	if err != nil {
		return fmt.Errorf("delete worker %s: %w", unit, err)
	}
	return nil
}

// SetWorkerActive sets is_active, or returns ErrNotFound.
func (db *DB) SetWorkerActive(unit string, active bool) error {
	err := db.modifyWorker(unit, func(r *workerRecord) { r.IsActive = active })
	if err != nil {
		return fmt.Errorf("set worker %s active=%t: %w", unit, active, err)
	}
	return nil
}

// SetWorkerModel sets the model name and version, or returns ErrNotFound. Whether the model
// is a registered one is the API's check.
func (db *DB) SetWorkerModel(unit, modelName, modelVersion string) error {
	err := db.modifyWorker(unit, func(r *workerRecord) {
		r.ModelName, r.ModelVersion = modelName, modelVersion
	})
	if err != nil {
		return fmt.Errorf("set worker %s model: %w", unit, err)
	}
	return nil
}

func (db *DB) modifyWorker(unit string, change func(*workerRecord)) error {
	return db.update(func(tx *bolt.Tx) error {
		workers := tx.Bucket(bucketWorkers)
		var rec workerRecord
		found, err := getJSON(workers, []byte(unit), &rec)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		change(&rec)
		return putJSON(workers, []byte(unit), rec)
	})
}

func getWorker(tx *bolt.Tx, unit string) (Worker, error) {
	var rec workerRecord
	found, err := getJSON(tx.Bucket(bucketWorkers), []byte(unit), &rec)
	if err != nil {
		return Worker{}, err
	}
	if !found {
		return Worker{}, ErrNotFound
	}
	return rec.worker(unit)
}

// workerExists is the foreign-key check of writes that reference a worker.
func workerExists(tx *bolt.Tx, unit string) bool {
	return unit != "" && tx.Bucket(bucketWorkers).Get([]byte(unit)) != nil
}

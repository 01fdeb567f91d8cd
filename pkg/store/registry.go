package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Registry is this unit's job registry and settings mirror (docs/mqtt.md, "Job registry"). It
// implements supervisor.Registry; the supervisor is its only writer.
type Registry struct{ db *DB }

// Registry returns the job registry kept in this file.
func (db *DB) Registry() *Registry { return &Registry{db: db} }

// Reset marks every running job not running and drops its settings mirror: no job outlives
// the daemon, and stale settings would mislead readers (dodging jobs, the unit API) into
// thinking a dead job still publishes them. ended_at stays null: nobody saw the job end.
func (r *Registry) Reset() error {
	err := r.db.update(func(tx *bolt.Tx) error {
		jobs, running, settings := registryBuckets(tx)
		var ids [][]byte
		err := running.ForEach(func(k, _ []byte) error {
			ids = append(ids, append([]byte(nil), k...)) // keys die when the cursor moves on
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range ids {
			var row contract.JobRow
			if _, err := getJSON(jobs, id, &row); err != nil {
				return err
			}
			row.IsRunning = 0
			if err := putJSON(jobs, id, row); err != nil {
				return err
			}
			if err := running.Delete(id); err != nil {
				return err
			}
			if err := deleteBucketIfExists(settings, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reset job registry: %w", err)
	}
	return nil
}

// Add records a started job and returns its job_id, the next value of the registry's
// sequence (never reused in this file). The row is stored running, whatever row.IsRunning
// and row.EndedAt say.
func (r *Registry) Add(row contract.JobRow) (int64, error) {
	err := r.db.update(func(tx *bolt.Tx) error {
		jobs, running, _ := registryBuckets(tx)
		seq, err := jobs.NextSequence()
		if err != nil {
			return err
		}
		row.JobID = int64(seq)
		row.IsRunning = 1
		row.EndedAt = nil
		id := u64Key(seq)
		if err := putJSON(jobs, id, row); err != nil {
			return err
		}
		return running.Put(id, []byte{})
	})
	if err != nil {
		return 0, fmt.Errorf("add job %s: %w", row.JobName, err)
	}
	return row.JobID, nil
}

// End marks a job not running at endedAt. Ending an ended job moves its ended_at.
func (r *Registry) End(jobID int64, endedAt string) error {
	err := r.db.update(func(tx *bolt.Tx) error {
		jobs, running, _ := registryBuckets(tx)
		id := u64Key(uint64(jobID))
		var row contract.JobRow
		found, err := getJSON(jobs, id, &row)
		if err != nil {
			return err
		}
		if !found {
			return ErrNotFound
		}
		row.IsRunning = 0
		row.EndedAt = &endedAt
		if err := putJSON(jobs, id, row); err != nil {
			return err
		}
		return running.Delete(id)
	})
	if err != nil {
		return fmt.Errorf("end job %d: %w", jobID, err)
	}
	return nil
}

// PutSetting upserts one mirrored setting of a job. Every publication of every job lands
// here and waits for it, so it commits at once: bbolt's batcher would add up to 10 ms to
// each publication (an age at --speed 3600). The registry file is opened with NoSync, so a
// commit costs microseconds.
func (r *Registry) PutSetting(jobID int64, setting, value string) error {
	if setting == "" {
		return fmt.Errorf("put setting of job %d: %w", jobID, ErrEmptyName)
	}
	err := r.db.update(func(tx *bolt.Tx) error {
		jobs, _, settings := registryBuckets(tx)
		id := u64Key(uint64(jobID))
		if jobs.Get(id) == nil {
			return ErrNotFound
		}
		b, err := settings.CreateBucketIfNotExists(id)
		if err != nil {
			return err
		}
		return b.Put([]byte(setting), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("put setting %s of job %d: %w", setting, jobID, err)
	}
	return nil
}

// DeleteSetting removes one mirrored setting; deleting what is not there is not an error,
// as with the reference's DELETE.
func (r *Registry) DeleteSetting(jobID int64, setting string) error {
	if setting == "" {
		return nil
	}
	err := r.db.update(func(tx *bolt.Tx) error {
		_, _, settings := registryBuckets(tx)
		b := settings.Bucket(u64Key(uint64(jobID)))
		if b == nil {
			return nil
		}
		return b.Delete([]byte(setting))
	})
	if err != nil {
		return fmt.Errorf("delete setting %s of job %d: %w", setting, jobID, err)
	}
	return nil
}

// Running lists the running jobs in job_id order.
func (r *Registry) Running() ([]contract.JobRow, error) {
	var rows []contract.JobRow
	err := r.db.view(func(tx *bolt.Tx) error {
		jobs, running, _ := registryBuckets(tx)
		return running.ForEach(func(id, _ []byte) error {
			var row contract.JobRow
			found, err := getJSON(jobs, id, &row)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("%w: running job %x has no row", ErrCorrupt, id)
			}
			rows = append(rows, row)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list running jobs: %w", err)
	}
	return rows, nil
}

// History lists every job, newest (highest job_id) first.
func (r *Registry) History() ([]contract.JobRow, error) {
	var rows []contract.JobRow
	err := r.db.view(func(tx *bolt.Tx) error {
		jobs, _, _ := registryBuckets(tx)
		c := jobs.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var row contract.JobRow
			if err := jsonUnmarshal(k, v, &row); err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list job history: %w", err)
	}
	return rows, nil
}

// Settings returns the mirrored settings of one job (empty, not nil, when it has none).
func (r *Registry) Settings(jobID int64) (map[string]string, error) {
	out := map[string]string{}
	err := r.db.view(func(tx *bolt.Tx) error {
		jobs, _, settings := registryBuckets(tx)
		id := u64Key(uint64(jobID))
		if jobs.Get(id) == nil {
			return ErrNotFound
		}
		b := settings.Bucket(id)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = string(v) // string conversion copies out of the tx
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read settings of job %d: %w", jobID, err)
	}
	return out, nil
}

func registryBuckets(tx *bolt.Tx) (jobs, running, settings *bolt.Bucket) {
	return tx.Bucket(bucketJobs), tx.Bucket(bucketJobsRunning), tx.Bucket(bucketJobSettings)
}

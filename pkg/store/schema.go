package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Top-level buckets of schema version 1 (see doc.go for what each holds).
var (
	bucketMeta              = []byte("meta")
	bucketExperiments       = []byte("experiments")
	bucketExperimentsBySeq  = []byte("experiments_by_seq")
	bucketExperimentData    = []byte("experiment_data")
	bucketWorkers           = []byte("workers")
	bucketAssignments       = []byte("assignments")
	bucketAssignmentHistory = []byte("assignment_history")
	bucketJobs              = []byte("jobs")
	bucketJobsRunning       = []byte("jobs_running")
	bucketJobSettings       = []byte("job_settings")
	bucketOutbox            = []byte("outbox") // schema 2
)

// Buckets nested under experiment_data/<exp>/.
var bucketUnitLabels = []byte("unit_labels")

// Keys of the meta bucket.
var (
	keySchemaVersion = []byte("schema_version")
	keyCreatedAt     = []byte("created_at")
)

// migration moves a file from schema version i to i+1, where i is its index in migrations.
type migration struct {
	name  string
	apply func(tx *bolt.Tx) error
}

// migrations is append-only: a released step is never edited, since files in the field
// have already run it. SchemaVersion is its length.
var migrations = []migration{
	{"experiments, workers, assignments, unit labels, job registry", migrateV1},
	{"time series and logs under experiment_data, worker outbox", migrateV2},
}

// SchemaVersion is the schema this binary writes; Open refuses files with a higher one.
func SchemaVersion() int { return len(migrations) }

func migrateV1(tx *bolt.Tx) error {
	for _, name := range [][]byte{
		bucketExperiments, bucketExperimentsBySeq, bucketExperimentData, bucketWorkers,
		bucketAssignments, bucketAssignmentHistory, bucketJobs, bucketJobsRunning,
		bucketJobSettings,
	} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrateV2 adds the worker's outbox. The data tables need no bucket of their own: their
// series are created under experiment_data/<exp>/ on first write (series.go), but a v1
// binary must not open a file that may hold them, hence the version step.
func migrateV2(tx *bolt.Tx) error {
	b, err := tx.CreateBucketIfNotExists(bucketOutbox)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketOutbox, err)
	}
	if _, err := b.CreateBucketIfNotExists(bucketOutboxEntries); err != nil {
		return fmt.Errorf("create bucket %s/%s: %w", bucketOutbox, bucketOutboxEntries, err)
	}
	return nil
}

// migrate applies every step the file has not run yet, in one write transaction, so a
// failing step leaves the file exactly as it was.
func (db *DB) migrate(steps []migration) error {
	return db.update(func(tx *bolt.Tx) error {
		version, err := schemaVersion(tx)
		if err != nil {
			return err
		}
		if version > uint64(len(steps)) {
			return fmt.Errorf("%w: file has version %d, this binary knows up to %d",
				ErrSchemaTooNew, version, len(steps))
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create meta bucket: %w", err)
		}
		if meta.Get(keyCreatedAt) == nil {
			if err := meta.Put(keyCreatedAt, []byte(formatTime(db.now()))); err != nil {
				return fmt.Errorf("write created_at: %w", err)
			}
		}
		for v := version; v < uint64(len(steps)); v++ {
			if err := steps[v].apply(tx); err != nil {
				return fmt.Errorf("migrate schema to version %d (%s): %w", v+1, steps[v].name, err)
			}
		}
		if err := meta.Put(keySchemaVersion, u64Key(uint64(len(steps)))); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
		return nil
	})
}

// schemaVersion reads the file's version: 0 for a new, empty file. A file with buckets but
// no meta bucket belongs to some other program (mochi's bolt hook, say), so it is refused
// rather than filled with ours.
func schemaVersion(tx *bolt.Tx) (uint64, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		foreign := tx.ForEach(func([]byte, *bolt.Bucket) error { return ErrForeign })
		return 0, foreign
	}
	v := meta.Get(keySchemaVersion)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: schema version is %d bytes, want 8", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

package store

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/pioreactor/pioreactord/pkg/clock"
)

// A file written by a schema-1 binary opens under this one: it is migrated in place, keeps
// its rows, and gains the outbox.
func TestMigrateV1File(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := &DB{bolt: b, path: path, clock: clock.Real{}}
	if err := old.migrate(migrations[:1]); err != nil {
		t.Fatal(err)
	}
	if err := old.CreateExperiment(Experiment{Name: "exp1"}); err != nil {
		t.Fatal(err)
	}
	if v := readVersion(t, old); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := readVersion(t, db); v != uint64(SchemaVersion()) {
		t.Errorf("version after Open = %d, want %d", v, SchemaVersion())
	}
	if _, err := db.Experiment("exp1"); err != nil {
		t.Errorf("exp1 lost in the migration: %v", err)
	}
	if _, err := db.Outbox().Append([]OutboxEntry{{Topic: "t"}}, 0); err != nil {
		t.Errorf("outbox after migration: %v", err)
	}
	if _, err := db.Insert([]Row{{Table: Logs, Experiment: "exp1", Unit: "u", Time: minTime.AddDate(50, 0, 0)}}); err != nil {
		t.Errorf("insert after migration: %v", err)
	}
}

package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openInternal(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pioreactor.bolt")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db, path
}

func readVersion(t *testing.T, db *DB) uint64 {
	t.Helper()
	var v uint64
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		v, err = schemaVersion(tx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaTooNewIsRefused(t *testing.T) {
	t.Parallel()
	db, path := openInternal(t)
	err := db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchemaVersion, u64Key(uint64(SchemaVersion()+1)))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path, Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open error = %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	create := func(name string) migration {
		return migration{name, func(tx *bolt.Tx) error {
			_, err := tx.CreateBucket([]byte(name))
			return err
		}}
	}
	failing := migration{"fails", func(*bolt.Tx) error { return errors.New("boom") }}
	cur := uint64(len(migrations))
	tests := []struct {
		name        string
		steps       []migration
		wantErr     bool
		wantVersion uint64
		wantBuckets map[string]bool
	}{
		{"none pending", migrations, false, cur, map[string]bool{"x": false, "outbox": true}},
		{"two in order", append(migrations[:cur:cur], create("x"), create("y")), false, cur + 2,
			map[string]bool{"x": true, "y": true}},
		{"failure rolls back all", append(migrations[:cur:cur], create("x"), failing), true, cur,
			map[string]bool{"x": false}},
		{"older binary", nil, true, cur, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, _ := openInternal(t)
			defer db.Close()
			err := db.migrate(tt.steps)
			if (err != nil) != tt.wantErr {
				t.Fatalf("migrate error = %v, wantErr %t", err, tt.wantErr)
			}
			if v := readVersion(t, db); v != tt.wantVersion {
				t.Errorf("version = %d, want %d", v, tt.wantVersion)
			}
			_ = db.view(func(tx *bolt.Tx) error {
				for name, want := range tt.wantBuckets {
					if got := tx.Bucket([]byte(name)) != nil; got != want {
						t.Errorf("bucket %s exists = %t, want %t", name, got, want)
					}
				}
				return nil
			})
		})
	}
}

package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "pioreactor.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, "exp1")
	mustInsert(t, db, golden())
	backup := filepath.Join(dir, "backups", "pioreactor.db.backup")
	n, err := db.BackupFile(backup)
	if err != nil || n == 0 {
		t.Fatalf("BackupFile = %d, %v", n, err)
	}
	// changes after the backup are not in it
	mustCreate(t, db, "exp2")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if err := store.Restore(backup, path); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Experiment("exp1"); err != nil {
		t.Errorf("exp1 after restore: %v", err)
	}
	if _, err := db.Experiment("exp2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("exp2 after restore: %v, want ErrNotFound", err)
	}
	if n, _ := db.Count(store.Query{Table: store.Logs}); n != 1 {
		t.Errorf("%d log rows after restore, want 1", n)
	}
	if _, err := os.Stat(path + ".pre-restore"); err != nil {
		t.Errorf("the replaced file was not kept: %v", err)
	}
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "pioreactor.db")
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, make([]byte, 1<<14), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("current"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{garbage, filepath.Join(dir, "missing")} {
		if err := store.Restore(from, path); err == nil {
			t.Errorf("Restore(%s) succeeded", from)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "current" {
		t.Error("a refused restore touched the current file")
	}
}

package store_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestOpenCreatesParentDirs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "pioreactor.bolt")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("file not created: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pioreactor.bolt")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, "exp1")
	mustWorkers(t, db, "unit1")
	mustAssign(t, db, "unit1", "exp1", at(5))
	if err := db.SetUnitLabel("exp1", "unit1", "Reactor 1"); err != nil {
		t.Fatal(err)
	}
	reg := db.Registry()
	id, err := reg.Add(contract.JobRow{JobName: "stirring"})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.PutSetting(id, "target_rpm", "500.0"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if e, err := db.Experiment("exp1"); err != nil || !e.CreatedAt.Equal(at(0)) {
		t.Errorf("Experiment after reopen = %+v, %v", e, err)
	}
	if a, err := db.AssignmentOf("unit1"); err != nil || a.Experiment != "exp1" || !a.AssignedAt.Equal(at(5)) {
		t.Errorf("AssignmentOf after reopen = %+v, %v", a, err)
	}
	if l, _ := db.UnitLabels("exp1"); l["unit1"] != "Reactor 1" {
		t.Errorf("UnitLabels after reopen = %v", l)
	}
	reg = db.Registry()
	if s, err := reg.Settings(id); err != nil || s["target_rpm"] != "500.0" {
		t.Errorf("Settings after reopen = %v, %v", s, err)
	}
	next, err := reg.Add(contract.JobRow{JobName: "od_reading"})
	if err != nil || next != id+1 {
		t.Errorf("job_id after reopen = %d, %v; want %d (ids are never reused)", next, err, id+1)
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"short text", []byte("hello, this is not a database\n"), store.ErrCorrupt},
		{"random bytes", random, store.ErrCorrupt},
		{"zero pages", make([]byte, 16<<10), store.ErrCorrupt},
		{"sqlite header", append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{1}, 8<<10)...), store.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.bolt")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(path, store.Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded on a bad file")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open error = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

// TestOpenRefusesDamagedPages keeps bbolt's two valid meta pages and ruins what they point
// at: the case where bbolt itself panics rather than returning an error.
func TestOpenRefusesDamagedPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		damage func(data []byte) []byte
	}{
		{"pages overwritten", func(data []byte) []byte {
			rng := rand.New(rand.NewPCG(3, 4))
			for i := 2 * os.Getpagesize(); i < len(data); i++ {
				data[i] = byte(rng.UintN(256))
			}
			return data
		}},
		{"pages zeroed", func(data []byte) []byte {
			clear(data[2*os.Getpagesize():])
			return data
		}},
		{"truncated", func(data []byte) []byte { return data[:3*os.Getpagesize()] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "pioreactor.bolt")
			db, err := store.Open(path, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			mustWorkers(t, db, "unit1", "unit2", "unit3")
			mustCreate(t, db, "exp1", "exp2")
			db.Close()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			db, err = store.Open(path, store.Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded on a damaged file")
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Errorf("Open error = %v, want ErrCorrupt", err)
			}
			t.Log(err)
		})
	}
}

func TestOpenRefusesForeignBolt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mochi.bolt")
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("sessions"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if db, err := store.Open(path, store.Options{}); !errors.Is(err, store.ErrForeign) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open of a foreign bbolt file: %v, want ErrForeign", err)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pioreactor.bolt")
	first, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.Open(path, store.Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open error = %v, want ErrLocked", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := store.Open(path, store.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	third.Close()
}

func TestSchemaVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "pioreactor.bolt")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte("meta")).Get([]byte("schema_version"))
		if want := []byte{0, 0, 0, 0, 0, 0, 0, byte(store.SchemaVersion())}; !slices.Equal(v, want) {
			t.Errorf("schema_version = %x, want %x", v, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

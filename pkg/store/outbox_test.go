package store_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/store"
)

func TestOutbox(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "outbox.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob := db.Outbox()
	entry := func(i int) store.OutboxEntry {
		return store.OutboxEntry{Topic: fmt.Sprintf("pioreactor/u/e/job/a%d", i), Payload: []byte{byte(i), 0, 1}, At: at(i)}
	}
	var batch []store.OutboxEntry
	for i := range 5 {
		batch = append(batch, entry(i))
	}
	if dropped, err := ob.Append(batch, 10); err != nil || dropped != 0 {
		t.Fatalf("Append = %d, %v", dropped, err)
	}
	if dropped, err := ob.Append([]store.OutboxEntry{entry(5), entry(6), entry(7)}, 6); err != nil || dropped != 2 {
		t.Fatalf("Append over the bound = %d dropped, %v; want 2", dropped, err)
	}
	if n, err := ob.Len(); err != nil || n != 6 {
		t.Fatalf("Len = %d, %v; want 6", n, err)
	}
	// survives a restart
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = store.Open(path, store.Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ob = db.Outbox()
	got, err := ob.Oldest(3)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		want := entry(i + 2) // 0 and 1 were dropped, oldest first
		if e.Topic != want.Topic || !bytes.Equal(e.Payload, want.Payload) || !e.At.Equal(want.At) {
			t.Errorf("entry %d = %+v, want %+v", i, e, want)
		}
	}
	if err := ob.Delete([]uint64{got[0].ID, got[1].ID, 9999}); err != nil {
		t.Fatal(err)
	}
	rest, _ := ob.Oldest(100)
	if len(rest) != 4 || rest[0].ID != got[2].ID {
		t.Errorf("after Delete: %d entries starting at %d, want 4 starting at %d", len(rest), rest[0].ID, got[2].ID)
	}
	if n, _ := ob.Len(); n != 4 {
		t.Errorf("Len = %d, want 4", n)
	}
}

package store

import (
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Space describes how the file's bytes are used, in the terms of the reference's
// delete-experiment answer (docs/http.md, "Experiments"): bbolt never shrinks a file, and freed pages
// are reused before the file grows.
type Space struct {
	PageSize            int     `json:"page_size"`
	PageCount           int64   `json:"page_count"`     // pages up to the high-water mark
	FreelistCount       int64   `json:"freelist_count"` // free pages below it
	AllocatedBytes      int64   `json:"allocated_bytes"`
	ReclaimableBytes    int64   `json:"reclaimable_bytes"`
	ReclaimableFraction float64 `json:"reclaimable_fraction"`
	// FileBytes is the size of the file, which bbolt grows in large steps ahead of use.
	FileBytes int64 `json:"file_bytes"`
}

// Space reports the file's page usage.
func (db *DB) Space() (Space, error) {
	var s Space
	err := db.view(func(tx *bolt.Tx) error {
		s.PageSize = tx.DB().Info().PageSize
		s.AllocatedBytes = tx.Size()
		return nil
	})
	if err != nil {
		return Space{}, fmt.Errorf("space of %s: %w", db.path, err)
	}
	st := db.bolt.Stats()
	s.PageCount = s.AllocatedBytes / int64(s.PageSize)
	s.FreelistCount = int64(st.FreePageN + st.PendingPageN)
	s.ReclaimableBytes = s.FreelistCount * int64(s.PageSize)
	if s.AllocatedBytes > 0 {
		s.ReclaimableFraction = float64(s.ReclaimableBytes) / float64(s.AllocatedBytes)
	}
	if fi, err := os.Stat(db.path); err == nil {
		s.FileBytes = fi.Size()
	}
	return s, nil
}

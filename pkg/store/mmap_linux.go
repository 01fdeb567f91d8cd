package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped tells the kernel this process no longer needs the file pages it has
// read through bbolt's memory map (MADV_DONTNEED). bbolt only reads through the map
// (writes go through the file), so the pages stay in the page cache and the next read
// of one just maps it again; what goes is their count in this process's resident set,
// which a long scan (an export of millions of rows) would otherwise grow to the size of
// the file. It must run inside a transaction: that holds off a remap, so the mapping
// cannot move under the call.
func releaseMapped(tx *bolt.Tx) {
	info := tx.DB().Info()
	if info == nil || info.Data == 0 || tx.Size() <= 0 {
		return
	}
	// Advice only: a failure costs memory, never data.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, info.Data, uintptr(tx.Size()), syscall.MADV_DONTNEED)
}

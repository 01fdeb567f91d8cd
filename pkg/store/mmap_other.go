//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releaseMapped does nothing where MADV_DONTNEED is not available through syscall.
func releaseMapped(*bolt.Tx) {}

package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// u64Key encodes n big-endian so that bbolt's bytewise key order is numeric order.
func u64Key(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// putJSON stores v as compact JSON under key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

// getJSON decodes the value at key into v; found is false when the key is absent.
// Decoding copies, so v never aliases transaction memory.
func getJSON(b *bolt.Bucket, key []byte, v any) (found bool, err error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// jsonUnmarshal decodes a value met while iterating, naming its key on failure.
func jsonUnmarshal(k, v []byte, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("decode %q: %w", k, err)
	}
	return nil
}

// deleteBucketIfExists drops a nested bucket; absence is fine (nothing to cascade).
func deleteBucketIfExists(parent *bolt.Bucket, name []byte) error {
	if parent.Bucket(name) == nil {
		return nil
	}
	return parent.DeleteBucket(name)
}

// formatTime is the stored text form of a time: the contract's UTC millisecond form, so
// rows read back exactly as the reference stored them. The zero time is stored as "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return contract.FormatTime(t)
}

// parseTime reads formatTime's output (and older RFC 3339 text); "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return contract.ParseTime(s)
}

// orNow returns t in the stored precision, or the store's clock when t is zero.
func (db *DB) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return db.now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

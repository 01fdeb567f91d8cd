package pubsub

import (
	"strings"
	"testing"
)

func TestClientSuffix(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		s := ClientSuffix()
		if len(s) != suffixLen || strings.ToLower(s) != s || seen[s] {
			t.Fatalf("suffix %q: want %d fresh lowercase characters", s, suffixLen)
		}
		seen[s] = true
	}
	id := "leader-api-leader-" + ClientSuffix()
	if got := logID(id); got != id[:len(id)-suffixLen+4]+"…" {
		t.Errorf("logID(%q) = %q: the suffix must be cut", id, got)
	}
	if got := logID("observer"); got != "observer" {
		t.Errorf("logID(observer) = %q", got)
	}
}

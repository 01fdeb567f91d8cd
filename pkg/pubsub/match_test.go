package pubsub

import "testing"

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"a/+", "a/b", true},
		{"a/+", "a/", true}, // + matches an empty level
		{"a/+", "a", false},
		{"a/+", "a/b/c", false},
		{"+/+", "/finance", true},
		{"/+", "/finance", true},
		{"+", "/finance", false},
		{"a/+/c", "a/b/c", true},
		{"a/+/c", "a/b/d", false},
		{"#", "a", true},
		{"#", "a/b/c", true},
		{"#", "/", true},
		{"a/#", "a", true}, // # includes the parent level
		{"a/#", "a/", true},
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"a/#", "b/a", false},
		{"a/b/#", "a", false},
		{"+/#", "a", true},
		{"pioreactor/+/+/stirring/$state", "pioreactor/u1/exp/stirring/$state", true},
		{"pioreactor/+/+/stirring/$state", "pioreactor/u1/exp/od/$state", false},
		// $-topics are not matched by a leading wildcard.
		{"#", "$SYS/broker/uptime", false},
		{"+/broker/uptime", "$SYS/broker/uptime", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
		{"$SYS/+/uptime", "$SYS/broker/uptime", true},
		{"a/#", "a/$x", true}, // only the first level is special
		// Malformed filters and topics match nothing.
		{"", "a", false},
		{"a", "", false},
		{"a/#/b", "a/x/b", false},
		{"a#", "a", false},
		{"a/b#", "a/b", false},
		{"a+/b", "a+/b", false},
		{"a/+b", "a/+b", false},
		{"a/+", "a/+", false}, // a topic cannot hold wildcards
		{"#", "a/#", false},
		{"a\x00", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.filter+"|"+tt.topic, func(t *testing.T) {
			t.Parallel()
			if got := Match(tt.filter, tt.topic); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	for b.Loop() {
		Match("pioreactor/+/+/stirring/#", "pioreactor/unit1/exp1/stirring/target_rpm/set")
	}
}

func BenchmarkMatchValid(b *testing.B) {
	for b.Loop() {
		match("pioreactor/+/+/stirring/#", "pioreactor/unit1/exp1/stirring/target_rpm/set")
	}
}

package main

import (
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr bool
		check   func(options) bool
	}{
		{"sim binds loopback", []string{"--sim"}, false, func(o options) bool {
			return o.role == "both" && o.httpAddr == "127.0.0.1:4999" && o.mqttAddr == "127.0.0.1:1883" && o.wsAddr == "127.0.0.1:9001" && o.units == 3
		}},
		{"worker role", []string{"--sim", "--role", "worker", "--unit", "pio09", "--broker", "127.0.0.1:1883"}, false, func(o options) bool {
			return o.role == "worker" && o.unit == "pio09" && !o.leader()
		}},
		{"bad role", []string{"--sim", "--role", "boss"}, true, nil},
		{"no hardware layer yet", []string{"--role", "worker"}, true, nil},
		{"speed needs sim", []string{"--role", "leader", "--speed", "10"}, true, nil},
		{"negative speed", []string{"--sim", "--speed", "-1"}, true, nil},
		{"stray argument", []string{"--sim", "extra"}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(o) {
				t.Fatalf("options %+v", o)
			}
		})
	}
}

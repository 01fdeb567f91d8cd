package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestMQTT(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, shared string
		want         MQTTConfig
		wantErr      string
	}{
		{"fallbacks", "", MQTTConfig{"pioreactor", "raspberry", "10.0.0.1", 1883, 9001, false, ""}, ""},
		{"first of a list", "[mqtt]\nusername=u\npassword=p\nbroker_address= a.local ;10.0.0.2\nbroker_port=1884\nbroker_ws_port=9002\nuse_tls=on\ntls_ca_file= /etc/ca.pem \n",
			MQTTConfig{"u", "p", "a.local", 1884, 9002, true, "/etc/ca.pem"}, ""},
		{"empty address stays empty", "[mqtt]\nbroker_address=\n", MQTTConfig{"pioreactor", "raspberry", "", 1883, 9001, false, ""}, ""},
		{"bad port", "[mqtt]\nbroker_port=eighteen\n", MQTTConfig{}, "[mqtt] parameter broker_port"},
		{"bad tls", "[mqtt]\nuse_tls=2\n", MQTTConfig{}, "[mqtt] parameter use_tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := mustParse(t, tc.shared, "").MQTT()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("MQTT() = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "[cluster.addresses]\npio02=192.168.1.12\n", "")
	for unit, want := range map[string]string{
		"pio02":       "192.168.1.12",
		"pio03":       "pio03.local",
		"leader":      "10.0.0.1", // derived entry
		"localhost":   "localhost",
		"192.168.1.7": "192.168.1.7",
		"fe80::1":     "fe80::1",
	} {
		if got := c.UnitAddress(unit); got != want {
			t.Errorf("UnitAddress(%s) = %q, want %q", unit, got, want)
		}
	}
	if c.LeaderHostname() != "leader" || c.LeaderAddress() != "10.0.0.1" {
		t.Errorf("leader = %q at %q", c.LeaderHostname(), c.LeaderAddress())
	}
	d := LoadDefault()
	if d.LeaderHostname() != "localhost" || d.LeaderAddress() != "localhost" {
		t.Errorf("empty topology must fall back to localhost: %q %q", d.LeaderHostname(), d.LeaderAddress())
	}
}

func TestPhotodiodeChannels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, section string
		want          map[string]string
		wantErr       string
	}{
		{"template", "1=REF\n2=90\n3=\n4=\n", map[string]string{"1": "REF", "2": "90"}, ""},
		{"no REF", "1=45\n2=135\n", map[string]string{"1": "45", "2": "135"}, ""},
		{"bad angle", "1=REF\n2=100\n", nil, "angle='100' is not a valid angle"},
		{"lower-case ref", "1=ref\n2=90\n", nil, "angle='ref' is not a valid angle"},
		{"two REFs", "1=REF\n2=REF\n3=90\n", nil, "only one channel can be REF"},
		{"no angle", "1=REF\n2=\n", nil, "at least one channel must have an angle"},
		{"all empty", "1=\n", nil, "at least one channel must have an angle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := mustParse(t, "[od_config.photodiode_channel]\n"+tc.section, "").PhotodiodeChannels()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("= %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

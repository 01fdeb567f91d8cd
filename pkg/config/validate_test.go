package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

const goodShared = "[cluster.topology]\nleader_hostname=leader\nleader_address=leader.local\n[mqtt]\nbroker_address=leader.local\n"

func TestValidateShared(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		msg        string // expected ValidationError.Msg ("" = valid)
		line       int
	}{
		{"valid", goodShared, "", 0},
		{"dashes normalised", goodShared + "[x]\nk=a\u2013b\u2014c\n", "", 0},
		{"duplicate section", goodShared + "[x]\na=1\n[x]\nb=2\n", "Duplicate section [x] was found. Please fix and try again.", 8},
		{"duplicate DEFAULT", "[DEFAULT]\na=1\n[DEFAULT]\n" + goodShared, "Duplicate section [DEFAULT] was found. Please fix and try again.", 3},
		{"duplicate key", goodShared + "[x]\na=1\nb=2\na=3\n", "Duplicate option, `a`, was found in section [x]. Please fix and try again.", 9},
		{"duplicate key, same value", goodShared + "[x]\na=1\na=1\n", "Duplicate option, `a`, was found in section [x]. Please fix and try again.", 8},
		{"duplicate key, later empty", goodShared + "[x]\na=1\na=\n", "Duplicate option, `a`, was found in section [x]. Please fix and try again.", 8},
		{"duplicate key, first empty", goodShared + "[x]\na=\na=1\n", "Duplicate option, `a`, was found in section [x]. Please fix and try again.", 8},
		{"keys differ in case", goodShared + "[x]\nKp=1\nkp=2\n", "", 0},
		{"unclosed section", goodShared + "\n[x\n", "Incorrect syntax. Please fix and try again.", 7},
		{"key outside a section", "k=v\n" + goodShared, "Incorrect syntax. Please fix and try again.", 1},
		{"missing topology", "[mqtt]\n", "Missing required field(s): [cluster.topology] leader_hostname, [cluster.topology] leader_address", 0},
		{"empty leader", strings.Replace(goodShared, "leader_hostname=leader", "leader_hostname=", 1), "Missing required field(s): [cluster.topology] leader_hostname", 0},
		{"missing mqtt", "[cluster.topology]\nleader_hostname=a\nleader_address=b\n", "Missing required field(s): [mqtt]", 0},
		{"http leader", strings.Replace(goodShared, "leader_address=leader.local", "leader_address=http://leader.local", 1), "Don't start addresses with http:// or https://", 0},
		{"https broker", strings.Replace(goodShared, "broker_address=leader.local", "broker_address=https://x", 1), "Don't start addresses with http:// or https://", 0},
		// What the daemon or a job would refuse at start is refused on save, at its line.
		{"broker_port not an int", strings.Replace(goodShared, "[mqtt]\n", "[mqtt]\nbroker_port=abc\n", 1), "Invalid value for [mqtt] broker_port", 5},
		{"broker_port a float", strings.Replace(goodShared, "[mqtt]\n", "[mqtt]\nbroker_port = 1883.5\n", 1), "Invalid value for [mqtt] broker_port", 5},
		{"use_tls not a bool", goodShared + "use_tls=maybe\n", "Invalid value for [mqtt] use_tls", 6},
		{"samples_per_second banana", goodShared + "[od_reading.config]\nsamples_per_second=banana\n", "Invalid value for [od_reading.config] samples_per_second", 7},
		{"samples_per_second zero", goodShared + "[od_reading.config]\nsamples_per_second=0\n", "Invalid value for [od_reading.config] samples_per_second", 7},
		{"samples_for_od_statistics a float", goodShared + "[growth_rate_calculating.config]\nsamples_for_od_statistics=2.5\n", "Invalid value for [growth_rate_calculating.config] samples_for_od_statistics", 7},
		{"typed values fine", goodShared + "use_tls=on\nbroker_port= 1884 \n[od_reading.config]\nsamples_per_second=0.5\nir_led_intensity=auto\n", "", 0},
		// The listener keys as the daemon reads them at start: ranges, blanks, TLS pairs.
		{"max_packet_size too small", goodShared + "max_packet_size=100\n", "Invalid value for [mqtt] max_packet_size", 6},
		{"max_packet_size above the protocol", goodShared + "max_packet_size=268435456\n", "Invalid value for [mqtt] max_packet_size", 6},
		{"max_packet_size zero", goodShared + "max_packet_size=0\n", "Invalid value for [mqtt] max_packet_size", 6},
		{"max_packet_size words", goodShared + "max_packet_size=1MB\n", "Invalid value for [mqtt] max_packet_size", 6},
		{"max_packet_size bounds", goodShared + "max_packet_size=1024\n", "", 0},
		{"max_packet_size largest", goodShared + "max_packet_size=268435455\n", "", 0},
		{"max_packet_size blank is the default", goodShared + "max_packet_size= \n", "", 0},
		{"ui port not an int", goodShared + "[ui]\nport=eighty\n", "Invalid value for [ui] port", 7},
		{"ui port out of range", goodShared + "[ui]\nport=70000\n", "Invalid value for [ui] port", 7},
		{"ui port blank is the default", goodShared + "[ui]\nport=\n", "", 0},
		{"broker_port out of range", goodShared + "broker_port=-1\n", "Invalid value for [mqtt] broker_port", 6},
		{"broker_ws_port out of range", goodShared + "broker_ws_port=65536\n", "Invalid value for [mqtt] broker_ws_port", 6},
		{"broker_ws_port blank", goodShared + "broker_ws_port=\n", "Invalid value for [mqtt] broker_ws_port", 6},
		{"mqtt cert without key", goodShared + "tls_cert_file=/a.crt\ntls_key_file= \n", "Invalid value for [mqtt] tls_cert_file", 6},
		{"ui key without cert", goodShared + "[ui]\ntls_key_file=/a.key\n", "Invalid value for [ui] tls_key_file", 7},
		{"tls pair", goodShared + "tls_cert_file=/a.crt\ntls_key_file=/a.key\n[ui]\ntls_cert_file=/a.crt\ntls_key_file=/a.key\n", "", 0},
		{"photodiode channel", goodShared + "[od_config.photodiode_channel]\n1=91\n", "Invalid value for [od_config.photodiode_channel]", 6},
		// Lines without '=' and repeated sections ini.v1 would merge are refused at their line.
		{"line without =", goodShared + "[x]\njunk line here\nb=2\n", "Incorrect syntax. Please fix and try again.", 7},
		{"bare word last", goodShared + "[x]\nb=2\njunk\n", "Incorrect syntax. Please fix and try again.", 8},
		{"colon is a delimiter", goodShared + "[x]\nb: 2\n", "", 0},
		{"continuation is not a bare key", goodShared + "[x]\nb=2\n  more\n", "", 0},
		{"duplicate section, spaced", goodShared + "[x]\na=1\n[ x ]\nb=2\n", "Duplicate section [x] was found. Please fix and try again.", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateShared([]byte(tc.text))
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %v", err)
			}
			if ve.Msg != tc.msg || ve.Line != tc.line {
				t.Fatalf("got %q at line %d, want %q at line %d", ve.Msg, ve.Line, tc.msg, tc.line)
			}
		})
	}
}

func TestValidateInterpolation(t *testing.T) {
	t.Parallel()
	err := ValidateShared([]byte(goodShared + "[x]\nok=100%%\nbad=100%\n"))
	if err == nil || !strings.Contains(err.Error(), "[x] bad") {
		t.Fatalf("lone %% must be refused naming the key, got %v", err)
	}
}

func TestValidateUnit(t *testing.T) {
	t.Parallel()
	shared := []byte(goodShared)
	for _, tc := range []struct {
		name, unit, want string // want: substring of the error ("" = valid)
	}{
		{"empty", "", ""},
		{"override", "[cluster.topology]\nleader_address=127.0.0.1\n[mqtt]\nbroker_address=127.0.0.1\n", ""},
		{"duplicate key", "[x]\na=1\na=2\n", "Duplicate option, `a`, was found in section [x]"},
		{"syntax", "[x]\n=1\n", "Incorrect syntax"},
		{"bad interpolation after merge", "[x]\na=%(missing)s\n", "[x] a"},
		{"broker_port", "[x]\na=1\n[mqtt]\nbroker_port=abc\n", "Invalid value for [mqtt] broker_port (line 4"},
		{"samples_per_second", "[od_reading.config]\nsamples_per_second=banana\n", "(line 2: error in [od_reading.config] parameter samples_per_second"},
		{"bare word", "[x]\na\n", "Incorrect syntax. Please fix and try again. (line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateUnit([]byte(tc.unit), shared)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if err := ValidateUnit(nil, []byte("[a]\n")); err == nil || !strings.Contains(err.Error(), "Missing required field(s)") {
		t.Fatalf("a merge without topology must fail: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	if got := string(Normalize([]byte("a\u2013b\u2014c-d"))); got != "a-b-c-d" {
		t.Fatalf("Normalize = %q", got)
	}
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	deployed, err := os.ReadFile("../../deploy/config.ini")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(deployed, defaultINI) {
		t.Fatal("deploy/config.ini differs from pkg/config/default_config.ini: copy the canonical file over")
	}
	c := LoadDefault()
	if len(c.Problems()) != 0 {
		t.Fatalf("template values do not interpolate: %v", c.Problems())
	}
	// The template as shipped is not yet provisioned, so it cannot pass the editor's
	// validation; once provisioned it must.
	provisioned := bytes.Replace(defaultINI, []byte("leader_hostname=\n"), []byte("leader_hostname=leader\n"), 1)
	provisioned = bytes.Replace(provisioned, []byte("leader_address=\n"), []byte("leader_address=leader.local\n"), 1)
	if err := ValidateShared(provisioned); err != nil {
		t.Fatalf("provisioned template fails strict validation: %v", err)
	}
	// Template values of docs/config.md, "Keys the daemon reads" for what the daemon reads first.
	for _, tc := range []struct{ sec, key, want string }{
		{"PWM", "1", "stirring"}, {"PWM", "2", "media"}, {"PWM", "3", "alt_media"}, {"PWM", "4", "waste"}, {"PWM", "5", "heating"},
		{"leds", "A", "IR"}, {"leds", "B", ""}, {"leds", "C", ""}, {"leds", "D", ""},
		{"stirring.config", "initial_target_rpm", "500"},
		{"stirring.config", "initial_duty_cycle", "30"},
		{"stirring.config", "pwm_hz", "200"},
		{"stirring.config", "use_rpm", "1"},
		{"stirring.config", "duration_between_updates_seconds", "23"},
		{"stirring.config", "enable_dodging_od", "False"},
		{"stirring.config", "pre_delay_duration", "1.5"},
		{"stirring.config", "post_delay_duration", "0.25"},
		{"stirring.config", "target_rpm_during_od_reading", "0"},
		{"stirring.config", "target_rpm_outside_od_reading", "500"},
		{"stirring.pid", "Kp", "0.005"}, {"stirring.pid", "Ki", "0.0"}, {"stirring.pid", "Kd", "0.0"},
		{"od_reading.config", "samples_per_second", "0.2"},
		{"od_reading.config", "ir_led_intensity", "80"},
		{"od_reading.config", "pd_reference_ema", "0.75"},
		{"od_reading.config", "smoothing_penalizer", "3.0"},
		{"od_reading.config", "turn_off_leds_during_reading", "1"},
		{"od_reading.config", "duration_between_led_off_and_od_reading", "0.125"},
		{"od_reading.config", "use_dark_offsets", "True"},
		{"od_reading.config", "ref_normalization", "unity"},
		{"mqtt", "username", "pioreactor"}, {"mqtt", "password", "raspberry"},
		{"mqtt", "broker_address", ""}, {"mqtt", "broker_port", "1883"},
		{"mqtt", "broker_ws_port", "9001"}, {"mqtt", "ws_protocol", "ws"}, {"mqtt", "use_tls", "0"},
		{"cluster.topology", "leader_hostname", ""}, {"cluster.topology", "leader_address", ""},
		{"ui", "port", "80"}, {"ui", "proto", "http"},
	} {
		if got, err := c.Get(tc.sec, tc.key); err != nil || got != tc.want {
			t.Errorf("[%s] %s = %q, %v; want %q", tc.sec, tc.key, got, err, tc.want)
		}
	}
	if c.Has("od_reading.config", "local_ac_hz") {
		t.Error("local_ac_hz is unset in the template")
	}
	for _, sec := range []string{"growth_rate_calculating.config", "temperature_automation.thermostat",
		"dosing_automation.config", "dosing_automation.pid_morbidostat", "dosing_automation.turbidostat",
		"bioreactor", "monitor.config", "storage", "logging", "cluster.addresses",
		"ui.overview.settings", "ui.overview.charts", "ui.overview.cards"} {
		if !c.HasSection(sec) {
			t.Errorf("template lacks [%s]", sec)
		}
	}
	if pd, err := c.PhotodiodeChannels(); err != nil || len(pd) != 2 {
		t.Errorf("template photodiodes = %v, %v", pd, err)
	}
	if m, err := c.MQTT(); err != nil || m.Port != 1883 || m.UseTLS {
		t.Errorf("template MQTT = %+v, %v", m, err)
	}
}

// TestValidateTemplate: the shipped template passes the start-time checks, and every key
// they read exists in it, so a misspelt entry in typedKeys cannot check nothing.
func TestValidateTemplate(t *testing.T) {
	t.Parallel()
	c := LoadDefault()
	if err := c.Validate(); err != nil {
		t.Fatalf("template: %v", err)
	}
	for _, k := range typedKeys {
		if k.key == "embedded_broker" { // not in the template: on by default
			continue
		}
		if !c.Has(k.section, k.key) {
			t.Errorf("[%s] %s is checked but not in the template", k.section, k.key)
		}
	}
	bad := c.With([][3]string{{"mqtt", "broker_port", "abc"}, {"od_reading.config", "samples_per_second", "banana"}})
	err := bad.Validate()
	for _, want := range []string{"[mqtt] broker_port", "[od_reading.config] samples_per_second"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to name %s", err, want)
		}
	}
}

// ValidateEach names the section and key of every refused value, interpolation problems
// included, and finds the line that sets it.
func TestValidateEach(t *testing.T) {
	t.Parallel()
	text := goodShared + "broker_port=abc\n[x]\nbad=100%\n"
	c, err := Parse([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.ValidateEach() {
		got = append(got, fmt.Sprintf("[%s] %s line %d", p.Section, p.Key, p.Line([]byte(text))))
	}
	want := []string{"[x] bad line 8", "[mqtt] broker_port line 6"}
	if !slices.Equal(got, want) {
		t.Errorf("ValidateEach = %q, want %q", got, want)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "[x] bad") || !strings.Contains(err.Error(), "broker_port") {
		t.Errorf("Validate = %v, want both problems", err)
	}
}

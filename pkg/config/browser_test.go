package config

import (
	"strings"
	"testing"
)

func TestForBrowser(t *testing.T) {
	t.Parallel()
	b := Browser{PageHost: "pio.local", WSPort: 9123, WSProtocol: "ws"}
	for _, c := range []struct {
		name, in string
		want     []string // lines the served [mqtt] must hold
	}{
		{"empty address", "[mqtt]\n# where\nbroker_address=\nbroker_ws_port=9001\n", []string{"# where", "broker_address=pio.local", "broker_ws_port=9123", "ws_protocol=ws"}},
		{"loopback address", "[mqtt]\nbroker_address=localhost\n", []string{"broker_address=pio.local", "broker_ws_port=9123"}},
		{"loopback among others", "[mqtt]\nbroker_address = 127.0.0.1;10.0.0.5\n", []string{"broker_address=pio.local;10.0.0.5"}},
		{"real address kept", "[mqtt]\nbroker_address=10.0.0.5\nws_protocol=wss\n", []string{"broker_address=10.0.0.5", "ws_protocol=ws"}},
		{"no mqtt section", "[cluster.topology]\nleader_hostname=x\n", []string{"[mqtt]", "broker_address=pio.local", "broker_ws_port=9123"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := string(ForBrowser([]byte(c.in), b))
			lines := strings.Split(got, "\n")
			for _, w := range c.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("no line %q in\n%s", w, got)
				}
			}
			if strings.Count(got, "broker_ws_port") != 1 {
				t.Errorf("broker_ws_port not exactly once:\n%s", got)
			}
			for _, sec := range []string{"[ui.overview.charts]", "[ui.overview.settings]"} {
				if !strings.Contains(got, sec) {
					t.Errorf("no %s added:\n%s", sec, got)
				}
			}
			if _, err := Parse([]byte(topo+got), nil); err != nil {
				t.Errorf("served text does not parse: %v", err)
			}
		})
	}
}

func TestForBrowserTemplate(t *testing.T) {
	t.Parallel()
	got := ForBrowser(Template(), Browser{PageHost: "10.1.2.3", WSPort: 9001})
	c, err := Parse(got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := c.String(SecMQTT, "broker_address", ""); h != "10.1.2.3" {
		t.Errorf("template served with broker_address %q", h)
	}
	if c.String("ui.overview.charts", "optical_density", "") != "1" {
		t.Errorf("template's charts are not on")
	}
}

func TestPageHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"pio.local:4999": "pio.local", "10.0.0.1": "10.0.0.1", "[::1]:80": "::1"} {
		if got := PageHost(in); got != want {
			t.Errorf("PageHost(%q) = %q, want %q", in, got, want)
		}
	}
}

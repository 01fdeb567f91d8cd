package config

import (
	"bytes"
	"net"
	"strconv"
	"strings"
)

// Browser is where a dashboard must connect for MQTT over WebSocket, as the daemon that
// serves the page knows it: the config file may say otherwise (an empty or loopback
// broker_address, a port a --ws flag replaced).
type Browser struct {
	// PageHost is the host the page was loaded from (the request's Host, port removed).
	PageHost string
	// WSPort is the port the WebSocket listener really has; 0 keeps the file's.
	WSPort int
	// WSProtocol is "ws" or "wss"; "" keeps the file's.
	WSProtocol string
}

// ForBrowser rewrites a shared config text for a browser: in [mqtt], broker_address entries
// that are empty or a loopback name become PageHost, broker_ws_port and ws_protocol become
// the listener's; the dashboard sections ([ui.overview.charts], [ui.overview.settings]) the
// text lacks are added from the template. Comments and the other lines are kept as they
// are, so the text still reads as the file it was.
func ForBrowser(text []byte, b Browser) []byte {
	lines := strings.Split(string(text), "\n")
	want := map[string]string{}
	if b.WSPort > 0 {
		want["broker_ws_port"] = strconv.Itoa(b.WSPort)
	}
	if b.WSProtocol != "" {
		want["ws_protocol"] = b.WSProtocol
	}
	var out []string
	inMQTT, sawMQTT := false, false
	seen := map[string]bool{}
	flush := func() { // the [mqtt] keys the file lacks, at the end of its section
		if !inMQTT {
			return
		}
		for _, k := range []string{"broker_address", "broker_ws_port", "ws_protocol"} {
			if seen[k] {
				continue
			}
			switch {
			case k == "broker_address" && b.PageHost != "":
				out = append(out, k+"="+b.PageHost)
			case want[k] != "":
				out = append(out, k+"="+want[k])
			}
		}
		inMQTT = false
	}
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") && strings.HasSuffix(trimmed, "]") {
			flush()
			inMQTT = strings.TrimSpace(trimmed[1:len(trimmed)-1]) == SecMQTT
			sawMQTT = sawMQTT || inMQTT
			out = append(out, line)
			continue
		}
		if !inMQTT {
			out = append(out, line)
			continue
		}
		k, v, ok := splitKey(trimmed)
		if !ok {
			out = append(out, line)
			continue
		}
		seen[k] = true
		switch {
		case k == "broker_address":
			out = append(out, k+"="+browserHosts(v, b.PageHost))
		case want[k] != "":
			out = append(out, k+"="+want[k])
		default:
			out = append(out, line)
		}
	}
	flush()
	if !sawMQTT {
		out = append(out, "", "["+SecMQTT+"]")
		inMQTT = true
		flush()
	}
	res := []byte(strings.Join(out, "\n"))
	for _, sec := range []string{"ui.overview.charts", "ui.overview.settings"} {
		if !hasSection(res, sec) {
			res = append(res, templateSection(sec)...)
		}
	}
	return res
}

// splitKey splits `key = value` (or `key: value`); comments and blank lines are not keys.
func splitKey(line string) (key, value string, ok bool) {
	if line == "" || line[0] == '#' || line[0] == ';' {
		return "", "", false
	}
	i := strings.IndexAny(line, "=:")
	if i < 0 {
		return "", "", false
	}
	return strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:]), true
}

// browserHosts replaces the empty and loopback entries of a ;-separated host list by the
// page's host, keeping the others (and their order), without repeating a host.
func browserHosts(list, page string) string {
	var hosts []string
	add := func(h string) {
		for _, x := range hosts {
			if x == h {
				return
			}
		}
		hosts = append(hosts, h)
	}
	for _, h := range strings.Split(list, ";") {
		h = strings.TrimSpace(h)
		if isLoopback(h) {
			if page != "" {
				add(page)
			}
			continue
		}
		add(h)
	}
	if len(hosts) == 0 && page != "" {
		hosts = []string{page}
	}
	return strings.Join(hosts, ";")
}

// isLoopback reports a host a browser elsewhere cannot reach: none, localhost, 127/8, ::1.
func isLoopback(h string) bool {
	h = strings.Trim(strings.ToLower(h), "[]")
	if h == "" || h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func hasSection(text []byte, name string) bool {
	for _, line := range bytes.Split(text, []byte("\n")) {
		t := strings.TrimSpace(string(line))
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") && strings.TrimSpace(t[1:len(t)-1]) == name {
			return true
		}
	}
	return false
}

// templateSection is a section of the shipped template, as text with its header.
func templateSection(name string) []byte {
	var out []string
	in := false
	for _, line := range strings.Split(string(defaultINI), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			in = strings.TrimSpace(t[1:len(t)-1]) == name
			if in {
				out = append(out, "", line)
			}
			continue
		}
		if in {
			out = append(out, line)
		}
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// PageHost is the host part of an HTTP Host header ("pio.local:4999" → "pio.local").
func PageHost(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}

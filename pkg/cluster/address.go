package cluster

import (
	"net"
	"strings"
)

// UnitURL is the base URL of a unit's API (docs/http.md, "Addresses and roles"): proto://address:port, where
// proto and port are [ui] proto and port and address the unit's [cluster.addresses] entry
// (or <unit>.local). An address that carries its own port ("127.0.0.1:4101",
// "[::1]:4101") keeps it: that extension lets several daemons share one host, as the
// multi-process test cluster does (docs/api.md).
func UnitURL(proto, port, address string) string {
	if proto == "" {
		proto = "http"
	}
	if port == "" {
		port = "80"
	}
	if _, _, err := net.SplitHostPort(address); err == nil {
		return proto + "://" + address
	}
	return proto + "://" + net.JoinHostPort(strings.Trim(address, "[]"), port)
}

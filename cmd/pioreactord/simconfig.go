package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/atomicfile"
	"github.com/pioreactor/pioreactord/pkg/config"
)

// simConfigFiles are the config files of a --sim run without --config: config.ini and
// unit_config.ini in the data dir. The first start writes config.ini from the built-in
// template, with this cluster's topology and an empty [simulation] section; after that it
// is the user's, edited through the config routes like any unit's, and kept across runs.
func simConfigFiles(o options) (shared, unit string, err error) {
	shared = filepath.Join(o.dataDir, "config.ini")
	unit = filepath.Join(o.dataDir, "unit_config.ini")
	if _, err := os.Stat(shared); err == nil {
		return shared, unit, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("simulation config: %w", err)
	}
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return "", "", fmt.Errorf("simulation config: %w", err)
	}
	if err := atomicfile.WriteFile(shared, simTemplate(o), 0o644); err != nil {
		return "", "", fmt.Errorf("simulation config: %w", err)
	}
	return shared, unit, nil
}

// simTemplate is the template with the leader named and addressed (a valid shared config
// needs both) and a [simulation] section to tune the simulated bioreactors in.
func simTemplate(o options) []byte {
	leader, err := simLeaderName(o)
	if err != nil {
		leader = "leader" // no hostname: the user names the leader in this file
	}
	t := config.Template()
	t = bytes.Replace(t, []byte("\nleader_hostname=\n"), []byte("\nleader_hostname="+leader+"\n"), 1)
	t = bytes.Replace(t, []byte("\nleader_address=\n"), []byte("\nleader_address=127.0.0.1\n"), 1)
	// The simulation's own charts: the true growth rate and temperature beside the estimates.
	t = bytes.Replace(t, []byte("\n[ui.overview.charts]\n"),
		[]byte("\n[ui.overview.charts]\nsimulation_true_growth_rate=1\nsimulation_true_liquid_temperature=1\n"), 1)
	// The simulated heating PCB relaxes toward the liquid, so a fit of its decay reads the
	// liquid exactly; the default regression was fitted to real vials (docs/jobs.md §4).
	t = append(bytes.TrimRight(t, "\n"), []byte("\n\n[temperature_automation.config]\ninference_model=decay\n")...)
	t = append(t, []byte("\n[simulation]\n# simulator parameters by snake_case name, e.g. mu_opt_per_hour = 0.8 (docs/simulation.md)\n")...)
	return t
}

// sharedConfigPath is the config.ini the config routes serve: --config's, the simulation's
// in the data dir, or none (the built-in template outside --sim, read-only).
func (d *daemon) sharedConfigPath() string {
	switch {
	case d.opts.configPath != "":
		return d.opts.configPath
	case d.opts.sim:
		return filepath.Join(d.opts.dataDir, "config.ini")
	}
	return ""
}

// webSocket is the broker's WebSocket listener as a browser must reach it: the port it
// really listens on (--ws may differ from the file's broker_ws_port) and wss when it
// speaks TLS. Zero on a daemon without its own broker: the file then says where it is.
func (d *daemon) webSocket() api.WebSocket {
	if d.broker == nil || d.broker.WSAddr() == "" {
		return api.WebSocket{}
	}
	ws := api.WebSocket{Protocol: "ws"}
	if _, port, err := net.SplitHostPort(d.broker.WSAddr()); err == nil {
		ws.Port, _ = strconv.Atoi(port)
	}
	if d.conf.String(config.SecMQTT, "tls_cert_file", "") != "" {
		ws.Protocol = "wss"
	}
	return ws
}

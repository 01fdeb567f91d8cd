package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// options are the daemon's command-line flags.
type options struct {
	configPath string
	sim        bool
	demo       bool   // start living cultures on the simulated workers
	role       string // leader, worker or both
	unit       string
	broker     string // the leader's broker host:port, for a worker
	units      int    // simulated workers in role both
	dataDir    string
	httpAddr   string
	mqttAddr   string
	wsAddr     string
	speed      float64
	restore    string // a backup of the leader's store to restore before starting
	version    bool   // print the version and exit
}

func (o options) leader() bool { return o.role == "leader" || o.role == "both" }

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("pioreactord", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", "", "shared config.ini (default $DOT_PIOREACTOR/config.ini; the built-in template with --sim)")
	fs.BoolVar(&o.sim, "sim", false, "run against simulated bioreactors instead of a HAT")
	fs.BoolVar(&o.demo, "demo", false, "with --sim: start stirring, OD reading, growth rate and a 30 °C thermostat on every simulated worker")
	fs.StringVar(&o.role, "role", "", "leader, worker or both (default both with --sim, worker without)")
	fs.StringVar(&o.unit, "unit", "", "this daemon's unit name (default the hostname)")
	fs.StringVar(&o.broker, "broker", "", "the leader's MQTT broker host:port (a worker's; default from [mqtt])")
	fs.IntVar(&o.units, "units", 3, "simulated workers started beside the leader with --sim --role both")
	fs.StringVar(&o.dataDir, "data-dir", "", "where the stores live (default ./data with --sim)")
	fs.StringVar(&o.httpAddr, "http", "", "HTTP API host:port (default 127.0.0.1:4999 with --sim, else [ui] bind_address and port)")
	fs.StringVar(&o.mqttAddr, "mqtt", "", "MQTT broker host:port of a leader (default 127.0.0.1:1883 with --sim, else [mqtt] bind_address and broker_port)")
	fs.StringVar(&o.wsAddr, "ws", "", "MQTT-over-WebSocket host:port of a leader (default 127.0.0.1:9001 with --sim, else [mqtt] bind_address and broker_ws_port)")
	fs.StringVar(&o.restore, "restore", "", "restore the leader's store from this backup file (POST /api/backup makes one), then start")
	fs.Float64Var(&o.speed, "speed", 1, "simulated clock speed (1 = real time; 3600 = an hour a second)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s (the one subcommand is `hardware check`)", strings.Join(fs.Args(), " "))
	}
	if o.version {
		return o, nil
	}
	return o, o.fillDefaults()
}

// fillDefaults applies the defaults that depend on --sim: every listener binds to loopback in
// simulation unless asked otherwise. Outside it, listenFromConfig fills them from config.ini.
func (o *options) fillDefaults() error {
	loop := func(s *string, sim, pi string) {
		if *s == "" {
			if o.sim {
				*s = sim
			} else {
				*s = pi
			}
		}
	}
	loop(&o.role, "both", "worker")
	loop(&o.httpAddr, "127.0.0.1:4999", "")
	loop(&o.mqttAddr, "127.0.0.1:1883", "")
	loop(&o.wsAddr, "127.0.0.1:9001", "")
	dot := dotPioreactor()
	loop(&o.dataDir, "data", filepath.Join(dot, "storage"))
	if o.configPath == "" && !o.sim {
		o.configPath = os.Getenv("GLOBAL_CONFIG")
		if o.configPath == "" {
			o.configPath = filepath.Join(dot, "config.ini")
		}
	}
	if o.unit == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("no --unit and no hostname: %w", err)
		}
		o.unit = host
	}
	switch {
	case o.role != "leader" && o.role != "worker" && o.role != "both":
		return fmt.Errorf("--role %q: want leader, worker or both", o.role)
	case o.units < 0 || o.units > 64:
		return errors.New("--units must be within 0–64")
	case o.demo && !(o.sim && o.role == "both"):
		return errors.New("--demo needs --sim with the leader and its simulated workers (role both)")
	case o.restore != "" && !o.leader():
		return errors.New("--restore is for the leader's store")
	case !(o.speed > 0):
		return errors.New("--speed must be positive")
	case o.speed != 1 && !o.sim:
		return errors.New("--speed needs --sim")
	}
	return nil
}

// dotPioreactor is the root of a unit's persistent state (docs/config.md, "Files").
func dotPioreactor() string {
	if dot := os.Getenv("DOT_PIOREACTOR"); dot != "" {
		return dot
	}
	return "/home/pioreactor/.pioreactor"
}

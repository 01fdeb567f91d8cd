package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// app is one invocation: where the daemons and the broker are, and the terminal.
type app struct {
	prog   string // pio or pios
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	url      string // the daemon of "this unit"
	leader   string // the leader's daemon
	unit     string // this unit's name when acting through the leader; "" is the daemon at url
	broker   string // host:port
	mqttTLS  bool   // MQTT over TLS: [mqtt] use_tls, or an ssl:// broker
	mqttCA   string // [mqtt] tls_ca_file: trusted beside the system's CAs
	mqttUser string
	mqttPass string
	apiKey   string

	http *httpClient
	self string // this unit's name, once asked
}

const globalUsage = `Global options (before the command; environment variables in brackets):
  --url URL            this unit's daemon [PIO_URL] (default http://127.0.0.1:4999)
  --leader URL         the leader's daemon [PIO_LEADER_URL] (default: [cluster.topology] of
                       the config, else --url)
  --unit NAME          act as unit NAME through the leader [PIO_UNIT]
  --broker HOST:PORT   MQTT broker [PIO_BROKER] (default: [mqtt] of the config, else 127.0.0.1:1883);
                       ssl://HOST:PORT for MQTT over TLS, as [mqtt] use_tls=1 does
  --mqtt-username U, --mqtt-password P   [PIO_MQTT_USERNAME, PIO_MQTT_PASSWORD]
                       (default: [mqtt] of the config, else pioreactor / raspberry)
  --api-key KEY        sent as Authorization: Basic KEY [PIO_API_KEY] (default [ui_basic_auth] api_key)
  --config FILE        config.ini to read the defaults from [GLOBAL_CONFIG]
                       (default $DOT_PIOREACTOR/config.ini when it exists)`

// main parses the global options and dispatches to pio or pios.
func (a *app) main(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet(a.prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var url, leader, unit, broker, user, pass, key, conf string
	var showVersion bool
	fs.StringVar(&url, "url", "", "")
	fs.StringVar(&leader, "leader", "", "")
	fs.StringVar(&unit, "unit", "", "")
	fs.StringVar(&broker, "broker", "", "")
	fs.StringVar(&user, "mqtt-username", "", "")
	fs.StringVar(&pass, "mqtt-password", "", "")
	fs.StringVar(&key, "api-key", "", "")
	fs.StringVar(&conf, "config", "", "")
	fs.BoolVar(&showVersion, "version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return a.help()
		}
		return usageErr(a.usageLine(""), "%s", clickWording(err))
	}
	if showVersion {
		fmt.Fprintln(a.stdout, version)
		return nil
	}
	if err := a.configure(url, leader, unit, broker, user, pass, key, conf); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return a.help()
	}
	if a.prog == "pios" {
		return a.pios(ctx, rest)
	}
	return a.pio(ctx, rest)
}

func (a *app) usageLine(cmd string) string {
	if cmd == "" {
		return fmt.Sprintf("Usage: %s [OPTIONS] COMMAND [ARGS]...\nTry '%s --help' for help.", a.prog, a.prog)
	}
	return fmt.Sprintf("Usage: %s %s [OPTIONS] [ARGS]...\nTry '%s %s --help' for help.", a.prog, cmd, a.prog, cmd)
}

func (a *app) help() error {
	if a.prog == "pios" {
		fmt.Fprintln(a.stdout, piosHelp)
	} else {
		fmt.Fprintln(a.stdout, pioHelp)
	}
	fmt.Fprintln(a.stdout)
	fmt.Fprintln(a.stdout, globalUsage)
	return nil
}

// configure settles every address and credential: flag, else environment, else config.ini,
// else the simulator's defaults.
func (a *app) configure(url, leader, unit, broker, user, pass, key, confPath string) error {
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	confPath = pick(confPath, a.getenv("GLOBAL_CONFIG"))
	explicit := confPath != ""
	if confPath == "" {
		dot := pick(a.getenv("DOT_PIOREACTOR"), "/home/pioreactor/.pioreactor")
		confPath = filepath.Join(dot, "config.ini")
	}
	var c *config.Config
	if _, err := os.Stat(confPath); err == nil || explicit {
		var err error
		if c, err = config.Load(confPath, filepath.Join(filepath.Dir(confPath), "unit_config.ini")); err != nil {
			return fmt.Errorf("read %s: %w", confPath, err)
		}
	}
	var confLeader, confBroker, confUser, confPass, confKey string
	if c != nil {
		proto, port := c.String("ui", "proto", "http"), c.String("ui", "port", "80")
		if h := c.LeaderHostname(); h != "localhost" {
			confLeader = cluster.UnitURL(proto, port, c.UnitAddress(h))
		}
		if mq, err := c.MQTT(); err == nil {
			confUser, confPass = mq.Username, mq.Password
			a.mqttTLS, a.mqttCA = mq.UseTLS, mq.TLSCAFile
			if mq.BrokerAddress != "" {
				confBroker = fmt.Sprintf("%s:%d", mq.BrokerAddress, mq.Port)
			}
		}
		confKey = c.String("ui_basic_auth", "api_key", "")
	}
	a.url = strings.TrimRight(pick(url, a.getenv("PIO_URL"), "http://127.0.0.1:4999"), "/")
	a.leader = strings.TrimRight(pick(leader, a.getenv("PIO_LEADER_URL"), confLeader, a.url), "/")
	a.unit = pick(unit, a.getenv("PIO_UNIT"))
	a.broker = pick(broker, a.getenv("PIO_BROKER"), confBroker, "127.0.0.1:1883")
	for scheme, secure := range map[string]bool{"ssl://": true, "mqtts://": true, "tcp://": false, "mqtt://": false} {
		if rest, ok := strings.CutPrefix(a.broker, scheme); ok {
			a.broker, a.mqttTLS = rest, secure
		}
	}
	a.mqttUser = pick(user, a.getenv("PIO_MQTT_USERNAME"), confUser, "pioreactor")
	a.mqttPass = pick(pass, a.getenv("PIO_MQTT_PASSWORD"), confPass, "raspberry")
	a.apiKey = pick(key, a.getenv("PIO_API_KEY"), confKey)
	for _, u := range []string{a.url, a.leader} {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return usageErr(a.usageLine(""), "%q is not an http:// or https:// URL.", u)
		}
	}
	a.http = newHTTPClient(a.apiKey)
	if isTerminal(a.stderr) {
		a.http.progress = a.stderr
	}
	return nil
}

// dialTimeout bounds the wait for the broker: a CLI says it cannot connect rather than hang.
const dialTimeout = 5 * time.Second

// dial connects to the broker with the configured credentials.
func (a *app) dial(ctx context.Context, id string) (pubsub.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	var tlsConf *tls.Config
	if a.mqttTLS {
		var err error
		if tlsConf, err = pubsub.ClientTLS(a.mqttCA); err != nil {
			return nil, fmt.Errorf("[mqtt] tls_ca_file: %w", err)
		}
	}
	c, err := pubsub.NewTLSDialer(a.broker, a.mqttUser, a.mqttPass, tlsConf, nil).Dial(dctx, pubsub.Options{ClientID: ""})
	if err != nil {
		if errors.Is(err, pubsub.ErrRefused) {
			return nil, fmt.Errorf("the MQTT broker at %s refused %s's credentials", a.broker, id)
		}
		return nil, fmt.Errorf("could not connect to the MQTT broker at %s", a.broker)
	}
	return c, nil
}

// Command pioreactord is the Pioreactor daemon: every job of a unit, and on the leader the MQTT
// broker, the HTTP API and the data store. `pioreactord --sim` runs a leader and simulated
// workers on one machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/ingest"
	"github.com/pioreactor/pioreactord/pkg/logging"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pioreactord:", err)
		}
		os.Exit(1)
	}
}

// run starts everything, blocks until ctx ends, then stops jobs first (they still need the
// broker to publish `disconnected`), then the HTTP servers, then the broker.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "hardware" {
		return hardwareCommand(ctx, args[1:], stdout, stderr)
	}
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.version {
		_, err := fmt.Fprintln(stdout, "pioreactord", version)
		return err
	}
	conf, unitConfigPath, err := loadConfig(o)
	if err != nil {
		return err
	}
	confProblems, err := validateAtStart(o, conf, unitConfigPath)
	if err != nil {
		return err
	}
	if err := o.listenFromConfig(conf); err != nil {
		return err
	}
	var clk clock.Clock = clock.Real{}
	if o.sim {
		if clk, err = clock.NewScaled(o.speed); err != nil {
			return err
		}
	}
	logs := logging.New(stderr, logging.Options{Now: clk.Now, Level: consoleLevel(o, conf)})
	log := slog.New(logs)
	logConfigProblems(log, confProblems)

	d := &daemon{opts: o, conf: conf, clock: clk, log: log, stdout: stdout, unitConfigPath: unitConfigPath}
	defer d.closeAll()
	if err := d.open(ctx); err != nil {
		return err
	}

	// Background services outlive the jobs, and stop in three layers: the log sink first (on
	// a worker its last lines pass through the outbox, which must still run to send them),
	// then the outboxes and the ingester (they still publish and store the jobs' last
	// messages), the broker last.
	brokerCtx, stopBroker := context.WithCancel(context.WithoutCancel(ctx))
	var brokerGroup errgroup.Group
	if d.broker != nil {
		brokerGroup.Go(func() error { return d.broker.Run(brokerCtx) })
	}
	sink, stopSink := context.WithCancel(context.WithoutCancel(ctx))
	var sinkGroup errgroup.Group
	infra, stopInfra := context.WithCancel(context.WithoutCancel(ctx))
	var infraGroup errgroup.Group
	stopBackground := func() error {
		stopSink()
		err := sinkGroup.Wait()
		stopInfra()
		err = errors.Join(err, infraGroup.Wait())
		stopBroker()
		return errors.Join(err, brokerGroup.Wait())
	}
	sinkGroup.Go(func() error { return logs.Run(sink) })
	for _, u := range d.units {
		if u.box != nil {
			infraGroup.Go(func() error { return u.box.Run(infra) })
		}
	}
	if d.store != nil {
		// The leader keeps every reading.
		in, err := ingest.New(ingest.Config{Dialer: d.dialer, Store: d.store, Leader: o.unit, Clock: clk, Log: log})
		if err != nil {
			_ = stopBackground()
			return err
		}
		infraGroup.Go(func() error { return in.Run(infra) })
	}
	logConn, err := d.dialer.Dial(ctx, pubsub.Options{ClientID: "logs-" + o.unit + "-" + pubsub.ClientSuffix()})
	if err != nil {
		_ = stopBackground()
		if ctx.Err() != nil {
			return nil // stopped while starting: cancellation is not an error
		}
		return fmt.Errorf("connect log sink to the broker: %w", err)
	}
	logs.SetPublisher(d.logSink(logConn))
	if err := d.buildAPIs(ctx, logConn); err != nil {
		logConn.Close()
		_ = stopBackground()
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	for _, u := range d.units {
		g.Go(func() error { return u.sup.Run(gctx) })
	}
	d.runSimTruth(gctx, g)
	for _, s := range d.servers[1:] {
		g.Go(func() error { return s.srv.Run(gctx, s.ln) })
	}
	for _, s := range d.servers {
		if s.local != nil {
			g.Go(func() error { return api.Serve(gctx, s.local, s.srv.Handler(), log) })
		}
	}
	if o.sim && o.role == "both" {
		// Before the public listener answers, so that the first answer already lists the workers.
		if err = d.bootstrapSim(gctx); err != nil {
			g.Go(func() error { return err })
		}
	}
	g.Go(func() error { return d.servers[0].srv.Run(gctx, d.servers[0].ln) })
	calls := cluster.New(cluster.Config{Resolve: d.addresses.resolve, APIKey: d.apiKey()})
	for _, u := range d.units {
		g.Go(func() error {
			learnModel(gctx, calls, d.conf.LeaderHostname(), u.name, u.model, modelRetry, d.log)
			return nil
		})
	}
	d.printBanner()
	err = g.Wait()
	if d.leaderConn != nil {
		d.leaderConn.Close()
	}
	bgErr := stopBackground()
	logConn.Close()
	if err == nil {
		err = bgErr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Debug("pioreactord stopped")
	return err
}

// loadConfig reads config.ini (+ unit_config.ini beside it), or the built-in template under
// --sim, and points the cluster at this daemon's own addresses.
func loadConfig(o options) (conf *config.Config, unitPath string, err error) {
	switch {
	case o.configPath == "" && o.sim:
		// The simulation's own files in the data dir, so the config routes serve and save them.
		shared, unit, err := simConfigFiles(o)
		if err != nil {
			return nil, "", err
		}
		if conf, err = config.Load(shared, unit); err != nil {
			return nil, "", err
		}
		unitPath = unit
	case o.configPath == "":
		conf = config.LoadDefault()
	default:
		unitPath = os.Getenv("LOCAL_CONFIG") // docs/config.md, "Files"
		if unitPath == "" {
			unitPath = filepath.Join(filepath.Dir(o.configPath), "unit_config.ini")
		}
		if conf, err = config.Load(o.configPath, unitPath); err != nil {
			return nil, "", err
		}
	}
	if o.sim && conf.LeaderHostname() == "localhost" {
		leader, err := simLeaderName(o)
		if err != nil {
			return nil, "", err
		}
		conf = conf.With([][3]string{{"cluster.topology", "leader_hostname", leader}, {"cluster.topology", "leader_address", "127.0.0.1"}})
	}
	return conf, unitPath, nil
}

// simLeaderName is the leader a --sim daemon without a config expects. A simulated cluster
// without a config runs on one machine, and a leader without --unit is named after the
// host: a worker must expect the same name, or its outbox never sees the leader's streamer
// and never replays what it spooled during an outage.
func simLeaderName(o options) (string, error) {
	if o.role != "worker" {
		return o.unit, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("a simulated worker without a config names its leader after the host: %w", err)
	}
	return host, nil
}

// consoleLevel is [logging] console_log_level; the built-in template's DEBUG would bury the
// banner of a first `--sim` run, so without a config file it is INFO.
func consoleLevel(o options, conf *config.Config) slog.Leveler {
	if o.configPath == "" {
		return slog.LevelInfo
	}
	l, err := logging.ParseLevel(conf.String("logging", "console_log_level", "INFO"))
	if err != nil {
		return slog.LevelInfo
	}
	return l
}

// httpServer is one unit's API server with its bound listener.
type httpServer struct {
	srv   *api.Server
	sup   api.Unit
	u     *unit
	ln    net.Listener
	local net.Listener // with TLS on ln: a plain loopback listener for the leader's own calls
	unit  string
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/api"
	"github.com/pioreactor/pioreactord/pkg/broker"
	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/store"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
	"github.com/pioreactor/pioreactord/ui"
)

// daemon holds what run opened, to close it in reverse order.
type daemon struct {
	opts   options
	conf   *config.Config
	clock  clock.Clock
	log    *slog.Logger
	stdout io.Writer

	store      *store.DB
	broker     *broker.Broker
	dialer     pubsub.Dialer
	leaderConn pubsub.Client
	units      []*unit
	servers    []httpServer
	// unitConfigPath is the unit_config.ini layered over the shared file ("" with no --config).
	unitConfigPath string
	addresses      *addressBook
	profiles       *leaderProfiles // the leader's experiment profiles (nil on a worker)
	models         []api.Model     // the model registry: the leader's GET /api/models, each unit's vessel
	dashboardBuilt bool            // the leader serves a built dashboard (false: the "make ui" page)
}

// open binds every listener and opens every store; nothing runs yet.
func (d *daemon) open(ctx context.Context) error {
	o := d.opts
	mq, err := d.conf.MQTT()
	if err != nil {
		return err
	}
	if !o.sim && d.apiKey() == "" {
		// Outside the simulation the API controls pumps and heaters on a shared network.
		return errors.New("the HTTP API needs credentials outside --sim: set [ui_basic_auth] api_key in config.ini")
	}
	brokerAddr := o.broker
	embedded, err := d.conf.Bool("mqtt", "embedded_broker", true)
	if err != nil {
		return err
	}
	if o.leader() {
		dbPath := filepath.Join(o.dataDir, "pioreactor.db")
		if o.restore != "" {
			if err := store.Restore(o.restore, dbPath); err != nil {
				return err
			}
			d.log.Info("store restored", "from", o.restore, "to", dbPath)
		}
		if d.store, err = store.Open(dbPath, store.Options{Clock: d.clock}); err != nil {
			return err
		}
	}
	if o.leader() && embedded {
		if err := checkBrokerCredentials(o, mq); err != nil {
			return err
		}
		bc, err := d.brokerConfig(mq)
		if err != nil {
			return err
		}
		if d.broker, err = broker.Listen(bc, d.log); err != nil {
			return err
		}
		// The daemon's own clients use the plain loopback listener: it works with TLS on, and
		// no network client can take over their sessions.
		brokerAddr = d.broker.LocalAddr()
	}
	if brokerAddr == "" {
		host := mq.BrokerAddress
		if host == "" {
			host = d.conf.LeaderAddress()
		}
		brokerAddr = net.JoinHostPort(host, strconv.Itoa(mq.Port))
	}
	if d.dialer, err = clientDialer(brokerAddr, mq, d.broker != nil, d.log); err != nil {
		return err
	}
	d.addresses = &addressBook{conf: d.conf, known: map[string]string{}}

	d.models = api.LoadModels(filepath.Join(dotPioreactor(), "models"), d.log)
	deps := unitDeps{dataDir: o.dataDir, leader: d.conf.LeaderHostname(), dialer: d.dialer, clock: d.clock, log: d.log, conf: d.conf,
		models: d.models}
	own := deps
	if o.sim && o.role != "leader" && o.role != "both" {
		own.simSeed = seedFor(o.unit)
	}
	own.outbox = !o.leader() // the leader's own unit stores its data in-process
	own.leaderDB = d.store   // nil on a worker; the leader's health reports its failures
	deps.outbox = true       // simulated workers beside the leader spool like real ones
	own.hardware = !o.sim && o.role != "leader"
	if o.leader() {
		if d.profiles, err = d.openProfiles(); err != nil {
			return err
		}
		own.extra = []supervisor.Spec{d.profileSpec(ctx, d.profiles, d.leaderSupervisor)}
	}
	self, err := openUnit(o.unit, own)
	if err != nil {
		return err
	}
	d.units = append(d.units, self)

	httpTLS, err := loadTLS(d.conf, secUI)
	if err != nil {
		return err
	}
	if err := d.listen(self, o.httpAddr, httpTLS); err != nil {
		return err
	}
	if o.sim && o.role == "both" {
		for i := 1; i <= o.units; i++ {
			name := fmt.Sprintf("pio%02d", i)
			deps.simSeed = seedFor(name)
			u, err := openUnit(name, deps)
			if err != nil {
				return err
			}
			d.units = append(d.units, u)
			if err := d.listen(u, "127.0.0.1:0", nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// listen binds a unit's HTTP listener and records its address for the leader's fan-out.
// With tlsConf the listener speaks HTTPS, and a plain loopback twin serves the leader's own
// calls to the unit (they need not trust the certificate).
func (d *daemon) listen(u *unit, addr string, tlsConf *tls.Config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http listener for %s: %w", u.name, err)
	}
	s := httpServer{ln: ln, unit: u.name, sup: unitAPI{sup: u.sup, u: u}, u: u}
	if tlsConf != nil {
		if s.local, err = net.Listen("tcp", localListening); err != nil {
			_ = ln.Close()
			return fmt.Errorf("local http listener for %s: %w", u.name, err)
		}
		s.ln = tls.NewListener(ln, tlsConf)
		d.addresses.set(u.name, "http://"+s.local.Addr().String())
	} else {
		d.addresses.set(u.name, "http://"+ln.Addr().String())
	}
	d.servers = append(d.servers, s)
	return nil
}

// buildAPIs creates the HTTP servers once the broker runs: the leader's API publishes on it.
// The first server is this daemon's own unit, and the leader's API when it is the leader.
func (d *daemon) buildAPIs(ctx context.Context, conn pubsub.Client) error {
	var leader *api.Leader
	if d.opts.leader() {
		var err error
		if d.leaderConn, err = d.dialer.Dial(ctx, pubsub.Options{ClientID: "leader-api-" + d.opts.unit + "-" + pubsub.ClientSuffix(), NoLateDelivery: true}); err != nil {
			return fmt.Errorf("connect the leader's API to the broker: %w", err)
		}
		leader = &api.Leader{Store: d.store, Publisher: d.leaderConn, Name: d.opts.unit,
			Cluster: cluster.New(cluster.Config{Resolve: d.addresses.resolve, APIKey: d.apiKey()}), Addresses: d.conf.Section(config.SecAddresses),
			ConfigHistory: api.NewConfigHistoryFile(filepath.Join(d.opts.dataDir, "config_history.jsonl")),
			Models:        d.models}
		leader.Simulation = d.opts.sim
		leader.Profiles = d.profiles.api()
	}
	for i := range d.servers {
		u := d.servers[i].u
		cfg := api.Config{Unit: d.servers[i].sup, Log: d.log, Now: d.clock.Now, Version: version, APIKey: d.apiKey(),
			Publisher: conn, Calibrations: u.dosing.Calibrations, Bioreactor: bioreactorBook{u.dosing.Bioreactor, d.conf},
			ModelCapacityML: func() float64 { return u.dosing.Bioreactor.Vessel().CapacityML }}
		if shared := d.sharedConfigPath(); shared != "" {
			cfg.ConfigFiles = &api.ConfigFiles{Shared: shared, Unit: d.unitConfigPath}
			cfg.CheckConfig = checkSavedConfig
			if i > 0 && d.opts.configPath == "" {
				cfg.ConfigFiles.Unit = filepath.Join(d.opts.dataDir, u.name, "unit_config.ini") // each simulated unit its own
			}
		}
		cfg.WebSocket = d.webSocket()
		cfg.Descriptors = d.descriptorsOf(u)
		cfg.SimTruth = u.simTruthAPI()
		cfg.Sessions = u.sessions
		if i == 0 && leader != nil {
			cfg.Leader = leader
			cfg.Dashboard, d.dashboardBuilt = dashboard()
		}
		srv, err := api.New(cfg)
		if err != nil {
			return err
		}
		d.servers[i].srv = srv
	}
	return nil
}

// dashboard is what the leader serves at /: the build embedded by `make ui` (ui.Dist), or
// the folder PIOREACTORD_UI_DIR names, read at each request (with `npm run watch` in ui/, a
// reload shows the change without rebuilding the daemon). It reports whether it holds a build.
func dashboard() (fs.FS, bool) {
	if dir := os.Getenv("PIOREACTORD_UI_DIR"); dir != "" {
		files := os.DirFS(dir)
		_, err := fs.Stat(files, "index.html")
		return files, err == nil
	}
	return ui.Dist()
}

func (d *daemon) closeAll() {
	for _, s := range d.servers {
		_ = s.ln.Close() // already closed when its server ran
		if s.local != nil {
			_ = s.local.Close()
		}
	}
	for _, u := range d.units {
		if err := u.close(); err != nil {
			d.log.Warn("close unit store", "unit", u.name, "err", err)
		}
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.log.Warn("close store", "err", err)
		}
	}
}

// seedFor gives each simulated unit its own reproducible culture.
func seedFor(unit string) int64 {
	var h int64 = 1469598103
	for _, c := range unit {
		h = h*31 + int64(c)
	}
	if h < 0 {
		h = -h
	}
	return h%1_000_000 + 1
}

// addressBook maps units to the base URL of their HTTP API: this process's own servers, else
// [cluster.addresses] or <unit>.local with [ui] proto and port.
type addressBook struct {
	conf  *config.Config
	mu    sync.Mutex
	known map[string]string
}

func (a *addressBook) set(unit, url string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.known[unit] = url
}

func (a *addressBook) resolve(unit string) (string, error) {
	a.mu.Lock()
	url, ok := a.known[unit]
	a.mu.Unlock()
	if ok {
		return url, nil
	}
	return cluster.UnitURL(a.conf.String("ui", "proto", "http"), a.conf.String("ui", "port", "80"), a.conf.UnitAddress(unit)), nil
}

// apiKey is [ui_basic_auth] api_key: every API call must carry it when it is set.
func (d *daemon) apiKey() string { return d.conf.String("ui_basic_auth", "api_key", "") }

package jobs

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/logging"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// Monitor is the unit's long-running watchdog (docs/jobs.md, "monitor"): it blinks the status LED on
// request or with an error code, follows the button, checks the computer's vitals and
// publishes the unit's versions; its network, MQTT, power, HAT and heating-PCB checks are in
// monitor_checks.go, the leader's lost-worker watch in monitor_workers.go.
type Monitor struct {
	version    string
	checkEvery time.Duration // 0: check once at start
	// configWarning explains a self_check_interval_hours that was replaced by the default.
	configWarning string

	rt     *supervisor.Runtime
	board  hal.Board
	blinks chan int // -1 = OK blink, n > 0 = error code n; one sequence at a time
	button chan bool

	workers    WorkerLiveness // the leader's inventory: the lost-worker watch; nil elsewhere
	lw         lostWorkers
	leader     bool   // this is the leader's own unit (worker-only checks skipped)
	leaderName string // [cluster.topology] leader_hostname, named in the MQTT warning
	hc         hostChecks
}

// NewMonitorSpec is the job table entry; version is the app version the monitor reports.
func NewMonitorSpec(version string) supervisor.Spec {
	return supervisor.Spec{Name: "monitor", LongRunning: true, New: func(o supervisor.Options) (supervisor.Job, error) {
		m := &Monitor{version: version, blinks: make(chan int, 1), button: make(chan bool, 4)}
		m.checkEvery, m.configWarning = selfCheckInterval(o.Config)
		m.leaderName = o.Config.LeaderHostname()
		m.leader, m.hc.ipv4 = o.Unit == m.leaderName, ipv4
		return m, nil
	}}
}

// selfCheckInterval is [monitor.config] self_check_interval_hours: 0 checks once, at start;
// otherwise [minSelfCheckInterval, a year]. Anything else falls back to 12 h with a warning,
// as the reference does (the monitor must start whatever the config says).
func selfCheckInterval(c *config.Config) (time.Duration, string) {
	hours, err := c.Float("monitor.config", "self_check_interval_hours", 12)
	if err == nil && hours == 0 {
		return 0, ""
	}
	if err == nil {
		var d time.Duration
		if d, err = durationIn("self_check_interval_hours", hours, time.Hour, minSelfCheckInterval, clock.MaxDuration); err == nil {
			return d, ""
		}
	}
	return 12 * time.Hour, fmt.Sprintf("[monitor.config] %v; checking every 12 h instead", err)
}

// Run implements supervisor.Job.
func (m *Monitor) Run(ctx context.Context, rt *supervisor.Runtime) error {
	m.rt, m.board = rt, rt.Board()
	if err := rt.Declare(
		supervisor.Setting{Name: "computer_statistics", Datatype: contract.JSON},
		supervisor.Setting{Name: "button_down", Datatype: contract.Boolean},
		supervisor.Setting{Name: "versions", Datatype: contract.JSON},
		supervisor.Setting{Name: "ipv4", Datatype: contract.String},
		supervisor.Setting{Name: "wlan_mac_address", Datatype: contract.String},
		supervisor.Setting{Name: "eth_mac_address", Datatype: contract.String},
		supervisor.Setting{Name: "voltage_on_pwm_rail", Datatype: contract.TypeVoltage},
	); err != nil {
		return err
	}
	m.publishMACs(ctx)
	if err := m.subscribe(ctx); err != nil {
		return err
	}
	if m.workers != nil {
		if err := m.watchWorkers(ctx); err != nil {
			return err
		}
	}
	if err := m.watchTemperatureJob(ctx); err != nil {
		return err
	}
	if err := rt.Set(ctx, "versions", m.versions()); err != nil {
		return err
	}
	if err := rt.Set(ctx, "ipv4", ipv4()); err != nil {
		return err
	}
	if err := rt.Set(ctx, "button_down", false); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	rt.Log().Log(ctx, logging.LevelNotice, rt.Unit()+" is online and ready.")
	if m.configWarning != "" {
		rt.Log().Warn(m.configWarning)
	}
	m.requestBlink(-1)
	rt.Go(func() { m.blinker(ctx) })
	if m.board.Button != nil {
		rt.Go(func() { m.watchButton(ctx) })
	}
	checks := newRepeat(ctx, rt.Clock(), 5*time.Second, m.checkEvery) // 0: once, at start
	defer checks.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case down := <-m.button:
			m.onButton(ctx, down)
		case <-checks.C:
			m.selfCheck(ctx)
		case s := <-m.workerStates():
			m.onWorkerState(s)
		}
	}
}

func (m *Monitor) subscribe(ctx context.Context) error {
	unit := m.rt.Unit()
	ok := func(pubsub.Message) { m.requestBlink(-1) }
	for _, filter := range []string{contract.OKBlinkTopic(unit, "+"), contract.OKBlinkTopic(contract.Broadcast, "+")} {
		if err := m.rt.Subscribe(ctx, filter, pubsub.AtLeastOnce, ok); err != nil {
			return err
		}
	}
	return m.rt.Subscribe(ctx, contract.ErrorCodeTopic(unit, "+"), pubsub.AtLeastOnce, func(msg pubsub.Message) {
		code, err := strconv.Atoi(strings.TrimSpace(string(msg.Payload)))
		if err != nil || code <= 0 || code > 20 {
			m.rt.Log().Debug("ignoring error code", "payload", string(msg.Payload))
			return
		}
		m.requestBlink(code)
	})
}

// requestBlink queues a sequence unless one is already waiting (the reference drops it too).
func (m *Monitor) requestBlink(code int) {
	select {
	case m.blinks <- code:
	default:
	}
}

// blinker plays one sequence at a time (docs/jobs.md, "monitor").
func (m *Monitor) blinker(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case code := <-m.blinks:
			if m.board.StatusLED == nil {
				continue // no HAT: nothing to blink
			}
			var err error
			if code < 0 {
				err = m.okBlink(ctx)
			} else {
				err = m.errorBlink(ctx, code)
			}
			_ = m.board.StatusLED.Set(false)
			if err != nil && ctx.Err() == nil {
				m.rt.Log().Debug("status LED", "err", err)
			}
		}
	}
}

func (m *Monitor) led(ctx context.Context, on bool, d time.Duration) error {
	if err := m.board.StatusLED.Set(on); err != nil {
		return err
	}
	return m.rt.Clock().Sleep(ctx, d)
}

func (m *Monitor) okBlink(ctx context.Context) error {
	for range 4 {
		for _, step := range []struct {
			on bool
			ms int
		}{{true, 140}, {false, 140}, {true, 140}, {false, 450}} {
			if err := m.led(ctx, step.on, time.Duration(step.ms)*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Monitor) errorBlink(ctx context.Context, code int) error {
	if err := m.led(ctx, true, 2*time.Second); err != nil {
		return err
	}
	if err := m.led(ctx, false, 250*time.Millisecond); err != nil {
		return err
	}
	for range code {
		if err := m.led(ctx, true, 250*time.Millisecond); err != nil {
			return err
		}
		if err := m.led(ctx, false, 250*time.Millisecond); err != nil {
			return err
		}
	}
	return m.rt.Clock().Sleep(ctx, 5*time.Second) // lock-out after an error code
}

func (m *Monitor) watchButton(ctx context.Context) {
	for {
		down, err := m.board.Button.Next(ctx)
		if err != nil {
			return
		}
		select {
		case m.button <- down:
		case <-ctx.Done():
			return
		}
	}
}

func (m *Monitor) onButton(ctx context.Context, down bool) {
	if m.board.StatusLED != nil {
		_ = m.board.StatusLED.Set(down)
	}
	if err := m.rt.Set(ctx, "button_down", down); err != nil {
		m.rt.Log().Debug("publish button_down", "err", err)
	}
}

// selfCheck publishes the computer's vitals and blinks a code for what is wrong.
func (m *Monitor) selfCheck(ctx context.Context) {
	if err := m.rt.Set(ctx, "button_down", false); err != nil {
		m.rt.Log().Debug("reset button_down", "err", err)
	}
	m.checkRail(ctx)
	m.hostCheck(ctx)
	if m.board.Host == nil {
		return
	}
	disk, derr := m.board.Host.DiskFreeGB()
	cpu, cerr := m.board.Host.CPUCelsius()
	if derr != nil || cerr != nil {
		m.rt.Log().Warn("could not read the computer's vitals", "err", fmt.Sprint(derr, cerr))
		return
	}
	stats := contract.ComputerStatistics{AvailableDiskSpace: contract.Decimal(math.Round(disk*100) / 100),
		CPUTemperatureCelcius: int(math.Round(cpu)), Timestamp: contract.Timestamp(m.rt.Clock().Now())}
	if err := m.rt.Set(ctx, "computer_statistics", stats); err != nil {
		m.rt.Log().Debug("publish computer_statistics", "err", err)
	}
	if disk < 3 {
		m.rt.Log().Warn(fmt.Sprintf("Disk space is low: %.2f GB left.", disk))
		m.requestBlink(contract.ErrorCodeDiskFull)
	}
	if cpu > 80 {
		m.rt.Log().Warn(fmt.Sprintf("CPU temperature is high: %.0f ℃.", cpu))
		m.requestBlink(contract.ErrorCodeHighTemperature)
	}
}

func (m *Monitor) versions() contract.Versions {
	app := m.version
	return contract.Versions{App: &app, Timestamp: contract.Timestamp(m.rt.Clock().Now())}
}

// ipv4 is the first non-loopback IPv4 address of the host, else 127.0.0.1.
func ipv4() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "127.0.0.1"
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	return "127.0.0.1"
}

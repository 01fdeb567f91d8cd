package jobs

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// The monitor's network, power, HAT and heating-PCB checks (docs/jobs.md "monitor"), run
// with its other checks at start and every self_check_interval_hours. Power, HAT and PCB
// are checked on workers only; a check whose device the board lacks is skipped.

const (
	networkTries = 3
	networkGap   = 2 * time.Second
	// mqttRetryGap: while the unit's connection to the leader's broker is down, the check
	// blinks code 2 and looks again this often.
	mqttRetryGap = 2 * time.Second
	// pcbUnattendedLimitC: a heating PCB this hot with no temperature automation running is
	// heating on its own.
	pcbUnattendedLimitC = 65.0
)

// hostChecks is what the checks remember between runs.
type hostChecks struct {
	ipv4 func() string // the host's IPv4 address, 127.0.0.1 without one

	mu          sync.Mutex
	tempRunning map[string]bool // experiment → temperature_automation alive on this unit
}

// watchTemperatureJob follows this unit's temperature_automation in every experiment.
func (m *Monitor) watchTemperatureJob(ctx context.Context) error {
	m.hc.tempRunning = map[string]bool{}
	topic := contract.JobTopic(m.rt.Unit(), "+", "temperature_automation", contract.StateAttr)
	return m.rt.Subscribe(ctx, topic, pubsub.AtLeastOnce, func(msg pubsub.Message) {
		p, ok := contract.Parse(msg.Topic)
		if !ok {
			return
		}
		m.hc.mu.Lock()
		defer m.hc.mu.Unlock()
		switch supervisor.State(msg.Payload) {
		case supervisor.Init, supervisor.Ready, supervisor.Sleeping:
			m.hc.tempRunning[p.Experiment] = true
		default:
			delete(m.hc.tempRunning, p.Experiment)
		}
	})
}

func (m *Monitor) temperatureJobRunning() bool {
	m.hc.mu.Lock()
	defer m.hc.mu.Unlock()
	return len(m.hc.tempRunning) > 0
}

// hostCheck runs the checks of this change: network everywhere, the rest on workers.
func (m *Monitor) hostCheck(ctx context.Context) {
	m.checkNetwork(ctx)
	if m.leader {
		return
	}
	m.checkMQTT(ctx)
	m.checkPower(ctx)
	m.checkHAT(ctx)
	m.checkPCB(ctx)
}

// checkNetwork looks for an IPv4 address other than loopback, three times 2 s apart, and
// publishes it; without one it warns and blinks code 1.
func (m *Monitor) checkNetwork(ctx context.Context) {
	for i := range networkTries {
		if ip := m.hc.ipv4(); ip != "" && ip != "127.0.0.1" {
			if err := m.rt.Set(ctx, "ipv4", ip); err != nil {
				m.rt.Log().Debug("publish ipv4", "err", err)
			}
			return
		}
		if i < networkTries-1 {
			if err := m.rt.Clock().Sleep(ctx, networkGap); err != nil {
				return
			}
		}
	}
	m.rt.Log().Warn("Unable to find a network connection: no IPv4 address other than 127.0.0.1.")
	m.requestBlink(contract.ErrorCodeNoNetwork)
}

// checkMQTT waits, on a worker, for its connection to the leader's broker: while it is down
// the monitor warns (once), blinks code 2 and looks again every 2 s; paho reconnects on its
// own, so there is nothing to kick. Its end is logged, so a user who saw the warning knows.
func (m *Monitor) checkMQTT(ctx context.Context) {
	if m.rt.Connected() {
		return
	}
	m.rt.Log().Warn(fmt.Sprintf("Not able to connect to the leader's MQTT broker. Is the leader, %s, in config.ini correct? Is it online and responsive?", m.leaderName))
	for !m.rt.Connected() {
		m.requestBlink(contract.ErrorCodeNoLeader)
		if err := m.rt.Clock().Sleep(ctx, mqttRetryGap); err != nil {
			return
		}
	}
	m.rt.Log().Info("connected to the leader's MQTT broker again")
}

// checkPower is the reference's rule: the aux rail at or below 4.80 V with the Pi's
// under-voltage flag set, or unknown, is a power problem (code 7).
func (m *Monitor) checkPower(ctx context.Context) {
	if m.board.Rail == nil {
		return
	}
	v, err := m.board.Rail.RailVolts(ctx)
	if err != nil {
		m.rt.Log().Debug("read the PWM rail", "err", err)
		return
	}
	flag := hal.UnderVoltageUnknown
	if m.board.Power != nil {
		if f, err := m.board.Power.UnderVoltage(); err == nil {
			flag = f
		}
	}
	if hal.PowerProblem(v, flag) {
		m.rt.Log().Warn(fmt.Sprintf("Voltage on the PWM rail is %.2f V, at or below %.2f V, and the Pi reports under-voltage (or cannot tell). Check the power supply.", v, hal.LowRailVolts))
		m.requestBlink(contract.ErrorCodeVoltage)
	}
}

// checkHAT warns when the HAT's LED driver or ADC is missing, and publishes the HAT MCU's
// firmware in versions.
func (m *Monitor) checkHAT(ctx context.Context) {
	if m.board.LEDs == nil || m.board.Photodiodes == nil {
		m.rt.Log().Warn("Pioreactor HAT is not detected.")
		return
	}
	if m.board.Firmware == nil {
		return
	}
	fw, err := m.board.Firmware.Firmware(ctx)
	if err != nil {
		m.rt.Log().Warn("The HAT's microcontroller does not answer.", "err", err)
		return
	}
	v := m.versions()
	s := fmt.Sprintf("%d.%d", fw.Major, fw.Minor)
	v.Firmware = &s
	if err := m.rt.Set(ctx, "versions", v); err != nil {
		m.rt.Log().Debug("publish versions", "err", err)
	}
}

// checkPCB reads the heating PCB: above the model's shut-down limit, or above 65 ℃ with no
// temperature automation holding the heater, the reference powers the Pi off. pioreactord
// does not power the computer off: it logs the error and blinks code 6.
func (m *Monitor) checkPCB(ctx context.Context) {
	if m.board.Thermometer == nil {
		return
	}
	v, err := m.board.Thermometer.ReadCelsius(ctx)
	if err != nil {
		return // no heating PCB: nothing is heating
	}
	limit := defaultHeaterModel.shutdownAbove
	unattended := !m.temperatureJobRunning() && v >= pcbUnattendedLimitC
	if v < limit && !unattended {
		return
	}
	m.rt.Log().Error(fmt.Sprintf("Heating PCB is at %v ℃ (limit %v ℃, or %v ℃ without a temperature automation). The original powers the Pi off here; pioreactord does not: check the heater.",
		math.Round(v*100)/100, limit, pcbUnattendedLimitC))
	m.requestBlink(contract.ErrorCodeHighTemperature)
}

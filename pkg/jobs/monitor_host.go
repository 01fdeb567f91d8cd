package jobs

import (
	"context"
	"math"
	"net"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// Rail limits: the PWM outputs (pumps, stirring, heater) run off the HAT's 5 V rail; outside
// these the motors and the heater misbehave (error code 7).
const (
	railLowVolts  = 4.6
	railHighVolts = 5.4
)

// checkRail publishes voltage_on_pwm_rail and warns when it is off; nothing without a rail.
func (m *Monitor) checkRail(ctx context.Context) {
	if m.board.Rail == nil {
		return
	}
	v, err := m.board.Rail.RailVolts(ctx)
	if err != nil {
		m.rt.Log().Debug("read the PWM rail", "err", err)
		return
	}
	payload := contract.Voltage{Timestamp: contract.Timestamp(m.rt.Clock().Now()), Voltage: contract.Decimal(math.Round(v*100) / 100)}
	if err := m.rt.Set(ctx, "voltage_on_pwm_rail", payload); err != nil {
		m.rt.Log().Debug("publish voltage_on_pwm_rail", "err", err)
	}
	if v < railLowVolts || v > railHighVolts {
		m.rt.Log().Warn("The PWM rail is at " + contract.FormatFloat(math.Round(v*100)/100) + " V, outside 4.6–5.4 V: check the power supply.")
		m.requestBlink(contract.ErrorCodeVoltage)
	}
}

// publishMACs publishes the hardware addresses of the wireless and the wired interface, each
// only when the machine has one.
func (m *Monitor) publishMACs(ctx context.Context) {
	wlan, eth := macAddresses()
	for name, mac := range map[string]string{"wlan_mac_address": wlan, "eth_mac_address": eth} {
		if mac == "" {
			continue
		}
		if err := m.rt.Set(ctx, name, mac); err != nil {
			m.rt.Log().Debug("publish "+name, "err", err)
		}
	}
}

// macAddresses are the first wireless (wlan*, wl*) and wired (eth*, en*) interfaces' addresses.
func macAddresses() (wlan, eth string) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", ""
	}
	for _, i := range ifs {
		if len(i.HardwareAddr) == 0 {
			continue
		}
		switch {
		case wlan == "" && (strings.HasPrefix(i.Name, "wlan") || strings.HasPrefix(i.Name, "wl")):
			wlan = i.HardwareAddr.String()
		case eth == "" && (strings.HasPrefix(i.Name, "eth") || strings.HasPrefix(i.Name, "en")):
			eth = i.HardwareAddr.String()
		}
	}
	return wlan, eth
}

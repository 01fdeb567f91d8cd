package jobs

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

type fixedPower hal.UnderVoltageFlag

func (f fixedPower) UnderVoltage() (hal.UnderVoltageFlag, error) { return hal.UnderVoltageFlag(f), nil }

// runMonitorChecks runs a worker's monitor for a minute on the simulated board changed by
// change, with the host's address ip, and returns its log.
func runMonitorChecks(t *testing.T, p sim.Params, ip string, change func(*hal.Board)) *logRecords {
	t.Helper()
	logs := &logRecords{}
	synctest.Test(t, func(t *testing.T) {
		spec := NewMonitorSpec("1.0")
		build := spec.New
		spec.New = func(o supervisor.Options) (supervisor.Job, error) {
			j, err := build(o)
			if err == nil {
				j.(*Monitor).hc.ipv4 = func() string { return ip }
			}
			return j, err
		}
		r := newRig(t, rigConfig{specs: []supervisor.Spec{spec}, params: &p, log: logs,
			overrides: [][3]string{{"cluster.topology", "leader_hostname", "leader"}},
			board: func(plant *sim.Bioreactor) hal.Board {
				board := sim.WithHAT(plant.Board())
				change(&board)
				return board
			}})
		defer r.close()
		r.start("monitor", nil)
		time.Sleep(time.Minute)
	})
	return logs
}

func TestMonitorHostChecks(t *testing.T) {
	hot := sim.DefaultParams()
	hot.InitialLiquidC = 70
	for _, c := range []struct {
		name   string
		params sim.Params
		ip     string
		change func(*hal.Board)
		want   string // a log line part; "" for no warning or error at all
	}{
		{"healthy", sim.DefaultParams(), "10.0.0.7", func(*hal.Board) {}, ""},
		{"no network", sim.DefaultParams(), "127.0.0.1", func(*hal.Board) {}, "Unable to find a network connection"},
		{"low rail, Pi says under-voltage", sim.DefaultParams(), "10.0.0.7", func(b *hal.Board) { b.Rail, b.Power = fixedRail(4.7), fixedPower(hal.UnderVoltageSet) }, "at or below 4.80 V"},
		{"low rail, flag unknown", sim.DefaultParams(), "10.0.0.7", func(b *hal.Board) { b.Rail, b.Power = fixedRail(4.75), nil }, "at or below 4.80 V"},
		{"low rail, Pi says fine", sim.DefaultParams(), "10.0.0.7", func(b *hal.Board) { b.Rail, b.Power = fixedRail(4.75), fixedPower(hal.UnderVoltageClear) }, ""},
		{"no HAT", sim.DefaultParams(), "10.0.0.7", func(b *hal.Board) { b.LEDs = nil }, "HAT is not detected"},
		{"hot PCB, no temperature automation", hot, "10.0.0.7", func(*hal.Board) {}, "Heating PCB is at"},
	} {
		t.Run(c.name, func(t *testing.T) {
			logs := runMonitorChecks(t, c.params, c.ip, c.change)
			if c.want == "" {
				for _, level := range []string{"WARN", "ERROR"} {
					if logs.has(level) {
						t.Fatalf("a %s on a healthy unit:\n%v", level, logs.lines)
					}
				}
				return
			}
			if !logs.has(c.want) {
				t.Fatalf("no %q in:\n%v", c.want, logs.lines)
			}
		})
	}
}

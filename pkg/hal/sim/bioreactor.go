package sim

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal"
)

// Bioreactor is one simulated Pioreactor unit. Its devices may be used from any number of
// goroutines; each access first brings the plant up to the clock's now.
type Bioreactor struct {
	clk   clock.Clock
	mu    sync.Mutex // guards pl; never held while sleeping
	pl    *plant
	board hal.Board
	panel *panel
}

// New builds a unit with parameters p on clock clk. roles maps PWM channels "1".."5" to
// "stirring", "media", "alt_media", "waste", "heating" or "" (config [PWM]); nil means
// DefaultRoles. The heater is wired to channel "5" on the HAT, so when no channel is given the
// heating role and "5" has none, "5" heats. Plant time starts at clk.Now().
func New(p Params, clk clock.Clock, roles map[string]string) (*Bioreactor, error) {
	if clk == nil {
		return nil, errors.New("sim: nil clock")
	}
	p.Photodiodes = copyMap(p.Photodiodes) // the caller may reuse its map
	pl, err := newPlant(p, clk.Now(), roles)
	if err != nil {
		return nil, err
	}
	b := &Bioreactor{clk: clk, pl: pl, panel: newPanel()}
	b.board = hal.Board{
		StatusLED:   b.panel,
		Button:      b.panel,
		Host:        b.panel,
		PWM:         map[string]hal.PWM{},
		Hall:        hall{b},
		Photodiodes: photodiodes{b},
		LEDs:        leds{b},
		Thermometer: thermometer{b},
		PWMTimer:    pwmTimer{b},
	}
	for i, o := range pl.outs {
		b.board.PWM[o.ch] = pwmOut{b: b, i: i}
	}
	return b, nil
}

func copyMap(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Board is every device of the unit; PWM is keyed by channel "1".."5".
func (b *Bioreactor) Board() hal.Board {
	bd := b.board
	bd.PWM = make(map[string]hal.PWM, len(b.board.PWM))
	for k, v := range b.board.PWM {
		bd.PWM[k] = v
	}
	return bd
}

// lock takes the plant and brings it up to now; the caller unlocks b.mu.
func (b *Bioreactor) lock() *plant {
	b.mu.Lock()
	// Read the clock under the lock so accesses reach the plant in time order.
	b.pl.advance(b.clk.Now())
	return b.pl
}

// Truth is the plant's true state, for tests and benchmarks; jobs never see it.
type Truth struct {
	Time              time.Time
	OD                float64            // true turbidity X
	GrowthRatePerHour float64            // μ − k_d now, excluding dilution
	SubstrateGPerL    float64            // S (Monod only)
	LiquidC           float64            // liquid temperature
	HeaterC           float64            // heating PCB temperature (the sensor's node, noiseless)
	VolumeML          float64            // liquid volume
	AltMediaFraction  float64            // fraction of the liquid that came from alt media
	RPM               float64            // stir bar speed
	MediaML           float64            // cumulative volume pumped in by media pumps
	AltMediaML        float64            // cumulative volume pumped in by alt-media pumps
	WasteML           float64            // cumulative liquid removed by waste pumps (not air)
	OverflowML        float64            // cumulative liquid spilled over capacity
	OverflowEvents    int                // times the vial started to overflow
	PumpFlowMLPerS    map[string]float64 // by PWM channel: true flow at 100 % duty, without per-dose jitter
	IRLEDFactor       float64            // IR LED output relative to new at 25 °C
}

// Truth reports the true state at the clock's now.
func (b *Bioreactor) Truth() Truth {
	pl := b.lock()
	defer b.mu.Unlock()
	t := Truth{
		Time:              pl.start.Add(pl.t),
		OD:                pl.x,
		GrowthRatePerHour: (pl.growthRate() - pl.kd) * 3600,
		SubstrateGPerL:    pl.sub,
		LiquidC:           pl.tl,
		HeaterC:           pl.th,
		VolumeML:          pl.vol,
		AltMediaFraction:  pl.alt,
		RPM:               pl.omega,
		MediaML:           pl.mediaML,
		AltMediaML:        pl.altML,
		WasteML:           pl.wasteML,
		OverflowML:        pl.overflowML,
		OverflowEvents:    pl.overflowEvents,
		PumpFlowMLPerS:    map[string]float64{},
		IRLEDFactor:       pl.ledFactor(),
	}
	for _, o := range pl.outs {
		if o.isPump() {
			t.PumpFlowMLPerS[o.ch] = o.flow
		}
	}
	return t
}

// Fault is an injectable hardware failure.
type Fault int

const (
	FaultThermometer   Fault = iota // ReadCelsius returns ErrNoAnswer (heating PCB unplugged)
	FaultStirDecoupled              // the bar no longer follows the motor and spins down
	FaultHallDead                   // Edges sees no edges
	FaultPhotodiodes                // ReadVolts returns ErrNoAnswer
	FaultLEDs                       // SetIntensity returns ErrNoAnswer; the LEDs keep their state
	numFaults
)

var faultNames = [numFaults]string{"thermometer", "stir-decoupled", "hall-dead", "photodiodes", "leds"}

func (f Fault) String() string {
	if f < 0 || f >= numFaults {
		return fmt.Sprintf("Fault(%d)", int(f))
	}
	return faultNames[f]
}

// SetFault switches a fault on or off from now on. Unknown faults panic: they are a bug in
// the test that injects them.
func (b *Bioreactor) SetFault(f Fault, on bool) {
	if f < 0 || f >= numFaults {
		panic("sim: unknown " + f.String())
	}
	pl := b.lock()
	defer b.mu.Unlock()
	pl.faults[f] = on
}

// AgeIRLED adds hours of on-time to the IR LED, dimming it as years of use would.
func (b *Bioreactor) AgeIRLED(hours float64) {
	pl := b.lock()
	defer b.mu.Unlock()
	pl.irOnHours += hours
}

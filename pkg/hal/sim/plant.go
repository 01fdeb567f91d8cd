package sim

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Roles a PWM channel can have (config [PWM]); "" is an unused channel.
const (
	RoleStirring = "stirring"
	RoleMedia    = "media"
	RoleAltMedia = "alt_media"
	RoleWaste    = "waste"
	RoleHeating  = "heating"
)

// DefaultRoles is the config template's [PWM] section.
func DefaultRoles() map[string]string {
	return map[string]string{"1": RoleStirring, "2": RoleMedia, "3": RoleAltMedia, "4": RoleWaste, "5": RoleHeating}
}

// plant is the state of one simulated unit and the rules that move it forward in time. It
// knows nothing about clocks or locks: Bioreactor owns both and calls advance.
type plant struct {
	p     Params
	start time.Time     // clock time of plant time 0
	t     time.Duration // plant time reached so far

	// Rates converted once to per-second units.
	muOpt, kd float64

	// State.
	x, lag, sub float64 // OD; Baranyi lag factor q/(1+q) in (0, 1]; substrate g/L (Monod)
	vol, alt    float64 // mL; alt-media fraction of the liquid
	th, tl      float64 // °C; heater PCB node, liquid node
	omega, frac float64 // RPM; phase within the current revolution [0, 1)
	irOnHours   float64 // h; cumulative IR LED on-time (aging)
	leds        [4]float64
	faults      [numFaults]bool

	// Inputs, constant between device accesses.
	outs                 []*output // by PWM channel, sorted
	stops                int       // outputs with a scheduled stop
	heatDuty, stirDuty   float64   // %
	fMedia, fAlt, fWaste float64   // mL/s, current total flow per role

	// Bookkeeping for Truth and the mixing artefact.
	mediaML, altML, wasteML, overflowML float64
	overflowEvents                      int
	overflowing, dosed                  bool
	lastDose                            time.Duration

	// Hall edges are recorded only while an Edges window is open.
	listeners int
	edges     []time.Duration
	hallRNG   *rand.Rand

	unitGain, refGain float64
	diodes            []*photodiode // sorted by channel
	thermoRNG         *rand.Rand

	heaterExp, liquidExp, motorExp expCache
	steps                          int // for benchmarks
}

// output is one PWM channel; pumps carry their own flow and RNG.
type output struct {
	ch, role string
	duty     float64       // %
	flow     float64       // true mL/s at 100 % duty: PumpFlowMLPerS·(1 + ε)
	jitter   float64       // factor of the current dose
	onAt     time.Duration // plant time the output was last switched on
	offAt    time.Duration // plant time of the scheduled stop, when stopping
	stopping bool
	rng      *rand.Rand
}

func (o *output) isPump() bool {
	return o.role == RoleMedia || o.role == RoleAltMedia || o.role == RoleWaste
}

// rngFor gives each named component its own stream, so components do not share draws.
func rngFor(seed int64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

func newPlant(p Params, start time.Time, roles map[string]string) (*plant, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if roles == nil {
		roles = DefaultRoles()
	}
	pl := &plant{
		p:         p,
		start:     start,
		muOpt:     p.MuOptPerHour / 3600,
		kd:        p.DeathPerHour / 3600,
		x:         p.InitialOD,
		lag:       1,
		sub:       p.InitialSubstrateGPerL,
		vol:       p.InitialVolumeML,
		tl:        p.AmbientC,
		hallRNG:   rngFor(p.Seed, "hall"),
		thermoRNG: rngFor(p.Seed, "thermometer"),
	}
	if !math.IsNaN(p.InitialLiquidC) {
		pl.tl = p.InitialLiquidC
	}
	pl.th = pl.tl
	if p.LagHours > 0 {
		// Baranyi: q(0) = 1/(exp(μ_opt·λ) − 1), so q/(1+q) = exp(−μ_opt·λ).
		pl.lag = math.Exp(-p.MuOptPerHour * p.LagHours)
	}
	if err := pl.wire(roles); err != nil {
		return nil, err
	}
	units := rngFor(p.Seed, "unit")
	pl.unitGain = math.Exp(p.UnitGainSD * units.NormFloat64())
	pl.refGain = math.Exp(p.RefGainSD * units.NormFloat64())
	for ch, angle := range p.Photodiodes {
		pl.diodes = append(pl.diodes, &photodiode{ch: ch, angle: angle, rng: rngFor(p.Seed, "photodiode/"+ch)})
	}
	sort.Slice(pl.diodes, func(i, j int) bool { return pl.diodes[i].ch < pl.diodes[j].ch })
	return pl, nil
}

// wire creates one output per PWM channel "1".."5" with its role.
func (pl *plant) wire(roles map[string]string) error {
	seen := map[string]string{}
	for ch, role := range roles {
		switch ch {
		case "1", "2", "3", "4", "5":
		default:
			return fmt.Errorf("pwm roles: channel %q: must be 1..5", ch)
		}
		switch role {
		case "", RoleMedia, RoleAltMedia, RoleWaste:
		case RoleStirring, RoleHeating:
			// Two motors or heaters have no meaning in one vial; two pumps of a role just add.
			if prev, ok := seen[role]; ok {
				return fmt.Errorf("pwm roles: %s on both channel %s and %s", role, prev, ch)
			}
			seen[role] = ch
		default:
			return fmt.Errorf("pwm roles: channel %s: unknown role %q", ch, role)
		}
	}
	if _, ok := seen[RoleHeating]; !ok && roles["5"] == "" {
		// [PWM] heating is informational in the reference; the heater channel is fixed by
		// the hardware.
		roles = copyMap(roles)
		roles["5"] = RoleHeating
	}
	for _, ch := range []string{"1", "2", "3", "4", "5"} {
		o := &output{ch: ch, role: roles[ch], jitter: 1}
		if o.isPump() {
			o.rng = rngFor(pl.p.Seed, "pump/"+ch)
			o.flow = pl.p.PumpFlowMLPerS * (1 + pl.p.PumpCalibrationErrorSD*o.rng.NormFloat64())
		}
		pl.outs = append(pl.outs, o)
	}
	return nil
}

// setDuty applies a new duty cycle on channel index i from plant time t onwards.
func (pl *plant) setDuty(i int, pct float64) {
	o := pl.outs[i]
	if o.isPump() && o.duty == 0 && pct > 0 {
		o.jitter = 1 + pl.p.PumpDoseJitterSD*o.rng.NormFloat64()
	}
	if o.duty == 0 && pct > 0 {
		o.onAt = pl.t
	}
	if o.stopping { // a new duty cycle replaces the scheduled stop
		o.stopping = false
		pl.stops--
	}
	o.duty = pct
	switch o.role {
	case RoleStirring:
		pl.stirDuty = pct
	case RoleHeating:
		pl.heatDuty = pct
	}
	pl.fMedia, pl.fAlt, pl.fWaste = 0, 0, 0
	for _, o := range pl.outs {
		f := o.flow * o.jitter * o.duty / 100
		switch o.role {
		case RoleMedia:
			pl.fMedia += f
		case RoleAltMedia:
			pl.fAlt += f
		case RoleWaste:
			pl.fWaste += f
		}
	}
}

// advance integrates the plant up to clock time now. Steps are Params.Step while something is
// moving and Params.QuietStep once the fast modes have settled; the last step is shortened so
// the plant lands exactly on now.
func (pl *plant) advance(now time.Time) {
	target := now.Sub(pl.start)
	for pl.t < target {
		h := pl.p.Step
		if pl.quiet() {
			h = pl.p.QuietStep
		}
		if rem := target - pl.t; rem < h {
			h = rem
		}
		if pl.stops > 0 {
			h = pl.stopOutputs(h)
		}
		pl.step(h)
	}
}

// scheduleStop switches output i off d after it was last switched on (hal.PWMTimer). Called
// before the plant is advanced to now, so a stop the plant has not yet passed is exact.
func (pl *plant) scheduleStop(i int, d time.Duration) {
	o := pl.outs[i]
	if o.duty == 0 {
		return
	}
	if !o.stopping {
		o.stopping = true
		pl.stops++
	}
	o.offAt = max(o.onAt+d, pl.t)
}

// stopOutputs switches off the outputs whose scheduled stop is now and shortens the next
// step h so that it ends on the earliest stop still ahead.
func (pl *plant) stopOutputs(h time.Duration) time.Duration {
	for i, o := range pl.outs {
		if !o.stopping {
			continue
		}
		if o.offAt <= pl.t {
			pl.setDuty(i, 0)
		} else if left := o.offAt - pl.t; left < h {
			h = left
		}
	}
	return h
}

// quiet is true when a long step loses nothing: the heater node's fast mode has died out, the
// bar is at its steady speed and nobody is timing hall edges. The slow modes (liquid
// temperature, growth, dilution) are integrated exactly or with errors far below the noise.
func (pl *plant) quiet() bool {
	if pl.listeners > 0 {
		return false
	}
	if math.Abs(pl.omega-pl.stirTarget()) > 0.5 {
		return false
	}
	return math.Abs(pl.heaterFastMode()) < 0.01
}

// step moves every sub-model forward by h. Inputs are constant within a step, so the order
// only matters at second order; growth and thermal use the temperature at the step start.
func (pl *plant) step(d time.Duration) {
	h := d.Seconds()
	pl.spin(h, d)
	pl.grow(h)
	if pl.fMedia > 0 || pl.fAlt > 0 || pl.fWaste > 0 {
		pl.pump(h)
		pl.dosed = true
		pl.lastDose = pl.t + d
	} else {
		pl.overflowing = false // the next spill is a new overflow event
	}
	pl.heat(h)
	if pl.leds[ledIndex(pl.p.IRChannel)] > 0 {
		pl.irOnHours += h / 3600
	}
	pl.t += d
	pl.steps++
}

// expCache remembers exp(−rate·h) for two (rate, h) pairs: the regular step and the odd
// remainder step that lands on a device access alternate, and rates rarely change.
type expCache struct {
	rate, h, v [2]float64
	next       int
}

func (c *expCache) at(rate, h float64) float64 {
	for i := range 2 {
		if c.rate[i] == rate && c.h[i] == h {
			return c.v[i]
		}
	}
	i := c.next
	c.next = 1 - i
	c.rate[i], c.h[i], c.v[i] = rate, h, math.Exp(-rate*h)
	return c.v[i]
}

// expm is exp(x), by its Taylor series where that is exact to double precision: growth and
// lag rates times a step are tiny, and this is the plant's hottest exponential.
func expm(x float64) float64 {
	if math.Abs(x) < 1e-3 {
		return 1 + x*(1+x*(1.0/2+x*(1.0/6+x*(1.0/24))))
	}
	return math.Exp(x)
}

func ledIndex(ch string) int {
	switch ch {
	case "A":
		return 0
	case "B":
		return 1
	case "C":
		return 2
	case "D":
		return 3
	}
	return -1
}

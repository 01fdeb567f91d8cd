package sim

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Params is every constant of the simulated unit. Start from DefaultParams and change what a
// scenario needs: unlike config structs, a zero field here is a real value (no lag, no death,
// no noise), not "use the default".
type Params struct {
	// Seed feeds every random draw. Each component has its own generator derived from Seed and
	// the component's name, so adding a component does not change the draws of the others.
	Seed int64

	// Vessel.
	CapacityML      float64 // mL; vial capacity, liquid above it overflows (40 ml model: 40, 20 ml: 20)
	InitialVolumeML float64 // mL; liquid at start ([bioreactor] initial_volume_ml)
	EffluxVolumeML  float64 // mL; level of the waste tube, waste removes liquid only above it

	// Growth: logistic by default, μ = μ_opt·γ(T_l)·(1 − X/K)·lag·inhibition.
	InitialOD          float64 // OD; true turbidity X at start
	MuOptPerHour       float64 // 1/h; specific growth rate at the optimal temperature
	TMinC              float64 // °C; cardinal temperatures of γ (no growth at or below)
	TOptC              float64 // °C; γ = 1
	TMaxC              float64 // °C; no growth at or above
	DeathPerHour       float64 // 1/h; death/maintenance k_d, applies at every temperature
	LagHours           float64 // h; Baranyi lag λ, 0 disables the lag
	CarryingCapacityOD float64 // OD; logistic K (ignored when Monod is set)

	// Monod replaces the logistic term by substrate limitation S/(K_s + S) with substrate S
	// consumed at μX/Y and supplied by the pumps.
	Monod                  bool
	HalfSaturationGPerL    float64 // g/L; K_s
	YieldODPerGPerL        float64 // OD per g/L; Y
	InitialSubstrateGPerL  float64 // g/L; S at start
	MediaSubstrateGPerL    float64 // g/L; S in media
	AltMediaSubstrateGPerL float64 // g/L; S in alt media

	// Inhibitor carried by alt media only (morbidostat scenarios): μ is multiplied by
	// 1/(1 + (A/IC50)^h) with A = AltMediaInhibitorUgPerML · alt-media fraction.
	AltMediaInhibitorUgPerML float64 // µg/mL; 0 disables inhibition
	IC50UgPerML              float64 // µg/mL
	HillCoefficient          float64 // dimensionless

	// Pumps: flow = PumpFlowMLPerS·(1 + ε)·(1 + jitter)·duty/100.
	PumpFlowMLPerS         float64 // mL/s at 100 % duty; the daemon's default calibration is 0.0911
	PumpCalibrationErrorSD float64 // fraction; ε ~ N(0, sd) drawn once per pump
	PumpDoseJitterSD       float64 // fraction; drawn each time a pump starts

	// Thermal: heating PCB node (what the TMP1075 reads) and liquid node, see thermal.go.
	AmbientC              float64 // °C; room, also the temperature of fresh media
	InitialLiquidC        float64 // °C; NaN starts at AmbientC
	HeaterMaxW            float64 // W at 100 % duty
	HeaterCapacityJPerK   float64 // J/K; C_h
	GlassCapacityJPerK    float64 // J/K; C_l = 4.18·V + this
	HeaterLiquidWPerK     float64 // W/K; G_hl
	HeaterAmbientWPerK    float64 // W/K; G_ha
	LiquidAmbientWPerK    float64 // W/K; G_la
	ThermometerNoiseC     float64 // °C; SD of each reading before quantisation
	ThermometerResolution float64 // °C; TMP1075 LSB

	// Stirring motor: ω_ss = k_ω·(duty − d_0)·(1 − s·(V − 15 mL)) once spinning.
	RPMPerPercent       float64 // RPM per % duty; k_ω
	DeadbandPercent     float64 // %; d_0, below it the bar stops
	BreakawayPercent    float64 // %; d_break, needed to start from rest
	StallRPM            float64 // RPM; below it the bar stops unless duty ≥ d_break
	MotorTimeConstantS  float64 // s; τ_ω
	MaxRPM              float64 // RPM; clamp of ω_ss
	RPMVolumeSlopePerML float64 // 1/mL; s, heavier liquid slows the bar
	EdgeJitter          float64 // fraction of the period; SD of each hall edge time

	// Optics. Photodiodes maps the ADC channel ("1".."4") to what it sees: "REF", "45", "90",
	// "135" or "180"; channels not in the map are absent.
	Photodiodes  map[string]string
	IRChannel    string        // LED channel of the IR LED ("A".."D")
	SamplingTime time.Duration // how long ReadVolts blocks (≈ 40 samples)
	ADCMaxVolts  float64       // V; readings clip here (ADS1115 gain 1)

	Blank45V            float64 // V at 100 % IR, X = 0, 45° scatter (b_45)
	Slope45VPerOD       float64 // V/OD at 100 % IR (a_45)
	Blank90V            float64 // V; b_90
	Slope90VPerOD       float64 // V/OD; a_90
	Blank135V           float64 // V; b_135
	Slope135VPerOD      float64 // V/OD; a_135
	Transmission180V    float64 // V at 100 % IR, X = 0 (c_180)
	Attenuation180PerOD float64 // 1/OD; k_180
	SaturationOD        float64 // OD; X_eff = X/(1 + X/X_sat), multiple scattering
	RefVolts            float64 // V at 100 % IR on the REF photodiode (r)
	UnitGainSD          float64 // log-normal σ of the per-unit optical gain g_u
	RefGainSD           float64 // log-normal σ of the REF gain g_ref
	DarkVolts           float64 // V; offset with every LED off
	AmbientLightVolts   float64 // V; light leaking in (lid open), IR on or off
	LeakageVolts        float64 // V per 100 % of each non-IR LED, added to every channel
	LEDAgingHours       float64 // h; IR output ∝ exp(−on-time/this)
	LEDTempCoeffPerK    float64 // 1/K; IR output ∝ 1 − this·(T_l − 25 °C)

	// Noise of one averaged reading (ReadVolts draws the mean of ~40 samples directly):
	// σ = √(floor² + (cv·V)²)·(1 + stir·(RPM/1000)²), AR(1) between readings, rare shocks.
	NoiseFloorVolts float64 // V
	NoiseCV         float64 // fraction of V (0.0056: a 40-sample mean has CV 0.56 %)
	RefNoiseVolts   float64 // V; SD of one averaged REF reading
	StirNoise       float64 // dimensionless; extra noise from stirring at 1000 RPM
	NoiseAR         float64 // AR(1) coefficient between successive readings of a channel
	ShockProb       float64 // probability per reading of a U(2,5)·σ·N(0,1) shock
	MixingArtefact  float64 // fraction; scatter signal × (1 + β·exp(−t/τ_s)) after a dose
	MixingTimeS     float64 // s; τ_s

	// Integration.
	Step      time.Duration // step while anything is moving (0.25 s; at most 1 s)
	QuietStep time.Duration // step once the heater's fast mode and the motor have settled (≤ 10 s)
}

// DefaultParams is an E. coli-like culture in a 40 ml vial with the constants of
// docs/simulation.md, "Model".
func DefaultParams() Params {
	return Params{
		Seed:            1,
		CapacityML:      40,
		InitialVolumeML: 15,
		EffluxVolumeML:  15,

		InitialOD:          0.05,
		MuOptPerHour:       1.0,
		TMinC:              5,
		TOptC:              39,
		TMaxC:              47,
		DeathPerHour:       0.01,
		LagHours:           0,
		CarryingCapacityOD: 2.5,

		HalfSaturationGPerL:    0.01,
		YieldODPerGPerL:        1.2,
		InitialSubstrateGPerL:  2.0,
		MediaSubstrateGPerL:    2.0,
		AltMediaSubstrateGPerL: 2.0,

		IC50UgPerML:     2,
		HillCoefficient: 2,

		PumpFlowMLPerS:         0.0911,
		PumpCalibrationErrorSD: 0.02,
		PumpDoseJitterSD:       0.01,

		AmbientC:       22,
		InitialLiquidC: math.NaN(),
		HeaterMaxW:     5.0,
		// Fitted to 21-sample heater-off traces of real vials with their
		// power balance (docs/simulation.md): a real vial holds 9–17 K above room on a mean heater
		// power of 0.3–1.1 W, so it loses about 0.045 W/K, not the 0.12 W/K first guessed.
		HeaterCapacityJPerK:   6,
		GlassCapacityJPerK:    8,
		HeaterLiquidWPerK:     0.23,
		HeaterAmbientWPerK:    0,
		LiquidAmbientWPerK:    0.045,
		ThermometerNoiseC:     0.02,
		ThermometerResolution: 0.0625,

		RPMPerPercent:       25,
		DeadbandPercent:     10,
		BreakawayPercent:    20,
		StallRPM:            150,
		MotorTimeConstantS:  0.7,
		MaxRPM:              2500,
		RPMVolumeSlopePerML: 0.004,
		EdgeJitter:          0.01,

		Photodiodes:  map[string]string{"1": "REF", "2": "90"},
		IRChannel:    "A",
		SamplingTime: 850 * time.Millisecond,
		ADCMaxVolts:  4.096,

		Blank45V:            0.030,
		Slope45VPerOD:       0.15,
		Blank90V:            0.030,
		Slope90VPerOD:       0.31,
		Blank135V:           0.12,
		Slope135VPerOD:      0.50,
		Transmission180V:    1.8,
		Attenuation180PerOD: 1.0,
		SaturationOD:        4,
		RefVolts:            0.125,
		UnitGainSD:          0.071,
		RefGainSD:           0.03,
		DarkVolts:           0.002,
		AmbientLightVolts:   0,
		LeakageVolts:        0.002,
		LEDAgingHours:       20000,
		LEDTempCoeffPerK:    0.004,

		NoiseFloorVolts: 50e-6,
		NoiseCV:         0.0056,
		RefNoiseVolts:   0.00015 / math.Sqrt(40),
		StirNoise:       0.5,
		NoiseAR:         0.02,
		ShockProb:       0.0073,
		MixingArtefact:  0.05,
		MixingTimeS:     10,

		Step:      250 * time.Millisecond,
		QuietStep: 5 * time.Second,
	}
}

// angles a photodiode channel can be mapped to.
var angles = map[string]bool{"REF": true, "45": true, "90": true, "135": true, "180": true}

// Validate reports every parameter that would make the model meaningless.
func (p Params) Validate() error {
	var errs []error
	bad := func(field string, v any, want string) {
		errs = append(errs, fmt.Errorf("%s = %v: %s", field, v, want))
	}
	pos := func(field string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			bad(field, v, "must be > 0")
		}
	}
	nonneg := func(field string, v float64) {
		if !(v >= 0) || math.IsInf(v, 0) {
			bad(field, v, "must be ≥ 0")
		}
	}
	finite := func(field string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad(field, v, "must be finite")
		}
	}

	pos("CapacityML", p.CapacityML)
	pos("EffluxVolumeML", p.EffluxVolumeML)
	nonneg("InitialVolumeML", p.InitialVolumeML)
	if p.EffluxVolumeML > p.CapacityML {
		bad("EffluxVolumeML", p.EffluxVolumeML, "must be ≤ CapacityML")
	}
	if p.InitialVolumeML > p.CapacityML {
		bad("InitialVolumeML", p.InitialVolumeML, "must be ≤ CapacityML")
	}

	nonneg("InitialOD", p.InitialOD)
	nonneg("MuOptPerHour", p.MuOptPerHour)
	finite("TMinC", p.TMinC)
	finite("TOptC", p.TOptC)
	finite("TMaxC", p.TMaxC)
	if !(p.TMinC < p.TOptC && p.TOptC < p.TMaxC) {
		bad("TMinC/TOptC/TMaxC", fmt.Sprint(p.TMinC, "/", p.TOptC, "/", p.TMaxC), "must increase strictly")
	} else if 2*p.TOptC <= p.TMinC+p.TMaxC {
		// The cardinal model's denominator changes sign inside (T_min, T_max) otherwise.
		bad("TOptC", p.TOptC, "must lie above the midpoint of TMinC and TMaxC")
	}
	nonneg("DeathPerHour", p.DeathPerHour)
	nonneg("LagHours", p.LagHours)
	if p.Monod {
		pos("HalfSaturationGPerL", p.HalfSaturationGPerL)
		pos("YieldODPerGPerL", p.YieldODPerGPerL)
		nonneg("InitialSubstrateGPerL", p.InitialSubstrateGPerL)
		nonneg("MediaSubstrateGPerL", p.MediaSubstrateGPerL)
		nonneg("AltMediaSubstrateGPerL", p.AltMediaSubstrateGPerL)
	} else {
		pos("CarryingCapacityOD", p.CarryingCapacityOD)
	}
	nonneg("AltMediaInhibitorUgPerML", p.AltMediaInhibitorUgPerML)
	if p.AltMediaInhibitorUgPerML > 0 {
		pos("IC50UgPerML", p.IC50UgPerML)
		pos("HillCoefficient", p.HillCoefficient)
	}

	pos("PumpFlowMLPerS", p.PumpFlowMLPerS)
	for _, f := range []struct {
		name string
		v    float64
	}{{"PumpCalibrationErrorSD", p.PumpCalibrationErrorSD}, {"PumpDoseJitterSD", p.PumpDoseJitterSD}} {
		// Above 0.2 a draw below −1 (negative flow) stops being astronomically rare.
		if !(f.v >= 0 && f.v <= 0.2) {
			bad(f.name, f.v, "must be in [0, 0.2]")
		}
	}

	finite("AmbientC", p.AmbientC)
	if math.IsInf(p.InitialLiquidC, 0) {
		bad("InitialLiquidC", p.InitialLiquidC, "must be finite or NaN")
	}
	nonneg("HeaterMaxW", p.HeaterMaxW)
	pos("HeaterCapacityJPerK", p.HeaterCapacityJPerK)
	nonneg("GlassCapacityJPerK", p.GlassCapacityJPerK)
	pos("HeaterLiquidWPerK", p.HeaterLiquidWPerK)
	nonneg("HeaterAmbientWPerK", p.HeaterAmbientWPerK)
	pos("LiquidAmbientWPerK", p.LiquidAmbientWPerK)
	nonneg("ThermometerNoiseC", p.ThermometerNoiseC)
	nonneg("ThermometerResolution", p.ThermometerResolution)

	nonneg("RPMPerPercent", p.RPMPerPercent)
	nonneg("DeadbandPercent", p.DeadbandPercent)
	if !(p.BreakawayPercent >= p.DeadbandPercent && p.BreakawayPercent <= 100) {
		bad("BreakawayPercent", p.BreakawayPercent, "must be in [DeadbandPercent, 100]")
	}
	nonneg("StallRPM", p.StallRPM)
	pos("MotorTimeConstantS", p.MotorTimeConstantS)
	pos("MaxRPM", p.MaxRPM)
	nonneg("RPMVolumeSlopePerML", p.RPMVolumeSlopePerML)
	if !(p.EdgeJitter >= 0 && p.EdgeJitter < 0.25) {
		// Larger jitter would reorder successive edges.
		bad("EdgeJitter", p.EdgeJitter, "must be in [0, 0.25)")
	}

	if len(p.Photodiodes) == 0 {
		bad("Photodiodes", p.Photodiodes, "needs at least one channel")
	}
	refs := 0
	for ch, a := range p.Photodiodes {
		if ch != "1" && ch != "2" && ch != "3" && ch != "4" {
			bad("Photodiodes", ch, `channel must be "1".."4"`)
		}
		if !angles[a] {
			bad("Photodiodes["+ch+"]", a, "must be REF, 45, 90, 135 or 180")
		}
		if a == "REF" {
			refs++
		}
	}
	if refs > 1 {
		bad("Photodiodes", p.Photodiodes, "at most one REF channel")
	}
	if ledIndex(p.IRChannel) < 0 {
		bad("IRChannel", p.IRChannel, `must be "A".."D"`)
	}
	if p.SamplingTime < 0 {
		bad("SamplingTime", p.SamplingTime, "must be ≥ 0")
	}
	pos("ADCMaxVolts", p.ADCMaxVolts)
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"Blank45V", p.Blank45V}, {"Slope45VPerOD", p.Slope45VPerOD},
		{"Blank90V", p.Blank90V}, {"Slope90VPerOD", p.Slope90VPerOD},
		{"Blank135V", p.Blank135V}, {"Slope135VPerOD", p.Slope135VPerOD},
		{"Transmission180V", p.Transmission180V}, {"Attenuation180PerOD", p.Attenuation180PerOD},
		{"RefVolts", p.RefVolts}, {"UnitGainSD", p.UnitGainSD}, {"RefGainSD", p.RefGainSD},
		{"DarkVolts", p.DarkVolts}, {"AmbientLightVolts", p.AmbientLightVolts},
		{"LeakageVolts", p.LeakageVolts}, {"LEDTempCoeffPerK", p.LEDTempCoeffPerK},
		{"NoiseFloorVolts", p.NoiseFloorVolts}, {"NoiseCV", p.NoiseCV},
		{"RefNoiseVolts", p.RefNoiseVolts}, {"StirNoise", p.StirNoise},
		{"MixingArtefact", p.MixingArtefact},
	} {
		nonneg(f.name, f.v)
	}
	pos("SaturationOD", p.SaturationOD)
	pos("LEDAgingHours", p.LEDAgingHours)
	pos("MixingTimeS", p.MixingTimeS)
	if !(p.NoiseAR >= 0 && p.NoiseAR < 1) {
		bad("NoiseAR", p.NoiseAR, "must be in [0, 1)")
	}
	if !(p.ShockProb >= 0 && p.ShockProb <= 1) {
		bad("ShockProb", p.ShockProb, "must be in [0, 1]")
	}

	if p.Step <= 0 || p.Step > time.Second {
		// Above ~1 s the heater node's fast mode (τ ≈ 23 s) and dose timing lose accuracy.
		bad("Step", p.Step, "must be in (0, 1s]")
	}
	if p.QuietStep < p.Step || p.QuietStep > 10*time.Second {
		// Substrate uptake near depletion (Monod) has τ ≈ 20 s; explicit Euler needs h < 2τ.
		bad("QuietStep", p.QuietStep, "must be in [Step, 10s]")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sim params: %w", err)
	}
	return nil
}

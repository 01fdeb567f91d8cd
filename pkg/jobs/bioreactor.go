package jobs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// Bioreactor bookkeeping (docs/jobs.md, "Bioreactor bookkeeping", docs/algorithms.md, "Bioreactor bookkeeping"): per experiment, the liquid
// volume, the alt-media fraction and the cumulative volumes, moved by dosing events and
// persisted in the unit cache (namespace `bioreactor`, key experiment).

// cacheBioreactor is the unit-cache namespace of the bioreactor variables.
const cacheBioreactor = "bioreactor"

// Vessel is what the bookkeeping and the dosing guards need of the bioreactor model
// (docs/hardware.md, "Bioreactor models").
type Vessel struct {
	CapacityML float64 // reactor_capacity_ml: the bookkeeping refuses a volume above it
	MaxFillML  float64 // reactor_max_fill_volume_ml: a dose that would reach it is refused
}

// Vessel40ml is the pioreactor_40ml model, the default of a unit whose model is unknown.
var Vessel40ml = Vessel{CapacityML: 40, MaxFillML: 36}

// known reports whether v describes a vessel (both volumes positive and finite).
func (v Vessel) known() bool {
	return v.CapacityML > 0 && v.MaxFillML > 0 && !math.IsInf(v.CapacityML, 1) && !math.IsInf(v.MaxFillML, 1)
}

// BioreactorValues are one experiment's bioreactor variables, in mL (fraction 0–1).
type BioreactorValues struct {
	CurrentVolumeML           float64 `json:"current_volume_ml"`
	EffluxTubeVolumeML        float64 `json:"efflux_tube_volume_ml"`
	AltMediaFraction          float64 `json:"alt_media_fraction"`
	CumulativeMediaAddedML    float64 `json:"cumulative_media_added_ml"`
	CumulativeAltMediaAddedML float64 `json:"cumulative_alt_media_added_ml"`
	CumulativeWasteRemovedML  float64 `json:"cumulative_waste_removed_ml"`
}

// BioreactorVariables are the variable names in the spec's order.
var BioreactorVariables = []string{contract.CurrentVolumeML, contract.EffluxTubeVolumeML, contract.AltMediaFraction,
	contract.CumulativeMediaAddedML, contract.CumulativeAltMediaAddedML, contract.CumulativeWasteRemovedML}

// field points at a variable by name; nil for an unknown name.
func (v *BioreactorValues) field(name string) *float64 {
	switch name {
	case contract.CurrentVolumeML:
		return &v.CurrentVolumeML
	case contract.EffluxTubeVolumeML:
		return &v.EffluxTubeVolumeML
	case contract.AltMediaFraction:
		return &v.AltMediaFraction
	case contract.CumulativeMediaAddedML:
		return &v.CumulativeMediaAddedML
	case contract.CumulativeAltMediaAddedML:
		return &v.CumulativeAltMediaAddedML
	case contract.CumulativeWasteRemovedML:
		return &v.CumulativeWasteRemovedML
	}
	return nil
}

// Get returns a variable by name.
func (v BioreactorValues) Get(name string) (float64, bool) {
	p := v.field(name)
	if p == nil {
		return 0, false
	}
	return *p, true
}

// Validate rejects out-of-range values, naming the variable (never clamps): every variable
// ≥ 0, volumes ≤ capacity, the fraction ≤ 1.
func (v BioreactorValues) Validate(vessel Vessel) error {
	var errs []error
	for _, name := range BioreactorVariables {
		x, _ := v.Get(name)
		hi := math.Inf(1)
		switch name {
		case contract.CurrentVolumeML, contract.EffluxTubeVolumeML:
			hi = vessel.CapacityML
		case contract.AltMediaFraction:
			hi = 1
		}
		if !(x >= 0 && x <= hi) {
			errs = append(errs, fmt.Errorf("%s = %v must be within [0, %v]", name, x, hi))
		}
	}
	return errors.Join(errs...)
}

// Apply moves the values by one dosing event (docs/algorithms.md, "Bioreactor bookkeeping"): any `add_*` adds liquid,
// `remove_waste` removes it down to the efflux tube; the alt-media fraction follows
// add_media and add_alt_media. An unknown event, a volume that is not finite or beyond
// ±maxDoseML (negative volumes are a stopped pump's corrections), or a volume raised above
// capacity is an error and leaves the values unchanged. A volume already above it (the unit
// learned a smaller model) may still go down.
func (v BioreactorValues) Apply(event string, ml float64, vessel Vessel) (BioreactorValues, error) {
	if math.IsNaN(ml) || math.IsInf(ml, 0) || math.Abs(ml) > maxDoseML {
		return v, fmt.Errorf("%w: dosing event %s with volume %v (must be within ±%v mL)", ErrBadVolume, event, ml, maxDoseML)
	}
	out := v
	vol, eff, phi := v.CurrentVolumeML, v.EffluxTubeVolumeML, v.AltMediaFraction
	switch {
	case event == contract.RemoveWaste:
		if vol <= eff {
			out.CurrentVolumeML = math.Max(vol, 0)
		} else {
			out.CurrentVolumeML = math.Max(math.Max(vol-ml, eff), 0)
		}
		out.CumulativeWasteRemovedML = math.Max(v.CumulativeWasteRemovedML+ml, 0)
	case strings.HasPrefix(event, "add_"):
		out.CurrentVolumeML = math.Max(vol+ml, 0)
		if vol+ml > 0 {
			switch event {
			case contract.AddMedia:
				phi = phi * vol / (vol + ml)
			case contract.AddAltMedia:
				phi = (phi*vol + ml) / (vol + ml)
			}
		}
		switch {
		case math.Abs(phi) < 1e-12:
			phi = 0
		case math.Abs(phi-1) < 1e-12:
			phi = 1
		}
		out.AltMediaFraction = math.Max(0, math.Min(1, phi))
		switch event {
		case contract.AddMedia:
			out.CumulativeMediaAddedML = math.Max(v.CumulativeMediaAddedML+ml, 0)
		case contract.AddAltMedia:
			out.CumulativeAltMediaAddedML = math.Max(v.CumulativeAltMediaAddedML+ml, 0)
		}
	default:
		return v, fmt.Errorf("unknown dosing event %q", event)
	}
	if out.CurrentVolumeML > vessel.CapacityML && out.CurrentVolumeML > vol {
		return v, fmt.Errorf("%s of %v mL would bring the volume to %v mL, above the vessel's %v mL", event, ml, out.CurrentVolumeML, vessel.CapacityML)
	}
	return out, nil
}

// BioreactorDefaults are the values of an experiment never seen, from `[bioreactor]`.
func BioreactorDefaults(c *config.Config, vessel Vessel) (BioreactorValues, error) {
	var r collect
	v := BioreactorValues{
		CurrentVolumeML:           r.float(c.Float("bioreactor", "initial_volume_ml", 14)),
		EffluxTubeVolumeML:        r.float(c.Float("bioreactor", "efflux_tube_volume_ml", 14)),
		AltMediaFraction:          r.float(c.Float("bioreactor", "initial_alt_media_fraction", 0)),
		CumulativeMediaAddedML:    r.float(c.Float("bioreactor", "initial_cumulative_media_added_ml", 0)),
		CumulativeAltMediaAddedML: r.float(c.Float("bioreactor", "initial_cumulative_alt_media_added_ml", 0)),
		CumulativeWasteRemovedML:  r.float(c.Float("bioreactor", "initial_cumulative_waste_removed_ml", 0)),
	}
	if err := errors.Join(r.err(), v.Validate(vessel)); err != nil {
		return v, fmt.Errorf("[bioreactor]: %w", err)
	}
	return v, nil
}

// Bioreactor is a unit's bioreactor book, shared by every job of the unit (and the unit API).
// Values of an experiment are read from the unit cache on first use, else from the config
// defaults. Update writes through at once; Apply (a dosing event) only marks the experiment
// dirty, so that the projection can save a whole batch of events with one Flush before it
// publishes their values. Safe for concurrent use.
type Bioreactor struct {
	cache  unitCache
	vessel func() Vessel // nil: the 40 ml model

	mu    sync.Mutex
	exps  map[string]BioreactorValues
	dirty map[string]bool
}

// NewBioreactor keeps the book in the unit cache at cacheDir ("" keeps it in memory only).
// vessel is the unit's model as it knows it now, asked at every check, so that a model
// learned after the daemon started applies at once; nil, or a vessel without both volumes,
// is the 40 ml model.
func NewBioreactor(cacheDir string, vessel func() Vessel) *Bioreactor {
	return &Bioreactor{cache: unitCache{dir: cacheDir}, vessel: vessel, exps: map[string]BioreactorValues{}, dirty: map[string]bool{}}
}

// Vessel is the unit's model now.
func (b *Bioreactor) Vessel() Vessel {
	if b.vessel != nil {
		if v := b.vessel(); v.known() {
			return v
		}
	}
	return Vessel40ml
}

// load returns an experiment's values; b.mu is held.
func (b *Bioreactor) load(exp string, conf *config.Config, vessel Vessel) (BioreactorValues, error) {
	if v, ok := b.exps[exp]; ok {
		return v, nil
	}
	v, err := BioreactorDefaults(conf, vessel)
	if err != nil {
		return v, err
	}
	var stored map[string]float64
	found, err := b.cache.get(cacheBioreactor, exp, &stored)
	if err != nil {
		return v, err
	}
	if found {
		for name, x := range stored {
			if p := v.field(name); p != nil {
				*p = x
			}
		}
	}
	b.exps[exp] = v
	return v, nil
}

// Values are an experiment's current values; conf gives the defaults of a new experiment.
func (b *Bioreactor) Values(exp string, conf *config.Config) (BioreactorValues, error) {
	vessel := b.Vessel()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.load(exp, conf, vessel)
}

// Update sets some variables at once (all or none), validated, and persists them.
func (b *Bioreactor) Update(exp string, conf *config.Config, changes map[string]float64) (old, now BioreactorValues, err error) {
	vessel := b.Vessel()
	b.mu.Lock()
	defer b.mu.Unlock()
	old, err = b.load(exp, conf, vessel)
	if err != nil {
		return old, old, err
	}
	now = old
	for name, x := range changes {
		p := now.field(name)
		if p == nil {
			return old, old, fmt.Errorf("unknown bioreactor variable %q", name)
		}
		*p = x
	}
	if err := now.Validate(vessel); err != nil {
		return old, old, err
	}
	return old, now, b.store(exp, now)
}

// Apply moves an experiment's values by one dosing event; Flush persists them.
func (b *Bioreactor) Apply(exp string, conf *config.Config, event string, ml float64) (BioreactorValues, error) {
	vessel := b.Vessel()
	b.mu.Lock()
	defer b.mu.Unlock()
	v, err := b.load(exp, conf, vessel)
	if err != nil {
		return v, err
	}
	now, err := v.Apply(event, ml, vessel)
	if err != nil {
		return v, err
	}
	b.exps[exp] = now
	b.dirty[exp] = true
	return now, nil
}

// Flush persists the experiments changed by Apply since the last flush.
func (b *Bioreactor) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for exp := range b.dirty {
		errs = append(errs, b.store(exp, b.exps[exp]))
	}
	return errors.Join(errs...)
}

func (b *Bioreactor) store(exp string, v BioreactorValues) error {
	b.exps[exp] = v
	delete(b.dirty, exp)
	if err := b.cache.put(cacheBioreactor, exp, v); err != nil {
		return fmt.Errorf("persist bioreactor values of %s: %w", exp, err)
	}
	return nil
}

// publishBioreactor publishes variables retained at QoS 2 on bioreactor/<variable>.
func publishBioreactor(ctx context.Context, rt *supervisor.Runtime, exp string, v BioreactorValues, names ...string) error {
	var errs []error
	for _, name := range names {
		x, ok := v.Get(name)
		if !ok {
			continue
		}
		topic := contract.BioreactorTopic(rt.Unit(), exp, name)
		if err := rt.Publish(ctx, topic, []byte(contract.FormatFloat(x)), pubsub.ExactlyOnce, true); err != nil {
			errs = append(errs, fmt.Errorf("publish %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

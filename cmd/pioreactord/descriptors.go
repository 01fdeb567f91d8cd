package main

import (
	"path/filepath"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/descriptor"
	"github.com/pioreactor/pioreactord/pkg/jobs"
)

// descriptorsOf renders a unit's UI descriptors: the built-ins from its job table once, the
// ui/ folders of $DOT_PIOREACTOR (the user's, then the plugins') whenever a file in them
// changed, so a dropped-in file shows at the next page load.
func (d *daemon) descriptorsOf(u *unit) func() descriptor.Set {
	base := descriptor.Builtin(u.sup.Specs(), descriptor.Options{Bioreactor: bioreactorBounds(u, d.conf), Simulation: d.opts.sim})
	dot := dotPioreactor()
	folders := []descriptor.Folder{
		{Path: filepath.Join(dot, "ui"), Source: "user"},
		{Path: filepath.Join(dot, "plugins", "ui"), Source: "plugins"},
	}
	return descriptor.NewLoader(base, d.log, folders...).Set
}

// bioreactorBounds are the unit's canonical bioreactor variables: the defaults of
// [bioreactor] and the ranges the bookkeeping accepts (volumes up to the vessel's capacity,
// the fraction up to 1, the cumulative volumes unbounded).
func bioreactorBounds(u *unit, conf *config.Config) map[string]descriptor.Bounds {
	if u.dosing == nil || u.dosing.Bioreactor == nil {
		return nil
	}
	vessel := u.dosing.Bioreactor.Vessel()
	defaults, err := jobs.BioreactorDefaults(conf, vessel)
	if err != nil {
		d, _ := jobs.BioreactorDefaults(config.LoadDefault(), vessel) // the bookkeeping refuses to start anyway
		defaults = d
	}
	capacity, one := vessel.CapacityML, 1.0
	out := map[string]descriptor.Bounds{}
	for _, name := range jobs.BioreactorVariables {
		x, _ := defaults.Get(name)
		b := descriptor.Bounds{Default: x}
		switch name {
		case contract.CurrentVolumeML, contract.EffluxTubeVolumeML:
			b.Max = &capacity
		case contract.AltMediaFraction:
			b.Max = &one
		}
		out[name] = b
	}
	return out
}

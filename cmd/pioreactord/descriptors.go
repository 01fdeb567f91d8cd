package main

import (
	"path/filepath"
	"sync"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/descriptor"
	"github.com/pioreactor/pioreactord/pkg/jobs"
)

// descriptorsOf renders a unit's UI descriptors: the built-ins from its job table, again
// when the unit's vessel changed (a model learned later moves the volume bounds), the ui/
// folders of $DOT_PIOREACTOR (the user's, then the plugins') whenever a file in them
// changed, so a dropped-in file shows at the next page load.
func (d *daemon) descriptorsOf(u *unit) func() descriptor.Set {
	conf, sim, log := d.conf, d.opts.sim, d.log
	dot := dotPioreactor()
	folders := []descriptor.Folder{
		{Path: filepath.Join(dot, "ui"), Source: "user"},
		{Path: filepath.Join(dot, "plugins", "ui"), Source: "plugins"},
	}
	var (
		mu     sync.Mutex
		vessel jobs.Vessel
		loader *descriptor.Loader
	)
	return func() descriptor.Set {
		var v jobs.Vessel // zero: no book, no bounds
		if u.dosing != nil && u.dosing.Bioreactor != nil {
			v = u.dosing.Bioreactor.Vessel()
		}
		mu.Lock()
		if loader == nil || v != vessel {
			var bounds map[string]descriptor.Bounds
			if v != (jobs.Vessel{}) {
				bounds = bioreactorBounds(v, conf)
			}
			base := descriptor.Builtin(u.sup.Specs(), descriptor.Options{Bioreactor: bounds, Simulation: sim})
			vessel, loader = v, descriptor.NewLoader(base, log, folders...)
		}
		l := loader
		mu.Unlock()
		return l.Set()
	}
}

// bioreactorBounds are the unit's canonical bioreactor variables: the defaults of
// [bioreactor] and the ranges the bookkeeping accepts (volumes up to the vessel's capacity,
// the fraction up to 1, the cumulative volumes unbounded).
func bioreactorBounds(vessel jobs.Vessel, conf *config.Config) map[string]descriptor.Bounds {
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

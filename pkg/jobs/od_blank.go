package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// ODBlank is the `od_blank` action (docs/jobs.md, "od_blank", docs/algorithms.md, "Blank"): it reads the vial
// (filled with media, not yet inoculated) n_samples times, stores the trimmed mean raw OD of
// each signal channel for the experiment, and publishes it on `od_blank/means`; od_reading
// then subtracts it. Option delete=true forgets the experiment's blank instead.
type ODBlank struct {
	cache     unitCache
	conf      *config.Config
	n         int
	interval  time.Duration
	intensity float64
	auto      bool
	delete    bool
	chain     *odChain
}

// odBlankJobName is the action's name on the wire.
const odBlankJobName = "od_blank"

// odBlankTrim is how many of the lowest and of the highest readings the blank drops.
const odBlankTrim = 2

// NewODBlankSpec is the action's job table entry; the blank is stored in d.CacheDir.
func NewODBlankSpec(d ODDeps) supervisor.Spec {
	return supervisor.Spec{Name: odBlankJobName, New: func(o supervisor.Options) (supervisor.Job, error) {
		return newODBlank(o, d)
	}}
}

func newODBlank(o supervisor.Options, d ODDeps) (*ODBlank, error) {
	if d.CacheDir == "" {
		return nil, errors.New("od_blank needs the unit's persistent cache, and this daemon has none")
	}
	var r collect
	n := r.float(o.Float("n_samples", 30))
	del := r.bool(o.Bool("delete", false))
	chain, emaWeight, err := odChainConfig(o.Config)
	if err := errors.Join(r.err(), err); err != nil {
		return nil, err
	}
	if n != math.Trunc(n) || n < 2*odBlankTrim+1 || n > 10000 {
		return nil, fmt.Errorf("n_samples %v must be a whole number from %d to 10000", n, 2*odBlankTrim+1)
	}
	ir, auto, err := irIntensity(o)
	if err != nil {
		return nil, err
	}
	const interval = 1.5 // s, as the reference's blank run
	mode := o.Config.String(odSection, "ref_normalization", "classic")
	if mode != "classic" && mode != "unity" {
		return nil, fmt.Errorf("[%s] ref_normalization %q must be classic or unity", odSection, mode)
	}
	chain.ref = newRefTracker(mode, emaWeight, interval, chain.refChannel != "")
	return &ODBlank{cache: unitCache{dir: d.CacheDir}, conf: o.Config, n: int(n), interval: seconds(interval),
		intensity: ir, auto: auto, delete: del, chain: chain}, nil
}

// Run implements supervisor.Job: it measures, stores, publishes and returns.
func (b *ODBlank) Run(ctx context.Context, rt *supervisor.Runtime) error {
	if err := rt.Declare(supervisor.Setting{Name: "means", Datatype: contract.JSON, Persist: true}); err != nil {
		return err
	}
	if b.delete {
		return b.forget(ctx, rt)
	}
	if running, err := rt.JobIsRunning(odReadingJobName); err != nil || running {
		return errors.Join(err, errors.New("OD Reading should be off. Perhaps try `pio kill --job-name od_reading`"))
	}
	if err := b.chain.attach(rt); err != nil {
		return err
	}
	if err := rt.Ready(ctx); err != nil {
		return err
	}
	if err := rt.StopOnAnyExperiment(ctx); err != nil {
		return err
	}
	stir, err := assistStirring(ctx, rt, b.conf)
	if err != nil {
		rt.Log().Warn("blank without stirring", "err", err)
	} else if stir != nil {
		if _, err := stir.reach(ctx, 500, 50, 40*time.Second); err != nil && ctx.Err() == nil {
			rt.Log().Warn("stirring did not settle", "err", err)
		}
	}
	samples, err := b.collect(ctx, rt)
	if err != nil || ctx.Err() != nil {
		return err // a stop request ends the action without a blank
	}
	means := map[string]float64{}
	for ch, v := range samples {
		means[ch] = trimmedMean(v, odBlankTrim)
		if means[ch] == 0 {
			rt.Log().Warn(fmt.Sprintf("OD reading for channel %s is 0.0 - that's noteworthy, and possibly problematic.", ch))
		}
	}
	if err := b.cache.put(cacheODBlank, rt.Experiment(), means); err != nil {
		return err
	}
	payload, err := json.Marshal(means)
	if err != nil {
		return fmt.Errorf("encode the blank: %w", err)
	}
	if err := rt.Set(ctx, "means", json.RawMessage(payload)); err != nil {
		return err
	}
	rt.Log().Info(fmt.Sprintf("OD blank means: %s.", payload))
	return nil
}

// collect takes n readings, one per interval, and returns the raw OD of each signal channel.
func (b *ODBlank) collect(ctx context.Context, rt *supervisor.Runtime) (map[string][]float64, error) {
	if err := b.chain.readDark(ctx); err != nil {
		return nil, err
	}
	if b.auto {
		volts, err := b.chain.snapshot(ctx, b.intensity)
		if err != nil {
			return nil, fmt.Errorf("tune the IR intensity: %w", err)
		}
		b.intensity = b.chain.autoIntensity(b.intensity, volts)
	}
	samples := map[string][]float64{}
	timer := newRepeat(ctx, rt.Clock(), 0, b.interval)
	defer timer.Stop()
	for taken := 0; taken < b.n; {
		select {
		case <-ctx.Done():
			return nil, nil
		case c := <-rt.Commands():
			rt.Apply(ctx, c)
		case <-timer.C:
			volts, err := b.chain.snapshot(ctx, b.intensity)
			if err != nil {
				return nil, err
			}
			raw, _, noisy, err := b.chain.normalise(volts)
			if err != nil {
				return nil, err
			}
			if noisy {
				continue // a rejected REF reading: take another
			}
			for ch, v := range raw {
				samples[ch] = append(samples[ch], v)
			}
			taken++
		}
	}
	return samples, nil
}

// forget deletes the experiment's blank and clears its retained means.
func (b *ODBlank) forget(ctx context.Context, rt *supervisor.Runtime) error {
	if err := b.cache.put(cacheODBlank, rt.Experiment(), nil); err != nil {
		return err
	}
	if err := rt.Set(ctx, "means", nil); err != nil {
		return err
	}
	rt.Log().Info("Deleted the OD blank.")
	return nil
}

// trimmedMean drops the k smallest and k largest values and averages the rest
// (docs/algorithms.md, "Blank"); with too few values to trim it averages them all.
func trimmedMean(v []float64, k int) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) > 2*k {
		s = s[k : len(s)-k]
	}
	return odMean(s)
}

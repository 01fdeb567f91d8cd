package jobs

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/hal/sim"
	"github.com/pioreactor/pioreactord/pkg/pubsub"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// dosingRig is a simulated unit with the pump actions, the dosing automation, the bioreactor
// projection and the OD jobs, and a recorder of every dosing event. Build it inside a
// synctest bubble.
type dosingRig struct {
	*simRig
	dosing   *Dosing
	cacheDir string
	events   *eventLog
}

// eventLog records the unit's dosing events in arrival order.
type eventLog struct {
	mu     sync.Mutex
	events []contract.DosingEvent
}

func (l *eventLog) all() []contract.DosingEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]contract.DosingEvent(nil), l.events...)
}

// volumes are the volume changes of one event name (all if event is "").
func (l *eventLog) volumes(event string) []float64 {
	var out []float64
	for _, e := range l.all() {
		if event == "" || e.Event == event {
			out = append(out, float64(e.VolumeChange))
		}
	}
	return out
}

func (l *eventLog) sum(event string) float64 {
	var s float64
	for _, v := range l.volumes(event) {
		s += v
	}
	return s
}

func newDosingRig(t *testing.T, p sim.Params, overrides ...[3]string) *dosingRig {
	t.Helper()
	return newDosingRigIn(t, p, nil, overrides...)
}

// newDosingRigIn is newDosingRig for a unit whose model is vessel's (nil: unknown).
func newDosingRigIn(t *testing.T, p sim.Params, vessel func() Vessel, overrides ...[3]string) *dosingRig {
	t.Helper()
	cacheDir := t.TempDir()
	d, err := NewDosing(filepath.Join(t.TempDir(), "calibrations"), cacheDir, vessel)
	if err != nil {
		t.Fatal(err)
	}
	specs := []supervisor.Spec{NewAddMediaSpec(d), NewAddAltMediaSpec(d), NewRemoveWasteSpec(d),
		NewCirculateMediaSpec(d), NewCirculateAltMediaSpec(d), NewDosingAutomationSpec(d, testDosingAutomations()), NewBioreactorSpec(d),
		NewODReadingSpec(ODDeps{CacheDir: cacheDir}), NewGrowthRateSpec(ODDeps{CacheDir: cacheDir}), NewStirringSpec(nil), NewPumpsSpec(d)}
	r := &dosingRig{simRig: newRig(t, rigConfig{specs: specs, params: &p, overrides: overrides}),
		dosing: d, cacheDir: cacheDir, events: &eventLog{}}
	obs, err := r.bus.Dial(context.Background(), pubsub.Options{ClientID: "dosing-observer"})
	if err != nil {
		t.Fatal(err)
	}
	if err := obs.Subscribe(context.Background(), contract.DosingEventsFilter("pio01"), pubsub.ExactlyOnce, func(m pubsub.Message) {
		var e contract.DosingEvent
		if json.Unmarshal(m.Payload, &e) != nil {
			return // tests publish malformed events on purpose
		}
		r.events.mu.Lock()
		r.events.events = append(r.events.events, e)
		r.events.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(obs.Close)
	return r
}

// calibrate saves and activates a pump calibration of slope mL/s.
func (r *dosingRig) calibrate(device string, slope float64) {
	r.t.Helper()
	c := calibration.DefaultPump()
	c.Name, c.Unit, c.Curve = device+"-cal", "pio01", calibration.PolyCurve(slope, 0)
	if _, err := r.dosing.Calibrations.Save(device, c); err != nil {
		r.t.Fatal(err)
	}
	if err := r.dosing.Calibrations.SetActive(device, c.Name); err != nil {
		r.t.Fatal(err)
	}
}

// calibrateTruly gives every pump the calibration a perfect calibration run would find: the
// simulated pump's true flow.
func (r *dosingRig) calibrateTruly() {
	flows := r.plant.Truth().PumpFlowMLPerS
	for dev, ch := range map[string]string{calibration.MediaPump: "2", calibration.AltMediaPump: "3", calibration.WastePump: "4"} {
		r.calibrate(dev, flows[ch])
	}
}

// bio reads a retained bioreactor variable of exp.
func (r *dosingRig) bio(variable string) float64 {
	r.t.Helper()
	b, ok := r.bus.Retained(contract.BioreactorTopic("pio01", "exp", variable))
	if !ok {
		return math.NaN()
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		r.t.Fatalf("bioreactor/%s = %q", variable, b)
	}
	return v
}

// latestEvent decodes dosing_automation's retained latest_event.
func (r *dosingRig) latestEvent() contract.AutomationEvent {
	var e contract.AutomationEvent
	if s := r.retained(dosingJobName, "latest_event"); s != "" {
		if err := json.Unmarshal([]byte(s), &e); err != nil {
			r.t.Fatalf("latest_event %q: %v", s, err)
		}
	}
	return e
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

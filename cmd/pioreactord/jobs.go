package main

import (
	"path/filepath"

	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// unitJobs is the job table of one unit. dir holds the unit's calibrations and caches (one
// calibration store per folder per process, shared with the API). workers is the leader's
// inventory on the leader's own unit (its monitor watches for lost workers), else nil.
// vessel is the unit's model now (unitModel.vessel), which the dosing guards ask at each check.
func unitJobs(dir string, simulated bool, workers jobs.WorkerLiveness, vessel func() jobs.Vessel) ([]supervisor.Spec, *jobs.Dosing, error) {
	cache := filepath.Join(dir, "cache")
	dosing, err := jobs.NewDosing(filepath.Join(dir, "calibrations"), cache, vessel)
	if err != nil {
		return nil, nil, err
	}
	dosing.Estimators = filepath.Join(dir, "estimators")
	od := jobs.ODDeps{CacheDir: cache, Calibrations: dosing.Calibrations, Simulated: simulated, Estimators: dosing.Estimators}
	monitor := jobs.NewMonitorSpec(version)
	if workers != nil {
		monitor = jobs.NewLeaderMonitorSpec(version, workers)
	}
	table := []supervisor.Spec{
		monitor,
		jobs.NewBioreactorSpec(dosing),
		jobs.NewStirringSpec(dosing.Calibrations),
		jobs.NewODReadingSpec(od),
		jobs.NewGrowthRateSpec(od),
		jobs.NewTemperatureAutomationSpec(jobs.TemperatureAutomations()),
		jobs.NewDosingAutomationSpec(dosing, jobs.DosingAutomations()),
		jobs.NewLEDAutomationSpec(jobs.LEDAutomations()),
		jobs.NewLEDIntensitySpec(),
		jobs.NewAddMediaSpec(dosing),
		jobs.NewAddAltMediaSpec(dosing),
		jobs.NewRemoveWasteSpec(dosing),
		jobs.NewCirculateMediaSpec(dosing),
		jobs.NewCirculateAltMediaSpec(dosing),
		jobs.NewPumpsSpec(dosing),
		jobs.NewODBlankSpec(od),
		jobs.NewSelfTestSpec(od),
	}
	return jobs.Describe(append(table, testJobs...)), dosing, nil
}

// testJobs are appended to every unit's job table. Only tests set them (before starting a
// daemon, restored after it stopped), to show that a job added to the table reaches the
// dashboard through the descriptors with no UI change.
var testJobs []supervisor.Spec

// autostart are the long-running jobs every unit runs from the start.
var autostart = []string{"monitor", jobs.BioreactorJobName}

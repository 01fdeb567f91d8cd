// Package jobs holds the unit's jobs and automations. Jobs see only the supervisor's Runtime,
// the hal interfaces, the clock and the contract; never the broker, the HTTP server or the
// store.
//
// Layout: every file is named by its family (automation_, bioreactor_, dosing_, growthrate_,
// led_, monitor_, od_, pump_, selftest_, stirring_, temperature_). A job lives in the file
// named after it (od_reading.go, dosing_automation.go, temperature_automation.go, stirring.go,
// ...), its parts and algorithms in <family>_<part>.go beside it, and its tests in the
// matching _test.go. What every family shares sits in a few unprefixed files: errors.go (the
// sentinel errors), durations.go (range checks), cache.go, collect.go, timer.go and ui.go.
// Tests build their simulated unit with the one rig in rig_test.go (newRig and its
// rigConfig); a family's rig (dosing_rig_test.go, od_rig_test.go) only picks its jobs and adds
// its own helpers.
//
// Every job declares its table entry one way, beside its type: func NewXSpec(deps) supervisor.Spec,
// whatever the job needs (directories, calibrations, automation registries) passed in as
// arguments and captured by Spec.New; no job spec is a package variable, and no test
// mutates a production table (automation families take their registry: DosingAutomations,
// TemperatureAutomations, LEDAutomations; a test hands in its own copy).
//
// Every job follows the same shape: New checks options and configuration (an error refuses
// the start before anything is published); Run declares settings, claims hardware, calls
// rt.Ready, then loops on its timers and rt.Commands() until the context ends.
//
// Invariants: every duration a user gives (option, /set, config) is range-checked once, in
// durations.go, so no timer ever runs back to back; a job stops its timers (repeat.Stop waits
// for their goroutine) before Run returns; the bioreactor book is on disk before the values
// it produced are published.
package jobs

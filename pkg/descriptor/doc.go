// Package descriptor renders what a dashboard needs to draw a unit's activities: job,
// settings-collection, automation and chart descriptors, in the JSON shapes the original
// dashboard reads. The built-ins come from the job table (supervisor.Spec.UI) and from the
// chart list here; YAML files a user or a plugin drops in a ui/ folder are read after them
// and replace a built-in with the same key.
//
// Invariants:
//   - Nothing is kept twice: a job's descriptor is rendered from its Spec, so a setting
//     added to a job reaches the dashboard without a YAML file to keep in step.
//   - A file that does not parse or does not validate is skipped whole, logged at ERROR
//     with its path and the line of the mistake; the others still load.
//   - Keys are unique in each kind after loading: job_name, key, automation_name (per
//     automation type) and chart_key; the later definition wins, in the built-in order.
//   - A Set is immutable once loaded; readers share it without locks.
package descriptor

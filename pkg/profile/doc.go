// Package profile owns experiment profiles: the YAML model decoded from yaml.v3 nodes (so every
// diagnostic names its line and column), validation, the expression language of conditions and
// option values, and the scheduler that carries a profile out against a cluster.
//
// Invariants:
//   - a profile with an error diagnostic never runs: Load reports every diagnostic, Run refuses;
//   - the scheduler is single-threaded and runs on the injected clock, so a profile follows the
//     daemon's (possibly virtual) time; actions may be delayed by slow units, never reordered;
//   - an action is performed at most once: a run interrupted by a restart is marked so in the
//     journal and never resumed or replayed;
//   - the package reaches units only through the Cluster interface and reads live values only
//     through Values, so it knows nothing of HTTP or MQTT clients.
package profile

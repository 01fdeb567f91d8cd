// Package config owns the daemon's view of config.ini and unit_config.ini (docs/config.md): the
// INI dialect, the layering of the unit file over the shared file, the derived sections, per-run
// overrides, typed accessors, the strict validation used by the config editors, and the shipped
// default template (default_config.ini, embedded; deploy/config.ini is an identical copy).
//
// Parsing is done by gopkg.in/ini.v1, configured to behave like Python's configparser as the
// original software configures it (parse.go lists what differs and what is bridged here).
//
// Invariants:
//   - A *Config is immutable once built: reads never lock and never change it, With returns a
//     new snapshot. Jobs take a snapshot when they start; a reload replaces the daemon-wide
//     pointer and never touches a running job's snapshot.
//   - Keys and section names are case-sensitive. [DEFAULT] keys are visible in every section.
//   - Values are interpolated (%(key)s, %%) once, when the snapshot is built; a value that does
//     not interpolate keeps its raw text for String and is an error for every typed read.
//   - [leds_reverse], [PWM_reverse], the leader's [cluster.addresses] entry and the pruned
//     [od_config.photodiode_channel] are derived from the effective values (after overrides)
//     and never written to disk.
package config

// Package store is pioreactord's persistence on bbolt, and the only package that imports
// bbolt. It owns the leader's tables (experiments, inventory, assignments and their history,
// unit labels; spec/storage.md §2.4) and every unit's job registry with its settings mirror
// (spec/mqtt.md §6.2). A later layer adds the time series, ingestion and exports.
//
// One schema serves every file: the daemon may keep everything in one file or, as
// storage.md §8 proposes, put the job registry in a separate file on tmpfs (Options.NoSync)
// so it is wiped on reboot. Unused buckets cost a few bytes.
//
// # Bucket layout (schema version 1)
//
//	meta/                          schema_version -> uint64 BE; created_at -> text
//	experiments/                   <exp> -> {created_at, description, tags[], seq}
//	experiments_by_seq/            <seq BE> -> <exp>         insertion order; last = latest
//	experiment_data/<exp>/         everything scoped to one experiment (see below)
//	  unit_labels/                 <unit> -> {label, created_at}
//	workers/                       <unit> -> {added_at, is_active, model_name, model_version}
//	assignments/                   <unit> -> {experiment, assigned_at, history_seq}
//	assignment_history/            <seq BE> -> {pioreactor_unit, experiment, assigned_at, unassigned_at}
//	jobs/                          <job_id BE> -> contract.JobRow
//	jobs_running/                  <job_id BE> -> ""         index of is_running = 1
//	job_settings/<job_id BE>/      <setting> -> value text
//
// Planned (a later migration): experiment_data/<exp>/ gains ts/<table>/<unit>/,
// events/<table>/<unit>/, logs/, activity/<unit>/ and profile_runs/, keyed
// <unix µs BE><seq BE> so that keys sort by time and equal times keep insertion order
// (SQLite's rowid tie-break); top level gains logs_by_unit/, config_history/<file>/,
// kv/<namespace>/ and tasks/. Putting every experiment-scoped family under one
// experiment_data/<exp> bucket makes the ON DELETE CASCADE of the original one DeleteBucket
// that no new table can be forgotten in. `$experiment` has a subtree but no experiments
// row, so it can never be deleted.
//
// # Encoding
//
// Numeric and time keys are big-endian so bbolt's bytewise order is numeric order; names
// (experiment, unit, setting) are keys verbatim, so lists come back sorted by name. Values
// of these small tables are JSON of private record types, kept apart from the exported
// structs so the API's shape can change without touching the file format. Times are stored
// as the contract's UTC millisecond text (YYYY-MM-DDTHH:MM:SS.mmmZ; "" for none), so
// precision beyond the millisecond is dropped on write. The time series will use compact
// binary values (a float64 plus the original timestamp text) instead: there are millions.
//
// # Invariants
//
//   - The schema version in meta is the number of migrations the file has run. Open runs
//     the missing ones in a single write transaction (all or nothing) and refuses a file
//     from a newer binary (ErrSchemaTooNew), a bbolt file without our meta bucket
//     (ErrForeign) and garbage (ErrCorrupt). Migrations are append-only.
//   - A worker is in at most one experiment (assignments is keyed by unit). Both ends of an
//     assignment exist when it is written. Every assignment that ends, directly, by
//     replacement or by a cascade from deleting its worker or experiment, closes its open
//     history interval in the same transaction; history itself is never deleted.
//   - A label is held by at most one unit per experiment.
//   - jobs_running holds exactly the job_ids whose row has is_running = 1. job_ids come from
//     the jobs bucket's sequence and are never reused in a file.
//   - Reads copy everything out of the transaction (JSON decoding and string conversion
//     copy): no returned value aliases bbolt's memory map.
//   - Open waits at most Options.Timeout for another process's file lock (ErrLocked).
package store

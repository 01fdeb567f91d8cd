// Package store is pioreactord's persistence on bbolt, and the only package that imports
// bbolt. It owns the leader's tables (experiments, inventory, assignments and their history,
// unit labels; docs/data.md, "Experiments and inventory") and every unit's job registry with its settings mirror
// (docs/mqtt.md, "Job registry"), the data tables the leader's streamer writes (time series, events,
// automation settings history, logs; docs/data.md, "Time series", "Events" and "Automation settings history") with their chart, log and
// export queries, hot backups, and a worker's outbox spool.
//
// One schema serves every file: the daemon may keep everything in one file or, as
// docs/storage.md, "Layout and encoding (pkg/store)" proposes, put the job registry in a separate file on tmpfs (Options.NoSync)
// so it is wiped on reboot. Unused buckets cost a few bytes.
//
// # Bucket layout (schema version 2)
//
//	meta/                          schema_version -> uint64 BE; created_at -> text
//	experiments/                   <exp> -> {created_at, description, tags[], seq}
//	experiments_by_seq/            <seq BE> -> <exp>         insertion order; last = latest
//	experiment_data/<exp>/         everything scoped to one experiment (see below)
//	  unit_labels/                 <unit> -> {label, created_at}
//	  <table>/<unit>/              <unix µs BE>[<n BE16>] -> packed row    (schema 2)
//	  <table>/<unit>/<channel>/    the same, for od_readings, raw_od_readings, od_blanks
//	workers/                       <unit> -> {added_at, is_active, model_name, model_version}
//	assignments/                   <unit> -> {experiment, assigned_at, history_seq}
//	assignment_history/            <seq BE> -> {pioreactor_unit, experiment, assigned_at, unassigned_at}
//	jobs/                          <job_id BE> -> contract.JobRow
//	jobs_running/                  <job_id BE> -> ""         index of is_running = 1
//	job_settings/<job_id BE>/      <setting> -> value text
//	outbox/count                   entries in outbox/entries, uint64 BE   (schema 2)
//	outbox/entries/                <seq BE> -> uvarint(µs) text(topic) payload
//
// Every experiment-scoped family lives under one experiment_data/<exp> bucket, so the ON
// DELETE CASCADE of the original is one DeleteBucket that no new table can be forgotten
// in. `$experiment` (and an experiment the ingester saw before it was created) has a
// subtree but no experiments row, so it can never be deleted.
//
// # Time series (schema 2)
//
// A data table (tables.go) keeps one bucket per (experiment, table, unit[, channel]): the
// units of a chart are the bucket names, and a series is read with cursor seeks. A row's
// key is its time in unix microseconds, big-endian, so keys sort by time; rows of one
// series at the same microsecond get a 2-byte suffix 1, 2, ... (SQLite's rowid
// tie-break, without 8 bytes of sequence on every row). The value packs the remaining
// columns (codec.go): float64 as 8 bytes, integers as varints, text length-prefixed;
// experiment, unit and channel are the bucket names and the timestamp text is rebuilt
// from the key (rows are stored at millisecond precision, the contract's text form), so
// an OD reading costs 8 + 10 bytes plus bbolt's 16-byte element header: about 36 bytes
// with pages (bench_test.go). Series buckets fill pages completely (FillPercent 1): rows
// mostly arrive in time order.
//
// A row identical to a stored one (same series, microsecond and values) is a replay and
// is not stored again: redelivered MQTT messages and workers' outbox replays are
// harmless. Long reads (exports) go in chunks of short read transactions (Rows), so they
// never hold up the writer's remaps, and let go of the memory-mapped pages they read.
//
// # Encoding
//
// Numeric and time keys are big-endian so bbolt's bytewise order is numeric order; names
// (experiment, unit, setting) are keys verbatim, so lists come back sorted by name. Values
// of these small tables are JSON of private record types, kept apart from the exported
// structs so the API's shape can change without touching the file format. Times are stored
// as the contract's UTC millisecond text (YYYY-MM-DDTHH:MM:SS.mmmZ; "" for none), so
// precision beyond the millisecond is dropped on write. The data tables use the packed
// binary values above instead: there are millions of rows.
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
//   - Writes of data rows go through Insert or a Writer: one transaction per batch, every
//     row committed (fsync) before it is acknowledged, so kill -9 loses nothing that was
//     acknowledged and never leaves a torn file (crash_test.go).
//   - Open waits at most Options.Timeout for another process's file lock (ErrLocked).
package store

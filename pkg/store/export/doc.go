// Package export writes the CSV/ZIP export of docs/data.md, "Exports" from the store: the
// built-in datasets (one per data table, the automation settings with their decoded
// settings, unit labels, experiments, and the activity data and its per-minute rollup,
// which are computed by merging tables instead of being stored twice), schema.json per
// dataset and manifest.json.
//
// Invariants:
//   - Memory is constant whatever the export's size: rows are read in chunks of short
//     read transactions (store.Rows) and streamed through a bounded set of buffers.
//   - Columns and header names are the reference's; CSV cells follow its rules (floats
//     rounded to 12 places and printed as Python prints them, NULL empty).
//   - The exporter never writes to the store.
package export

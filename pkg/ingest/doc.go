// Package ingest is the leader's MQTT → store streamer, the reference's
// mqtt_to_db_streaming job (docs/data.md, "Ingestion", docs/mqtt.md, "Stored topics"): it subscribes to the
// data topics of every unit and writes each message as a row of its table.
//
// Invariants:
//   - Retained messages (the broker's replays on subscribe), empty payloads and topics of
//     _testing_ experiments are never stored; each is counted.
//   - A payload that does not parse is logged (at most maxWarnings per period), counted
//     and skipped; it never stops the streamer.
//   - Rows are written through one store.Writer, so a transaction carries every row that
//     arrived within its delay; handlers only map and queue.
//   - Storing is idempotent: a message delivered twice (QoS 1, or a worker's outbox
//     replaying it) maps to an identical row, which the store drops. Replayed batches are
//     acknowledged only once their rows are committed (protocol.go).
//   - The streamer's retained $state says ready only while it is subscribed and its
//     latest commit worked: workers' outboxes hold their data back whenever it does not.
//     A failed commit says sleeping, is logged (the first at once) and reported in
//     Stats.Fault; the streamer writes the failed rows again every few seconds and says
//     ready once a commit works.
//   - A log message is stored with at most MaxLogMessage bytes; a dosing event's
//     volume_change must lie in [MinVolumeChangeML, MaxVolumeChangeML] (else malformed):
//     the top is contract.MaxDoseML, the bound of the unit's own book.
//   - At start the streamer republishes every current assignment, retained, from the
//     store: a restarted broker has forgotten them.
//   - A clean stop is not an error: handlers still running finish their writes, the
//     writer commits them, and no goroutine the streamer started outlives Run.
package ingest

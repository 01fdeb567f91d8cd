// Package outbox keeps a worker's data messages on disk until the leader has stored
// them: the zero-loss half of issue 4 that the reference lacks (its workers lose every
// reading published while the leader or the network is away).
//
// The Outbox wraps the unit's MQTT connections (Dialer, Wrap). A data message (one the
// leader's streamer stores: ingest.Stored) is still published live, for the dashboard
// and the unit's other jobs, and is also written to a bounded on-disk spool (its own
// bbolt file, store.Outbox) whenever the leader may not have stored it:
//
//   - the link is down: a publish failed or timed out, or the probe (a QoS 1 publish
//     every second on the Outbox's own connection) did;
//   - the streamer is not ready (its retained $state, ingest.StateTopic, says anything
//     but ready, or has not been seen since the link came back);
//   - it was delivered within Grace before either was noticed: a message the broker
//     acknowledged may still have died with it.
//
// When the link is up and the streamer ready, Run replays the spool oldest first, in
// batches on ingest.ReplayTopic of at most Batch messages and MaxBytes bytes (a replay the
// broker refuses as too large would be sent again forever); a batch leaves the spool only
// when the streamer acknowledges it after committing its rows. A message too large for a
// batch on its own is dropped, counted and logged. Whatever is sent twice is dropped by the
// store (store.Insert), so each row is stored once.
//
// Invariants:
//   - A message whose payload carries no time (bioreactor variables, latest_event,
//     pwms/dc, profile names) maps to a different row at each delivery, so it is sent
//     at most once more: spooled only when it certainly did not reach the broker, never
//     kept for Grace. Its replay carries its publication time, which the streamer uses.
//   - The spool holds at most MaxEntries; beyond it the oldest are dropped, counted and
//     logged. It survives restarts: Run replays what an earlier run left.
//   - Publish never waits for the broker: a data message or a retained non-data one ($state,
//     a setting) is published by the sender, one goroutine of Run, in order (sender.go).
//     While the link is down a data message is spooled at once and a retained non-data
//     one held, the latest per topic, and published when the link is back; no value
//     older than one already published is ever sent. A data setting published while the
//     link is down (od_reading's od1, say) is replayed for the store but not retained
//     again: the job's next publication refreshes the retained value. Non-retained
//     non-data messages (commands, events) pass through untouched, synchronously.
//   - Publish returns an error only when the spool cannot be written; every spool failure
//     is counted, logged (the first at once) and reported in Stats.Fault until a write
//     works again.
//   - A clean stop (Run's context ends) is no outage: the sender publishes what is still
//     queued, then Run replays the spool if the gate is open, each within Timeout, so a
//     worker stopped on a healthy link leaves nothing behind; nothing delivered is spooled.
//     A data message published after that is spooled for the next start.
//   - Probe, Timeout, AckTimeout and Grace are wall time, whatever Clock says.
//   - No goroutine the Outbox starts outlives Run.
package outbox

// Package task is the registry behind /unit_api/task_results/<id> (docs/http.md, "Tasks"): work
// the API answers 202 for runs here in the background and leaves an outcome to poll.
//
// Invariants: an id is pending until its function returns, then succeeded or failed for
// good; outcomes are kept after being read, up to a bounded number of finished tasks
// (oldest evicted first), so a poller never sees a result vanish between two reads. An
// unknown or evicted id reads as pending, as in the original. Every task runs on the
// registry's context, which Close cancels before waiting for them all; a task's panic fails
// that task instead of the daemon. No HTTP here: the api package renders outcomes.
package task

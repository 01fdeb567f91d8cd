// Package api is pioreactord's HTTP API on echo: the per-unit /unit_api that every daemon
// serves and, on the leader, /api (docs/http.md). Echo stays inside this package: callers
// get an http.Handler and Serve.
//
// Invariants:
//   - Every error, whether a handler's, a decoder's or echo's own 404/405, leaves through one
//     handler as the envelope of docs/http.md, "Error envelope" {error, status, cause[, remediation]}.
//   - Bodies are decoded strictly (§1.3) and capped (DefaultBodyLimit, 413 beyond); only
//     the run body tolerates unknown fields.
//   - Work that crosses units or takes long answers 202 and runs as a task (package task);
//     its outcome is polled at /unit_api/task_results/<id> on the unit that queued it.
//   - The leader never changes a job's state by calling a unit: stop and settings go over
//     MQTT (Publisher) and the unit HTTP fan-out (package cluster) is the fallback.
//   - A unit's Run is only ever called from a task; its ctx bounds the wait for startup,
//     never the job's life, which belongs to the supervisor.
//   - With Config.APIKey set, no route answers without it (401), health included; only the
//     dashboard's page and assets (Config.Dashboard) load without it, to show its login form.
//   - The config routes write only Config.ConfigFiles' two paths, atomically, and only text
//     that validated; a refused text changes nothing.
//   - `$broadcast` expands to the inventory (and the leader where the route says so), never
//     to an address a request supplied.
package api

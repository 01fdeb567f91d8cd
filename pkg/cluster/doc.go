// Package cluster is the leader's HTTP client to the other units' /unit_api (docs/http.md,
// "Fan-out"): it calls a list of units concurrently and folds every answer into the fan-out
// envelope the dashboard reads, {"<unit>": {"ok": true, "unit": .., "value": ..}} or a
// failure carrying an error kind, the HTTP status and whether a retry may help.
//
// Invariants:
//   - Do never returns an error: every unit gets exactly one Result, failures included, so a
//     dead unit cannot hide the answers of the others.
//   - A unit answering 202 with a result_url_path is polled until its task is terminal or
//     the route timeout is spent; the task's result, not the 202, becomes the value.
//   - GET results are sorted by unit name; other methods keep the order units were given in.
//     An empty unit list yields an empty Results, which marshals as {}.
//
// How a unit name becomes an address ([cluster.addresses], <unit>.local, a simulated
// worker's port) is the Resolver's business, injected by the daemon; UnitURL is the rule a
// config-based Resolver applies (an address may carry its own port). No echo here.
package cluster

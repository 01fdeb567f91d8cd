// Package jobs holds one file per job and automation. Jobs see only the supervisor's Runtime,
// the hal interfaces, the clock and the contract; never the broker, the HTTP server or the
// store.
//
// Every job follows the same shape: New checks options and configuration (an error refuses
// the start before anything is published); Run declares settings, claims hardware, calls
// rt.Ready, then loops on its timers and rt.Commands() until the context ends.
//
// Invariants: every duration a user gives (option, /set, config) is range-checked once, in
// durations.go, so no timer ever runs back to back; a job stops its timers (repeat.Stop waits
// for their goroutine) before Run returns; the bioreactor book is on disk before the values
// it produced are published.
package jobs

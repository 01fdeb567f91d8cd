// Package jobs holds one file per job and automation. Jobs see only the supervisor's Runtime,
// the hal interfaces, the clock and the contract; never the broker, the HTTP server or the
// store.
//
// Every job follows the same shape: New checks options and configuration (an error refuses
// the start before anything is published); Run declares settings, claims hardware, calls
// rt.Ready, then loops on its timers and rt.Commands() until the context ends.
package jobs

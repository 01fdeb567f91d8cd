// Package control holds the numeric helpers shared by control loops: the reference's PID
// controller and exponential moving average (spec/algorithms.md §2, jobs.md §0.3). Pure
// functions of their inputs, no time or I/O.
package control

// Package control holds the numeric helpers shared by control loops: the reference's PID
// controller and exponential moving average (docs/algorithms.md, "PID controller"). Pure
// functions of their inputs, no time or I/O.
package control

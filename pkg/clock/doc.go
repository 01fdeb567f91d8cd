// Package clock is the only source of time for jobs, the simulation and anything that
// stamps a payload. Real is the wall clock; Scaled runs virtual time faster than the wall
// clock (the simulation's --speed). Tests get virtual time by running Real inside a
// testing/synctest bubble, so no fake clock is needed here.
//
// Invariant: virtual time never goes backwards, and a Scaled clock at speed 1 behaves
// like Real.
package clock

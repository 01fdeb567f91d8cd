// Package simtruth publishes what a simulated Pioreactor really is doing — true OD, growth
// rate, liquid and heater temperatures, volume, stir speed, alt-media fraction — so that a
// chart, a class or a check outside the process can set the jobs' estimates beside it
// (docs/simulation-truth.md).
//
// It exists only under `pioreactord --sim`: the daemon builds a Publisher for each unit
// that has a simulated bioreactor and for no other.
//
// Invariants:
//   - The truth is sampled on the injected clock every Config.Every, straight from the
//     plant (sim.Bioreactor.Truth), and the payload's timestamp is the plant's own instant,
//     so a reader can compare it with the jobs' readings of the same instant.
//   - It is published retained at pioreactor/<unit>/<experiment>/simulation/truth only
//     while the unit is assigned to an experiment. When the assignment changes or ends, and
//     when Run returns, the retained value of the old experiment is cleared: a truth topic
//     never outlives the simulation or the assignment it describes.
//   - Latest answers the last sample whether or not the unit is assigned.
package simtruth

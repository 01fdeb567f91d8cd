// Package simbench runs a day of a three-unit simulated experiment (stirring, OD reading,
// growth rate, a 30 °C thermostat and a turbidostat on each unit) in virtual time and prints
// how fast it ran and how well each loop controlled. `make sim-bench` runs it; it is skipped
// in `make test` (set SIM_BENCH=1 to run it with go test).
package simbench

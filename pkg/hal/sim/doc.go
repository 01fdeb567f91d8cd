// Package sim is a simulated Pioreactor: a plant model (culture, liquid, heat, stir bar,
// optics) behind the hal device interfaces, so the daemon's jobs run unchanged against it —
// interactively on a Scaled clock, and in CI in virtual time inside a testing/synctest bubble.
// It implements the proposal of docs/simulation.md, "Model" at the level of hal devices (not of
// I²C registers).
//
// The model, with every constant in Params:
//
//   - Growth (growth.go): dX/dt = (μ − k_d)·X − (F_in/V)·X with
//     μ = μ_opt·γ(T_l)·(1 − X/K)·lag·inhibition (logistic, default) or S/(K_s + S) in place of
//     the logistic term (Monod, substrate consumed at μX/Y). γ is the cardinal temperature model,
//     the lag is Baranyi's, inhibition comes from a compound carried by alt media only.
//   - Liquid (pumps.go): pump flow = Q·(1 + ε)·duty/100 with a per-pump calibration error ε
//     drawn once and a per-dose jitter; media and alt media flow in, waste removes liquid only
//     above the efflux tube, liquid above capacity spills over and is counted.
//   - Heat (thermal.go): a heating-PCB node (what the TMP1075 reads, quantised to 0.0625 °C)
//     coupled to a liquid node, both losing heat to the room; fresh media enters at room
//     temperature.
//   - Stirring (motor.go): first-order motor with dead band, break-away and stall; the hall
//     sensor reports one falling edge per revolution with 1 % jitter.
//   - Optics (optics.go): scatter/transmission/REF photodiode voltages from the IR intensity,
//     X with multiple-scattering saturation, a per-unit gain and an LED output factor (aging,
//     temperature) that REF shares, plus dark offset, leakage, noise with AR(1) and shocks, and
//     a mixing artefact after each dose.
//
// Invariants:
//   - The plant advances lazily: every device access (and Truth) first integrates it up to
//     clock.Now(); there are no background goroutines, and waiting happens only through the
//     clock, never while holding the plant's mutex.
//   - Inputs change only at device accesses, so within a step they are constant: the motor,
//     the dilution and the heater node (given the liquid) use exact solutions; the liquid
//     temperature and growth use exponential Euler, the substrate explicit Euler. Steps are
//     Params.Step (0.25 s) while anything is moving and Params.QuietStep (5 s) once the
//     heater's fast mode and the motor have settled; the last step lands exactly on now.
//   - Volume: never above CapacityML, never pushed below EffluxVolumeML by the waste pump; X·V
//     changes only by growth, death, waste and overflow.
//   - Determinism: all randomness comes from per-component generators (one per pump, per
//     photodiode channel, the thermometer, the hall sensor, the unit's optical gains) derived
//     from Params.Seed and the component's name; the same seed and the same sequence of device
//     accesses (times and order) give the same readings.
//   - Devices validate their inputs (duty and intensity in [0, 100]) and, under an injected
//     Fault, fail with ErrNoAnswer instead of inventing a value.
package sim

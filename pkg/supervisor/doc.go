// Package supervisor runs a unit's jobs: the Job contract, the lifecycle state machine, declared
// settings with /set handling, the job registry, and panic recovery.
//
// Each job runs in its own goroutine with its own MQTT connection, whose last will publishes
// `lost` on the job's $state if the daemon dies (docs/mqtt.md, "Last will"). Everything the job's
// commands touch (setters, pause and resume hooks) runs on the job's own goroutine when it calls
// Runtime.Apply, so a job needs no locks for its own state.
//
// Invariants:
//   - at most one running instance per job name per unit, except actions (Spec.Action, the
//     light lifecycle of docs/mqtt.md, "Actions"), which may run side by side;
//   - $state follows the transition table in state.go, and `disconnected` is terminal;
//   - when a job ends, however it ends (return, error, panic), every PWM output it claimed is set
//     to 0 before `disconnected` is published, then its non-persistent settings are cleared;
//   - only the supervisor starts job goroutines and writes the registry; a job's helper
//     goroutines start with Runtime.Go, whose panics end that job only, and are joined
//     before the job is finished;
//   - an instance is stoppable from the moment it holds its name: a stop while it connects
//     aborts the start (registry row ended, name freed); a connect is bounded by the
//     request's ctx and connectTimeout, and a job that moves liquid is refused rather than
//     started more than maxLiquidStartDelay (wall time) after its request;
//   - /set commands reach the job in order; under a flood the newest value per setting is
//     kept (inbox.go), refused payloads say why and are quoted short (decode.go);
//   - at start every PWM output is off and any retained `pwms/dc` that says otherwise is
//     corrected.
package supervisor

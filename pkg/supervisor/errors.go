package supervisor

import "errors"

var (
	// ErrUnknownJob: no job of that name is in the job table.
	ErrUnknownJob = errors.New("unknown job")
	// ErrAlreadyRunning: a job of that name already runs on this unit.
	ErrAlreadyRunning = errors.New("already running")
	// ErrInactive: the unit is marked inactive and the job needs an active unit.
	ErrInactive = errors.New("unit is not active")
	// ErrNoExperiment: the job needs an experiment and none was given or assigned.
	ErrNoExperiment = errors.New("no experiment")
	// ErrNotRunning: no running job of that name.
	ErrNotRunning = errors.New("job is not running")
	// ErrBadSetting: a setting declaration or value is invalid.
	ErrBadSetting = errors.New("invalid setting")
	// ErrPWMInUse: another job holds that PWM channel.
	ErrPWMInUse = errors.New("PWM channel in use")
	// ErrShuttingDown: the supervisor is stopping and starts nothing new.
	ErrShuttingDown = errors.New("supervisor is shutting down")
	// ErrStartAborted: a stop or shutdown arrived while the job was still starting.
	ErrStartAborted = errors.New("start aborted by a stop")
	// ErrLateStart: a job that moves liquid could not start soon enough after its request
	// (a broker outage); it is refused rather than run late.
	ErrLateStart = errors.New("refused to start late")
)

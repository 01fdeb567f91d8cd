package supervisor

import "github.com/pioreactor/pioreactord/pkg/contract"

// Registry records this unit's jobs and a mirror of their published settings
// (docs/mqtt.md, "Job registry"). pkg/store implements it on bbolt; the supervisor alone writes it.
type Registry interface {
	// Reset marks every job not running; called once at daemon start, since no job can
	// outlive the daemon.
	Reset() error
	// Add records a started job and returns its job_id (row.JobID is ignored).
	Add(row contract.JobRow) (int64, error)
	// End marks a job not running at endedAt (3-digit timestamp form).
	End(jobID int64, endedAt string) error
	// PutSetting upserts the stored form of a setting (numbers/strings as text, booleans 1/0,
	// structs as JSON); DeleteSetting removes it.
	PutSetting(jobID int64, setting, value string) error
	DeleteSetting(jobID int64, setting string) error
	// Running lists running jobs; History lists every job, newest first.
	Running() ([]contract.JobRow, error)
	History() ([]contract.JobRow, error)
	// Settings returns the stored settings of one job.
	Settings(jobID int64) (map[string]string, error)
}

package contract

// JobRow is one entry of a unit's job registry, as the REST routes return it
// (docs/http.md, "Jobs and settings", docs/mqtt.md, "Job registry"). StartedAt/EndedAt use the 3-digit timestamp form;
// EndedAt is nil while the job runs.
type JobRow struct {
	JobID            int64   `json:"job_id"`
	Unit             string  `json:"unit"`
	Experiment       string  `json:"experiment"`
	JobName          string  `json:"job_name"`
	JobSource        string  `json:"job_source"`
	StartedAt        string  `json:"started_at"`
	IsRunning        int     `json:"is_running"`
	Leader           string  `json:"leader"`
	PID              int     `json:"pid"`
	IsLongRunningJob int     `json:"is_long_running_job"`
	EndedAt          *string `json:"ended_at"`
}

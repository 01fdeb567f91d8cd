package contract

// RunRequest is the body of the job-run routes (docs/http.md, "Run requests").
// Every field is optional. Options keep JSON types (float64, bool, string, nil for a bare flag).
type RunRequest struct {
	Args            []string          `json:"args"`
	Options         map[string]any    `json:"options"`
	Env             map[string]string `json:"env"`
	ConfigOverrides [][3]string       `json:"config_overrides"`
}

// Env keys a unit honours on a run request (docs/http.md, "Run requests"); others are dropped.
var AllowedEnv = []string{"EXPERIMENT", "JOB_SOURCE", "TESTING", "HOSTNAME", "HARDWARE", "ACTIVE",
	"FIRMWARE", "DEBUG", "MODEL_NAME", "MODEL_VERSION", "SKIP_PLUGINS", "DOT_PIOREACTOR",
	"GLOBAL_CONFIG", "LOCAL_CONFIG", "HAT_PRESENT"}

// StopFilter selects running jobs to stop (docs/mqtt.md, "Stopping a job"). Filters are AND-ed; All selects
// every job that is not long-running. An empty filter without All selects nothing.
type StopFilter struct {
	JobName    string `json:"job_name,omitempty"`
	Experiment string `json:"experiment,omitempty"`
	JobSource  string `json:"job_source,omitempty"`
	JobID      *int64 `json:"job_id,omitempty"`
	All        bool   `json:"-"`
}

// Empty reports whether no filter is set.
func (f StopFilter) Empty() bool {
	return f.JobName == "" && f.Experiment == "" && f.JobSource == "" && f.JobID == nil && !f.All
}

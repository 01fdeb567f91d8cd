package session

import "context"

// Session statuses.
const (
	InProgress = "in_progress"
	Complete   = "complete"
	Failed     = "failed"
	Aborted    = "aborted"
)

// Step types.
const (
	Info   = "info"
	Form   = "form"
	Action = "action"
	Result = "result"
)

// Field is one input of a step.
type Field struct {
	Name      string   `json:"name"`
	Label     string   `json:"label"`
	FieldType string   `json:"field_type"` // string, float, int, bool, float_list, choice
	Required  bool     `json:"required"`
	Default   any      `json:"default"`
	Options   []string `json:"options,omitempty"`
	Minimum   *float64 `json:"minimum,omitempty"`
	Maximum   *float64 `json:"maximum,omitempty"`
	HelpText  string   `json:"help_text,omitempty"`
}

// Step is what the user is asked now.
type Step struct {
	StepID   string         `json:"step_id"`
	StepType string         `json:"step_type"`
	Title    string         `json:"title"`
	Body     string         `json:"body"`
	Fields   []Field        `json:"fields"`
	Metadata map[string]any `json:"metadata"`
}

// Session is a guided calibration's record.
type Session struct {
	SessionID    string         `json:"session_id"`
	ProtocolName string         `json:"protocol_name"`
	TargetDevice string         `json:"target_device"`
	Status       string         `json:"status"`
	StepID       string         `json:"step_id"`
	Data         map[string]any `json:"data"`
	CreatedAt    string         `json:"created_at"`
	UpdatedAt    string         `json:"updated_at"`
	Result       any            `json:"result,omitempty"`
	Error        string         `json:"error,omitempty"`
}

// View is the answer of every session route.
type View struct {
	Session Session `json:"session"`
	Step    *Step   `json:"step"`
}

// ProtocolInfo describes a protocol for the protocol list.
type ProtocolInfo struct {
	ID           string   `json:"id"`
	TargetDevice string   `json:"target_device"`
	ProtocolName string   `json:"protocol_name"`
	Priority     int      `json:"priority"`
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Requirements []string `json:"requirements"`
}

// Rig drives the hardware a protocol needs, through the unit's jobs.
type Rig interface {
	// RunPump runs the pump of device for seconds and returns once it stopped, with the duty
	// cycle it ran at.
	RunPump(ctx context.Context, device string, seconds float64) (dc float64, err error)
	// MeasureRPM stirs at dc % for settle, then measures the stir bar's RPM over window.
	MeasureRPM(ctx context.Context, dc float64, settle, window float64) (float64, error)
	// StopStirring ends what MeasureRPM started.
	StopStirring(ctx context.Context) error
	// ODVolts reads the photodiode of channel with the IR LED at intensity %, averaged over
	// a few readings.
	ODVolts(ctx context.Context, channel string, intensity float64) (float64, error)
}

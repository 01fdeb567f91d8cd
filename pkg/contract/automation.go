package contract

// Tags of AutomationEvent.EventName (docs/mqtt.md, "Payloads"); plugins may add more.
const (
	NoEvent             = "NoEvent"
	DilutionEvent       = "DilutionEvent"
	DosingStarted       = "DosingStarted"
	DosingStopped       = "DosingStopped"
	AddMediaEvent       = "AddMediaEvent"
	AddAltMediaEvent    = "AddAltMediaEvent"
	ChangedLedIntensity = "ChangedLedIntensity"
	ErrorOccurred       = "ErrorOccurred"
	UpdatedHeaterDC     = "UpdatedHeaterDC"
)

// NewAutomationEvent builds an event; an empty message is published as null.
func NewAutomationEvent(tag, message string, data map[string]any) *AutomationEvent {
	e := &AutomationEvent{EventName: tag, Data: data}
	if message != "" {
		e.Message = &message
	}
	return e
}

// AutomationSettingsTopic is where an automation job publishes its AutomationSettings records:
// pioreactor/<unit>/<exp>/<job>/<job>_settings.
func AutomationSettingsTopic(unit, experiment, job string) string {
	return JobTopic(unit, experiment, job, job+"_settings")
}

// LEDIntensityTopic is the retained 4-channel LED state of a unit: .../leds/intensity.
func LEDIntensityTopic(unit, experiment string) string {
	return Topic(unit, experiment, "leds", "intensity")
}

// LEDChangeEventsTopic carries one LEDChangeEvent per channel changed.
func LEDChangeEventsTopic(unit, experiment string) string {
	return Topic(unit, experiment, "led_change_events")
}

// PIDLogTopic carries a PID controller's diagnostic record: .../pid_log/<target>.
func PIDLogTopic(unit, experiment, target string) string {
	return Topic(unit, experiment, "pid_log", target)
}

// PIDLog is one PID update's diagnostic (docs/algorithms.md, "PID controller"), not retained, QoS 0.
type PIDLog struct {
	Setpoint       Decimal `json:"setpoint"`
	OutputLimitsLB Decimal `json:"output_limits_lb"`
	OutputLimitsUB Decimal `json:"output_limits_ub"`
	Kd             Decimal `json:"Kd"`
	Ki             Decimal `json:"Ki"`
	Kp             Decimal `json:"Kp"`
	Integral       Decimal `json:"integral"`
	Proportional   Decimal `json:"proportional"`
	Derivative     Decimal `json:"derivative"`
	LatestInput    Decimal `json:"latest_input"`
	LatestOutput   Decimal `json:"latest_output"`
	JobName        string  `json:"job_name"`
	TargetName     string  `json:"target_name"`
}

// ErrorCodeTopic is where any job asks the monitor to blink an error code (text integer).
func ErrorCodeTopic(unit, experiment string) string {
	return Topic(unit, experiment, "monitor", "flicker_led_with_error_code")
}

// ErrorCodeHighTemperature is the blink code for a heating PCB above its safety limit.
const ErrorCodeHighTemperature = 6

package contract

// Error codes the monitor blinks (docs/mqtt.md, "Other topics"); ErrorCodeHighTemperature (6) is in
// automation.go.
const (
	ErrorCodeNoNetwork      = 1
	ErrorCodeNoLeader       = 2
	ErrorCodeDiskFull       = 3
	ErrorCodeStirringFailed = 4
	ErrorCodeADCTooHigh     = 5
	ErrorCodeVoltage        = 7
	ErrorCodeWebServer      = 8
)

// OKBlinkTopic asks a unit's monitor to flash its LED (the dashboard's "identify").
func OKBlinkTopic(unit, experiment string) string {
	return Topic(unit, experiment, "monitor", "flicker_led_response_okay")
}

// ComputerStatistics is the monitor's computer_statistics setting ("celcius" sic, as the
// reference spells it).
type ComputerStatistics struct {
	AvailableDiskSpace    Decimal   `json:"available_disk_space"`
	CPUTemperatureCelcius int       `json:"cpu_temperature_celcius"`
	Timestamp             Timestamp `json:"timestamp"`
}

// Versions is the monitor's versions setting; unknown parts are null.
type Versions struct {
	App        *string   `json:"app"`
	HAT        *string   `json:"hat"`
	Firmware   *string   `json:"firmware"`
	HATSerial  *string   `json:"hat_serial"`
	RPiMachine *string   `json:"rpi_machine"`
	Timestamp  Timestamp `json:"timestamp"`
}

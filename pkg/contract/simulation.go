package contract

// The simulation's own topic (pioreactord --sim only; it has no counterpart in the
// reference): a simulated unit's true state, so that estimates can be judged against it.
const (
	SimulationJob       = "simulation"
	SimulationTruthAttr = "truth"
)

// SimulationTruthTopic is the retained pioreactor/<unit>/<exp>/simulation/truth.
func SimulationTruthTopic(unit, experiment string) string {
	return JobTopic(unit, experiment, SimulationJob, SimulationTruthAttr)
}

// SimulationTruth is the payload of SimulationTruthTopic and of GET
// /unit_api/simulation/truth: the simulated plant's state at Timestamp, each value in the
// unit its key names.
type SimulationTruth struct {
	Timestamp Timestamp `json:"timestamp"`
	// OD is the true turbidity (OD600 units), not what the photodiodes read.
	OD Decimal `json:"od"`
	// GrowthRatePerHour is the specific growth rate now, net of death, excluding dilution:
	// what growth_rate_calculating estimates.
	GrowthRatePerHour     Decimal `json:"growth_rate_per_hour"`
	LiquidTemperatureC    Decimal `json:"liquid_temperature_c"`
	HeaterPCBTemperatureC Decimal `json:"heater_pcb_temperature_c"`
	VolumeML              Decimal `json:"volume_ml"`
	RPM                   Decimal `json:"rpm"`
	// AltMediaFraction is the fraction of the liquid that came from alt media (0–1).
	AltMediaFraction Decimal `json:"alt_media_fraction"`
}

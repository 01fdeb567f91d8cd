package contract

// Topics of the dosing area (docs/mqtt.md, "Other topics").

// DosingEventsSegment is the topic segment of the dosing event stream.
const DosingEventsSegment = "dosing_events"

// BioreactorSegment is the topic segment under which the bioreactor variables are published.
const BioreactorSegment = "bioreactor"

// The bioreactor variables (docs/jobs.md, "Bioreactor bookkeeping"), published as plain float text.
const (
	CurrentVolumeML           = "current_volume_ml"
	EffluxTubeVolumeML        = "efflux_tube_volume_ml"
	AltMediaFraction          = "alt_media_fraction"
	CumulativeMediaAddedML    = "cumulative_media_added_ml"
	CumulativeAltMediaAddedML = "cumulative_alt_media_added_ml"
	CumulativeWasteRemovedML  = "cumulative_waste_removed_ml"
	SourcePumpCalibration     = "pump_calibration" // DosingEvent.SourceOfEvent the projection ignores
)

// MaxDoseML bounds, in mL, the volume of one pump run and of one dosing event: 10 L, far
// beyond any vessel, yet small enough that a book's sums stay exact. A unit's bioreactor
// book and the leader's store both refuse an event beyond it (the store also refuses a
// negative one below its small floor for the corrections of a dose stopped early).
const MaxDoseML = 10_000.0

// DosingEventsTopic is pioreactor/<unit>/<exp>/dosing_events (QoS 2, not retained).
func DosingEventsTopic(unit, experiment string) string {
	return Topic(unit, experiment, DosingEventsSegment)
}

// DosingEventsFilter matches a unit's dosing events of every experiment.
func DosingEventsFilter(unit string) string {
	return Topic(unit, "+", DosingEventsSegment)
}

// BioreactorTopic is pioreactor/<unit>/<exp>/bioreactor/<variable> (QoS 2, retained).
func BioreactorTopic(unit, experiment, variable string) string {
	return Topic(unit, experiment, BioreactorSegment, variable)
}

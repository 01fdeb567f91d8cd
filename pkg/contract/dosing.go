package contract

// Topics of the dosing area (spec/mqtt.md §2.4).

// DosingEventsSegment is the topic segment of the dosing event stream.
const DosingEventsSegment = "dosing_events"

// BioreactorSegment is the topic segment under which the bioreactor variables are published.
const BioreactorSegment = "bioreactor"

// The bioreactor variables (spec/jobs.md §7.3), published as plain float text.
const (
	CurrentVolumeML           = "current_volume_ml"
	EffluxTubeVolumeML        = "efflux_tube_volume_ml"
	AltMediaFraction          = "alt_media_fraction"
	CumulativeMediaAddedML    = "cumulative_media_added_ml"
	CumulativeAltMediaAddedML = "cumulative_alt_media_added_ml"
	CumulativeWasteRemovedML  = "cumulative_waste_removed_ml"
	SourcePumpCalibration     = "pump_calibration" // DosingEvent.SourceOfEvent the projection ignores
)

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

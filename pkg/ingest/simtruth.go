package ingest

import "github.com/pioreactor/pioreactord/pkg/store"

// parseTruth reads a simulated unit's truth (contract.SimulationTruth) into one
// simulation_truth row; every value is required and finite.
func parseTruth(m msg, r *store.Row) error {
	var p struct {
		Timestamp             *string  `json:"timestamp"`
		OD                    *float64 `json:"od"`
		GrowthRatePerHour     *float64 `json:"growth_rate_per_hour"`
		LiquidTemperatureC    *float64 `json:"liquid_temperature_c"`
		HeaterPCBTemperatureC *float64 `json:"heater_pcb_temperature_c"`
		VolumeML              *float64 `json:"volume_ml"`
		RPM                   *float64 `json:"rpm"`
		AltMediaFraction      *float64 `json:"alt_media_fraction"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	var err error
	if r.Time, err = stamp(p.Timestamp); err != nil {
		return err
	}
	// In the order of the table's columns (store.Row.Truth).
	values := []struct {
		name string
		v    *float64
	}{
		{"od", p.OD}, {"growth_rate_per_hour", p.GrowthRatePerHour}, {"liquid_temperature_c", p.LiquidTemperatureC},
		{"heater_pcb_temperature_c", p.HeaterPCBTemperatureC}, {"volume_ml", p.VolumeML}, {"rpm", p.RPM},
		{"alt_media_fraction", p.AltMediaFraction},
	}
	for i, v := range values {
		if r.Truth[i], err = number(v.name, v.v); err != nil {
			return err
		}
	}
	return nil
}

package store

// SimulationTruth is the table of a simulated unit's true state (pioreactord --sim only:
// no other daemon publishes its topic). Its values are Row.Truth, one per column of
// truthColumns, in that order.
const SimulationTruth Table = "simulation_truth"

// TruthColumns is the number of values of a simulation_truth row.
const TruthColumns = 7

// truthColumns are simulation_truth's columns after the time column, named as the keys of
// the truth payload (contract.SimulationTruth) with SI units in the name.
var truthColumns = []Column{
	{Name: "od", Kind: Real}, {Name: "growth_rate_per_hour", Kind: Real},
	{Name: "liquid_temperature_c", Kind: Real}, {Name: "heater_pcb_temperature_c", Kind: Real},
	{Name: "volume_ml", Kind: Real}, {Name: "rpm", Kind: Real}, {Name: "alt_media_fraction", Kind: Real},
}

// truthIndex is the index in Row.Truth of a simulation_truth column, -1 for another.
func truthIndex(name string) int {
	for i, c := range truthColumns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func appendTruth(dst []byte, r *Row) []byte {
	for _, v := range r.Truth {
		dst = appendFloat(dst, v)
	}
	return dst
}

func decodeTruth(r *Row, d *decoder) {
	for i := range r.Truth {
		r.Truth[i] = d.float()
	}
}

package descriptor

// The lookback of the OD charts follows [ui.overview.settings]: the dashboard evaluates the
// expression with the served config in scope.
const (
	lookbackFiltered = "parseFloat(config['ui.overview.settings']['filtered_od_lookback_hours'])"
	lookbackRaw      = "parseFloat(config['ui.overview.settings']['raw_od_lookback_hours'])"
	lookbackLong     = 100000 // hours: everything an experiment has
)

// builtinCharts are the overview's charts, one per reading the cluster stores; with
// simulation, also the true values of the simulated cultures.
func builtinCharts(simulation bool) []Chart {
	down, whole := ptr(true), ptr(false)
	odTopics := []string{"od_reading/od1", "od_reading/od2", "od_reading/od3", "od_reading/od4"}
	rawTopics := []string{"od_reading/raw_od1", "od_reading/raw_od2", "od_reading/raw_od3", "od_reading/raw_od4"}
	charts := []Chart{
		{ChartKey: "implied_growth_rate", DataSource: "growth_rates", Title: "Implied growth rate",
			YAxisLabel: "Growth rate, h⁻¹", FixedDecimals: 2, DownSample: down, MQTTTopic: "growth_rate_calculating/growth_rate",
			PayloadKey: "growth_rate", Lookback: lookbackFiltered, YAxisDomain: []float64{-0.02, 0.1}},
		{ChartKey: "implied_daily_growth_rate", DataSource: "growth_rates", Title: "Implied daily growth rate",
			YAxisLabel: "Growth rate, d⁻¹", FixedDecimals: 2, DownSample: down, MQTTTopic: "growth_rate_calculating/growth_rate",
			PayloadKey: "growth_rate", Lookback: lookbackFiltered, YTransformation: "(y) => 24 * y", YAxisDomain: []float64{-0.1, 1.0}},
		{ChartKey: "normalized_optical_density", DataSource: "od_readings_filtered", Title: "Normalized optical density",
			YAxisLabel: "Current OD / initial OD", FixedDecimals: 2, DownSample: down, MQTTTopic: "growth_rate_calculating/od_filtered",
			PayloadKey: "od_filtered", Lookback: lookbackFiltered, YAxisDomain: []float64{0.98, 1.02}},
		{ChartKey: "optical_density", DataSource: "od_readings", Title: "Optical density",
			YAxisLabel: "Reading", FixedDecimals: 3, DownSample: down, MQTTTopic: odTopics,
			PayloadKey: "od", Lookback: lookbackRaw, YAxisDomain: []float64{0.001, 0.05}},
		{ChartKey: "raw_optical_density", DataSource: "raw_od_readings", Title: "Raw optical density",
			YAxisLabel: "Reading", FixedDecimals: 3, DownSample: down, MQTTTopic: rawTopics,
			PayloadKey: "od", Lookback: lookbackRaw, YAxisDomain: []float64{0.001, 0.05}},
		{ChartKey: "fused_optical_density", DataSource: "od_readings_fused", Title: "Fused optical density",
			YAxisLabel: "Reading", FixedDecimals: 3, DownSample: down, MQTTTopic: "od_reading/od_fused",
			PayloadKey: "od_fused", Lookback: lookbackRaw, YAxisDomain: []float64{0.001, 0.05}},
		{ChartKey: "temperature", DataSource: "temperature_readings", Title: "Temperature of vials",
			YAxisLabel: "Temperature, ℃", FixedDecimals: 1, DownSample: whole, MQTTTopic: "temperature_automation/temperature",
			PayloadKey: "temperature", Lookback: lookbackLong, YAxisDomain: []float64{22.5, 37.5}},
		{ChartKey: "current_volume_ml", DataSource: "liquid_volumes", DataSourceColumn: "liquid_volume", Title: "Liquid volume",
			YAxisLabel: "mL", FixedDecimals: 2, DownSample: whole, MQTTTopic: "bioreactor/current_volume_ml",
			Lookback: lookbackLong, YAxisDomain: []float64{0, 18}},
		{ChartKey: "fraction_of_volume_that_is_alternative_media", DataSource: "alt_media_fractions",
			DataSourceColumn: "alt_media_fraction", Title: "Fraction of volume that is alternative media",
			YAxisLabel: "Fraction", FixedDecimals: 3, DownSample: whole, MQTTTopic: "bioreactor/alt_media_fraction",
			Lookback: lookbackLong, YAxisDomain: []float64{0, 0.05}},
	}
	if simulation {
		charts = append(charts,
			Chart{ChartKey: "simulation_true_growth_rate", DataSource: "simulation_truth", DataSourceColumn: "growth_rate_per_hour",
				Title: "True growth rate (simulation)", YAxisLabel: "Growth rate, h⁻¹", FixedDecimals: 3, DownSample: down,
				MQTTTopic: "simulation/truth", PayloadKey: "growth_rate_per_hour", Lookback: lookbackFiltered,
				YAxisDomain: []float64{-0.02, 0.1}},
			Chart{ChartKey: "simulation_true_liquid_temperature", DataSource: "simulation_truth", DataSourceColumn: "liquid_temperature_c",
				Title: "True liquid temperature (simulation)", YAxisLabel: "Temperature, ℃", FixedDecimals: 2, DownSample: down,
				MQTTTopic: "simulation/truth", PayloadKey: "liquid_temperature_c", Lookback: lookbackLong,
				YAxisDomain: []float64{22.5, 37.5}})
	}
	for i := range charts {
		charts[i].Source = SourceBuiltin
		charts[i].Interpolation = "stepAfter"
		if charts[i].YTransformation == "" {
			charts[i].YTransformation = "(y) => y"
		}
	}
	return charts
}

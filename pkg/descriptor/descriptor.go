package descriptor

// Setting is one published setting of a job or collection as a dashboard shows it.
type Setting struct {
	Key         string   `json:"key" yaml:"key"`
	Type        string   `json:"type" yaml:"type"` // numeric, boolean, string or json
	Display     bool     `json:"display" yaml:"display"`
	Label       string   `json:"label,omitempty" yaml:"label"`
	Description string   `json:"description,omitempty" yaml:"description"`
	Unit        string   `json:"unit,omitempty" yaml:"unit"`
	Editable    *bool    `json:"editable" yaml:"editable"` // nil in a file: true
	Min         *float64 `json:"min,omitempty" yaml:"min"`
	Max         *float64 `json:"max,omitempty" yaml:"max"`
	Default     any      `json:"default,omitempty" yaml:"default"`
}

// Job describes one job: its name, whether it is listed, and the settings shown on its card.
type Job struct {
	JobName           string    `json:"job_name" yaml:"job_name"`
	DisplayName       string    `json:"display_name" yaml:"display_name"`
	Display           *bool     `json:"display" yaml:"display"` // nil in a file: true
	PublishedSettings []Setting `json:"published_settings" yaml:"published_settings"`
	Source            string    `json:"source,omitempty" yaml:"source"`
	Description       string    `json:"description,omitempty" yaml:"description"`
	Subtext           string    `json:"subtext,omitempty" yaml:"subtext"`
}

// Collection is a group of unit values that no job owns (bioreactor, leds, pwms), shown like
// a job's settings.
type Collection struct {
	Key               string    `json:"key" yaml:"key"`
	DisplayName       string    `json:"display_name" yaml:"display_name"`
	Display           *bool     `json:"display" yaml:"display"`
	PublishedSettings []Setting `json:"published_settings" yaml:"published_settings"`
	Source            string    `json:"source,omitempty" yaml:"source"`
	Description       string    `json:"description,omitempty" yaml:"description"`
	Subtext           string    `json:"subtext,omitempty" yaml:"subtext"`
}

// Field is one option of an automation's start form.
type Field struct {
	Key      string   `json:"key" yaml:"key"`
	Default  any      `json:"default" yaml:"default"`
	Label    string   `json:"label" yaml:"label"`
	Type     string   `json:"type" yaml:"type"` // numeric (default), string, select, boolean
	Unit     string   `json:"unit,omitempty" yaml:"unit"`
	Disabled bool     `json:"disabled" yaml:"disabled"`
	Required *bool    `json:"required" yaml:"required"` // nil in a file: true
	Options  []string `json:"options,omitempty" yaml:"options"`
}

// Automation is one algorithm of an automation family and its start form.
type Automation struct {
	AutomationName string  `json:"automation_name" yaml:"automation_name"`
	DisplayName    string  `json:"display_name" yaml:"display_name"`
	Description    string  `json:"description" yaml:"description"`
	Source         string  `json:"source,omitempty" yaml:"source"`
	Fields         []Field `json:"fields" yaml:"fields"`
}

// Chart is one chart of the overview page: where its history comes from (a time-series
// route), which MQTT topic extends it live, and how to draw it.
type Chart struct {
	ChartKey         string    `json:"chart_key" yaml:"chart_key"`
	DataSource       string    `json:"data_source" yaml:"data_source"`
	DataSourceColumn string    `json:"data_source_column,omitempty" yaml:"data_source_column"`
	Title            string    `json:"title" yaml:"title"`
	Source           string    `json:"source" yaml:"source"`
	YAxisLabel       string    `json:"y_axis_label" yaml:"y_axis_label"`
	FixedDecimals    int       `json:"fixed_decimals" yaml:"fixed_decimals"`
	DownSample       *bool     `json:"down_sample" yaml:"down_sample"` // nil in a file: true
	MQTTTopic        any       `json:"mqtt_topic" yaml:"mqtt_topic"`   // a topic suffix or a list of them
	PayloadKey       string    `json:"payload_key,omitempty" yaml:"payload_key"`
	Lookback         any       `json:"lookback" yaml:"lookback"` // hours, or a JS expression
	YTransformation  string    `json:"y_transformation" yaml:"y_transformation"`
	YAxisDomain      []float64 `json:"y_axis_domain,omitempty" yaml:"y_axis_domain"`
	Interpolation    string    `json:"interpolation" yaml:"interpolation"`
}

// AutomationTypes are the automation families a dashboard asks for by type.
var AutomationTypes = []string{"temperature", "dosing", "led"}

// Set is every descriptor of a unit (and, for charts, of the cluster).
type Set struct {
	Jobs        []Job
	Collections []Collection
	Automations map[string][]Automation // by type: temperature, dosing, led
	Charts      []Chart

	bioreactor map[string]Bounds // re-applied over files that redefine the collection
}

func ptr[T any](v T) *T { return &v }

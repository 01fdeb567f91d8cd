package descriptor

import (
	"fmt"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"
)

var (
	nameRe         = regexp.MustCompile(`^[a-z0-9_]*[a-z][a-z0-9_]*$`) // job and automation names
	keyRe          = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	settingTypes   = []string{"numeric", "boolean", "string", "json"}
	fieldTypes     = []string{"numeric", "string", "select", "boolean"}
	interpolations = []string{"basis", "bundle", "cardinal", "catmullRom", "linear", "none", "monotoneX",
		"monotoneY", "natural", "step", "stepAfter", "stepBefore"}
)

func decodeJob(n *yaml.Node, source string) (Job, error) {
	var j Job
	if err := decode(n, &j); err != nil {
		return j, err
	}
	switch {
	case !nameRe.MatchString(j.JobName):
		return j, problem(n, fmt.Sprintf("job_name %q must be lowercase letters, digits and underscores", j.JobName), "job_name")
	case j.DisplayName == "":
		return j, problem(n, "display_name is missing", "display_name")
	}
	if j.Display == nil {
		j.Display = ptr(true)
	}
	if j.Source == "" {
		j.Source = source
	}
	var err error
	j.PublishedSettings, err = checkSettings(n, j.PublishedSettings)
	return j, err
}

func decodeCollection(n *yaml.Node, source string) (Collection, error) {
	var c Collection
	if err := decode(n, &c); err != nil {
		return c, err
	}
	switch {
	case !keyRe.MatchString(c.Key):
		return c, problem(n, fmt.Sprintf("key %q must be letters, digits and underscores", c.Key), "key")
	case c.DisplayName == "":
		return c, problem(n, "display_name is missing", "display_name")
	}
	if c.Display == nil {
		c.Display = ptr(true)
	}
	if c.Source == "" {
		c.Source = source
	}
	var err error
	c.PublishedSettings, err = checkSettings(n, c.PublishedSettings)
	return c, err
}

// checkSettings validates published_settings: unique keys, known types, min ≤ max, a label
// on every displayed one; editable defaults to true.
func checkSettings(n *yaml.Node, in []Setting) ([]Setting, error) {
	out := []Setting{}
	seen := map[string]bool{}
	for i, s := range in {
		where := []any{"published_settings", i}
		switch {
		case !keyRe.MatchString(s.Key):
			return nil, problem(n, fmt.Sprintf("setting key %q must be letters, digits and underscores", s.Key), append(where, "key")...)
		case seen[s.Key]:
			return nil, problem(n, fmt.Sprintf("setting %s is listed twice", s.Key), append(where, "key")...)
		case !slices.Contains(settingTypes, s.Type):
			return nil, problem(n, fmt.Sprintf("setting %s: type %q is not one of %v", s.Key, s.Type, settingTypes), append(where, "type")...)
		case s.Min != nil && s.Max != nil && *s.Min > *s.Max:
			return nil, problem(n, fmt.Sprintf("setting %s: min %v is above max %v", s.Key, *s.Min, *s.Max), append(where, "min")...)
		case s.Display && s.Label == "":
			return nil, problem(n, fmt.Sprintf("setting %s is displayed, so it needs a label", s.Key), where...)
		}
		seen[s.Key] = true
		if s.Editable == nil {
			s.Editable = ptr(true)
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeAutomation(n *yaml.Node, source string) (Automation, error) {
	var a Automation
	if err := decode(n, &a); err != nil {
		return a, err
	}
	switch {
	case !nameRe.MatchString(a.AutomationName) || a.AutomationName == "config":
		return a, problem(n, fmt.Sprintf("automation_name %q must be lowercase letters, digits and underscores, not config", a.AutomationName), "automation_name")
	case a.DisplayName == "":
		return a, problem(n, "display_name is missing", "display_name")
	}
	if a.Source == "" {
		a.Source = source
	}
	fields := []Field{}
	seen := map[string]bool{}
	for i, f := range a.Fields {
		where := []any{"fields", i}
		if f.Type == "" {
			f.Type = "numeric"
		}
		switch {
		case !keyRe.MatchString(f.Key):
			return a, problem(n, fmt.Sprintf("field key %q must be letters, digits and underscores", f.Key), append(where, "key")...)
		case seen[f.Key]:
			return a, problem(n, fmt.Sprintf("field %s is listed twice", f.Key), append(where, "key")...)
		case !slices.Contains(fieldTypes, f.Type):
			return a, problem(n, fmt.Sprintf("field %s: type %q is not one of %v", f.Key, f.Type, fieldTypes), append(where, "type")...)
		case f.Type == "select" && len(f.Options) == 0:
			return a, problem(n, fmt.Sprintf("field %s is a select, so it needs options", f.Key), where...)
		case f.Label == "":
			return a, problem(n, fmt.Sprintf("field %s needs a label", f.Key), where...)
		}
		seen[f.Key] = true
		if f.Required == nil {
			f.Required = ptr(true)
		}
		fields = append(fields, f)
	}
	a.Fields = fields
	return a, nil
}

func decodeChart(n *yaml.Node, source string) (Chart, error) {
	var c Chart
	if err := decode(n, &c); err != nil {
		return c, err
	}
	switch {
	case !keyRe.MatchString(c.ChartKey):
		return c, problem(n, fmt.Sprintf("chart_key %q must be letters, digits and underscores", c.ChartKey), "chart_key")
	case !keyRe.MatchString(c.DataSource):
		return c, problem(n, fmt.Sprintf("data_source %q must be a table name", c.DataSource), "data_source")
	case c.Title == "":
		return c, problem(n, "title is missing", "title")
	case !topicsOK(c.MQTTTopic):
		return c, problem(n, "mqtt_topic must be a topic or a list of topics", "mqtt_topic")
	case c.Interpolation != "" && !slices.Contains(interpolations, c.Interpolation):
		return c, problem(n, fmt.Sprintf("interpolation %q is not one of %v", c.Interpolation, interpolations), "interpolation")
	}
	switch c.Lookback.(type) {
	case int, float64, string:
	case nil:
		c.Lookback = lookbackLong
	default:
		return c, problem(n, "lookback must be a number of hours or an expression", "lookback")
	}
	if list, ok := c.MQTTTopic.([]any); ok { // keep a list a list of strings in JSON
		topics := make([]string, len(list))
		for i, t := range list {
			topics[i] = t.(string)
		}
		c.MQTTTopic = topics
	}
	if c.DownSample == nil {
		c.DownSample = ptr(true)
	}
	if c.YTransformation == "" {
		c.YTransformation = "(y) => y"
	}
	if c.Interpolation == "" {
		c.Interpolation = "stepAfter"
	}
	if c.Source == "" {
		c.Source = source
	}
	return c, nil
}

func topicsOK(v any) bool {
	switch t := v.(type) {
	case string:
		return t != ""
	case []any:
		for _, x := range t {
			if s, ok := x.(string); !ok || s == "" {
				return false
			}
		}
		return len(t) > 0
	}
	return false
}

package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// The MQTT → table mapping of docs/data.md, "Ingestion" and docs/mqtt.md, "Stored topics".

// msg is one message to map: the topic's unit and experiment, the segments after them,
// the payload, and the instant used for rows whose payload carries no time.
type msg struct {
	unit, exp string
	rest      []string
	payload   []byte
	now       time.Time
}

// mapping is how one topic becomes a row.
type mapping struct {
	table store.Table
	// timestamped: the payload carries the row's time, so a replayed copy maps to the very
	// same row (the outbox may send those again; see package outbox).
	timestamped bool
	parse       func(m msg, r *store.Row) error
}

// errSkip is a parser's "nothing to store" (the reference's parser returning None).
var errSkip = errors.New("nothing to store")

var automationJobs = map[string]struct{ events, settings store.Table }{
	"dosing_automation":      {store.DosingAutomationEvents, store.DosingAutomationSettings},
	"led_automation":         {store.LEDAutomationEvents, store.LEDAutomationSettings},
	"temperature_automation": {store.TemperatureAutomationEvents, store.TemperatureAutomationSettings},
}

// lookup finds the mapping of the topic segments after pioreactor/<unit>/<exp>/.
func lookup(rest []string) (mapping, bool) {
	if len(rest) > 0 && rest[0] == "logs" { // logs/#: logs/<source>/<level>, or anything below
		return mapping{store.Logs, true, parseLog}, true
	}
	switch len(rest) {
	case 1:
		switch rest[0] {
		case "dosing_events":
			return mapping{store.DosingEvents, true, parseDosing}, true
		case "led_change_events":
			return mapping{store.LEDChangeEvents, true, parseLED}, true
		}
	case 2:
		job, attr := rest[0], rest[1]
		switch job {
		case "od_reading":
			switch attr {
			case "od1", "od2", "od3", "od4":
				return mapping{store.ODReadings, true, parseOD}, true
			case "raw_od1", "raw_od2", "raw_od3", "raw_od4":
				return mapping{store.RawODReadings, true, parseOD}, true
			case "od_fused":
				return mapping{store.ODReadingsFused, true, parseValue("od_fused")}, true
			case "relative_intensity_of_ir_led":
				return mapping{store.IRLEDIntensities, true, parseValue("relative_intensity_of_ir_led")}, true
			}
		case "growth_rate_calculating":
			switch attr {
			case "od_filtered":
				return mapping{store.ODReadingsFiltered, true, parseValue("od_filtered")}, true
			case "growth_rate":
				return mapping{store.GrowthRates, true, parseValue("growth_rate")}, true
			}
		case "stirring":
			if attr == "measured_rpm" {
				return mapping{store.StirringRates, true, parseValue("measured_rpm")}, true
			}
		case "bioreactor":
			switch attr {
			case "alt_media_fraction":
				return mapping{store.AltMediaFractions, false, parseBare}, true
			case "current_volume_ml":
				return mapping{store.LiquidVolumes, false, parseBare}, true
			}
		case "pwms":
			if attr == "dc" {
				return mapping{store.PWMDCs, false, nil}, true // parsed with the pin map, see Ingester
			}
		case contract.SimulationJob:
			if attr == contract.SimulationTruthAttr {
				return mapping{store.SimulationTruth, true, parseTruth}, true
			}
		}
		if a, ok := automationJobs[job]; ok {
			switch {
			case attr == "latest_event":
				return mapping{a.events, false, parseAutomationEvent}, true
			case attr == job+"_settings":
				return mapping{a.settings, true, parseSettings}, true
			case job == "temperature_automation" && attr == "temperature":
				return mapping{store.TemperatureReadings, true, parseValue("temperature")}, true
			}
		}
	case 3:
		switch {
		case rest[0] == "od_blank" && rest[1] == "mean":
			return mapping{store.ODBlanks, true, parseOD}, true
		case rest[0] == "experiment_profile" && rest[2] == "experiment_profile_name":
			return mapping{store.ExperimentProfileRuns, false, parseProfileName}, true
		}
	}
	return mapping{}, false
}

// Filters are the subscriptions of the streamer (docs/mqtt.md, "Stored topics"), exactly the topics
// lookup maps, so that the broker sends nothing the leader would throw away.
//
// The busiest topics come first (the OD channels, then logs and the growth-rate job), so
// that dealing them round-robin over several connections spreads the load.
func Filters() []string {
	any := func(rest ...string) string { return contract.Topic("+", "+", rest...) }
	var out []string
	for _, ch := range []string{"1", "2", "3", "4"} {
		out = append(out, any("od_reading", "od"+ch))
	}
	out = append(out, any("logs", "#"), any("growth_rate_calculating", "growth_rate"),
		any("growth_rate_calculating", "od_filtered"), any("od_reading", "od_fused"),
		any("temperature_automation", "temperature"), any("stirring", "measured_rpm"))
	for _, ch := range []string{"1", "2", "3", "4"} {
		out = append(out, any("od_reading", "raw_od"+ch))
	}
	out = append(out, any("dosing_events"), any("led_change_events"),
		any("od_reading", "relative_intensity_of_ir_led"),
		any("bioreactor", "alt_media_fraction"), any("bioreactor", "current_volume_ml"),
		any("pwms", "dc"), any("od_blank", "mean", "+"),
		any("experiment_profile", "+", "experiment_profile_name"),
		any(contract.SimulationJob, contract.SimulationTruthAttr))
	for _, job := range []string{"dosing_automation", "led_automation", "temperature_automation"} {
		out = append(out, any(job, "latest_event"), any(job, job+"_settings"))
	}
	return out
}

// Stored reports whether the leader stores messages on topic (live ones: not retained, not
// empty, not _testing_). The workers' outbox keeps exactly these.
func Stored(topic string) bool {
	_, _, rest, ok := split(topic)
	if !ok || contract.IsTesting(topic) {
		return false
	}
	_, ok = lookup(rest)
	return ok
}

// Timestamped reports whether a stored topic's payload carries the row's time, so that a
// second copy maps to the same row and is dropped as a duplicate.
func Timestamped(topic string) bool {
	_, _, rest, ok := split(topic)
	if !ok {
		return false
	}
	m, ok := lookup(rest)
	return ok && m.timestamped
}

// split parses pioreactor/<unit>/<exp>/<rest...>.
func split(topic string) (unit, exp string, rest []string, ok bool) {
	seg := strings.Split(topic, "/")
	if len(seg) < 4 || seg[0] != contract.Root || seg[1] == "" || seg[2] == "" {
		return "", "", nil, false
	}
	return seg[1], seg[2], seg[3:], true
}

// decode unmarshals a JSON object payload.
func decode(payload []byte, v any) error {
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("decode payload: %w", err)
	}
	return nil
}

// stamp parses a payload's timestamp (any RFC 3339); missing is an error.
func stamp(s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, errors.New("missing timestamp")
	}
	return contract.ParseTime(*s)
}

// number is a JSON number that must be finite (NaN and ±Inf cannot be stored in charts).
func number(name string, f *float64) (float64, error) {
	if f == nil {
		return 0, fmt.Errorf("missing %s", name)
	}
	if math.IsNaN(*f) || math.IsInf(*f, 0) {
		return 0, fmt.Errorf("%s is not finite", name)
	}
	return *f, nil
}

// intText reads an integer sent either as a JSON string ("90") or number (90).
func intText(name string, raw json.RawMessage) (int, error) {
	s := string(bytes.Trim(bytes.TrimSpace(raw), `"`))
	if s == "" || s == "null" {
		return 0, fmt.Errorf("missing %s", name)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not an integer", name, s)
	}
	return n, nil
}

func parseOD(m msg, r *store.Row) error {
	var p struct {
		Timestamp *string         `json:"timestamp"`
		Angle     json.RawMessage `json:"angle"`
		OD        *float64        `json:"od"`
		Channel   json.RawMessage `json:"channel"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	var err error
	if r.Time, err = stamp(p.Timestamp); err != nil {
		return err
	}
	if r.Value, err = number("od", p.OD); err != nil {
		return err
	}
	ch, err := intText("channel", p.Channel)
	if err != nil {
		if r.Table != store.ODBlanks {
			return err
		}
		ch, err = strconv.Atoi(m.rest[2]) // od_blank/mean/<channel>
		if err != nil {
			return fmt.Errorf("channel %q is not an integer", m.rest[2])
		}
	}
	if ch < 1 || ch > 4 {
		return fmt.Errorf("channel %d is not 1..4", ch)
	}
	r.Channel = strconv.Itoa(ch)
	if r.Table == store.RawODReadings {
		return nil
	}
	r.Angle, err = intText("angle", p.Angle)
	return err
}

// parseValue reads {"<field>": float, "timestamp": ...}.
func parseValue(field string) func(msg, *store.Row) error {
	return func(m msg, r *store.Row) error {
		var p map[string]json.RawMessage
		if err := decode(m.payload, &p); err != nil {
			return err
		}
		var v *float64
		if raw, ok := p[field]; ok {
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
		}
		var ts *string
		if raw, ok := p["timestamp"]; ok {
			if err := json.Unmarshal(raw, &ts); err != nil {
				return fmt.Errorf("timestamp: %w", err)
			}
		}
		var err error
		if r.Time, err = stamp(ts); err != nil {
			return err
		}
		r.Value, err = number(field, v)
		return err
	}
}

// parseBare reads a bare number (bioreactor variables); the row is timed on receipt.
func parseBare(m msg, r *store.Row) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(string(m.payload)), 64)
	if err != nil {
		return fmt.Errorf("payload %q is not a number", m.payload)
	}
	if _, err := number("value", &f); err != nil {
		return err
	}
	r.Time, r.Value = m.now, f
	return nil
}

// The range of a stored dosing event's volume_change. A negative one is the correction of
// a dose stopped early, at most one half-second chunk of a pump; the top is the bound the
// unit's book applies (contract.MaxDoseML), so that the store keeps every event the book
// counted. Anything outside is a broken or hostile publisher: malformed.
const (
	MinVolumeChangeML = -1.0
	MaxVolumeChangeML = contract.MaxDoseML
)

func parseDosing(m msg, r *store.Row) error {
	var p struct {
		VolumeChange  *float64 `json:"volume_change"`
		Event         string   `json:"event"`
		SourceOfEvent *string  `json:"source_of_event"`
		Timestamp     *string  `json:"timestamp"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	if p.Event == "" {
		return errors.New("missing event")
	}
	var err error
	if r.Time, err = stamp(p.Timestamp); err != nil {
		return err
	}
	if r.Value, err = number("volume_change", p.VolumeChange); err != nil {
		return err
	}
	if r.Value < MinVolumeChangeML || r.Value > MaxVolumeChangeML {
		return fmt.Errorf("volume_change %g mL is outside [%g, %g]", r.Value, MinVolumeChangeML, MaxVolumeChangeML)
	}
	r.Event = p.Event
	if p.SourceOfEvent != nil {
		r.Source = *p.SourceOfEvent
	}
	return nil
}

func parseLED(m msg, r *store.Row) error {
	var p struct {
		Channel       string   `json:"channel"`
		Intensity     *float64 `json:"intensity"`
		SourceOfEvent *string  `json:"source_of_event"`
		Timestamp     *string  `json:"timestamp"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	switch p.Channel {
	case "A", "B", "C", "D":
	default:
		return fmt.Errorf("LED channel %q is not A..D", p.Channel)
	}
	var err error
	if r.Time, err = stamp(p.Timestamp); err != nil {
		return err
	}
	if r.Value, err = number("intensity", p.Intensity); err != nil {
		return err
	}
	r.Channel = p.Channel
	if p.SourceOfEvent != nil {
		r.Source = *p.SourceOfEvent
	}
	return nil
}

func parseAutomationEvent(m msg, r *store.Row) error {
	var p struct {
		EventName string          `json:"event_name"`
		Message   *string         `json:"message"`
		Data      json.RawMessage `json:"data"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	if p.EventName == "" {
		return errors.New("missing event_name")
	}
	r.Time, r.Event = m.now, p.EventName
	if p.Message != nil {
		r.Message = *p.Message
	}
	if d := bytes.TrimSpace(p.Data); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, d); err != nil {
			return fmt.Errorf("data: %w", err)
		}
		r.Data = buf.String()
	}
	return nil
}

func parseSettings(m msg, r *store.Row) error {
	var p struct {
		PioreactorUnit string  `json:"pioreactor_unit"`
		Experiment     string  `json:"experiment"`
		StartedAt      *string `json:"started_at"`
		EndedAt        *string `json:"ended_at"`
		AutomationName string  `json:"automation_name"`
		Settings       *string `json:"settings"`
	}
	if err := decode(m.payload, &p); err != nil {
		return err
	}
	var err error
	if r.Time, err = stamp(p.StartedAt); err != nil {
		return fmt.Errorf("started_at: %w", err)
	}
	if p.EndedAt != nil && *p.EndedAt != "" {
		if r.EndedAt, err = contract.ParseTime(*p.EndedAt); err != nil {
			return fmt.Errorf("ended_at: %w", err)
		}
		r.EndedAt = r.EndedAt.Truncate(time.Millisecond)
	}
	if p.AutomationName == "" || p.Settings == nil {
		return errors.New("missing automation_name or settings")
	}
	// "Inserted as given": the payload names its unit and experiment.
	if p.PioreactorUnit != "" {
		r.Unit = p.PioreactorUnit
	}
	if p.Experiment != "" {
		r.Experiment = p.Experiment
	}
	r.Event, r.Data = p.AutomationName, *p.Settings
	return nil
}

func parseProfileName(m msg, r *store.Row) error {
	name := strings.TrimSpace(string(m.payload))
	if name == "" {
		return errSkip
	}
	r.Time, r.Event = m.now, name
	return nil
}

// DefaultPWMPins maps PWM channel N (1..5) to the GPIO pin the reference's pwm_dcs parser
// falls back to (docs/data.md, "Ingestion").
var DefaultPWMPins = map[int]string{1: "17", 2: "13", 3: "16", 4: "12", 5: "18"}

// parsePWM reads {"<gpio pin>": duty cycle, ...} into channel_1..5 through pins; absent
// channels are 0.0. The row is timed on receipt.
func parsePWM(pins map[int]string) func(msg, *store.Row) error {
	return func(m msg, r *store.Row) error {
		var p map[string]*float64
		if err := decode(m.payload, &p); err != nil {
			return err
		}
		for ch := 1; ch <= store.PWMChannels; ch++ {
			if v := p[pins[ch]]; v != nil {
				f, err := number("pin "+pins[ch], v)
				if err != nil {
					return err
				}
				r.PWM[ch-1] = f
			}
		}
		r.Time = m.now
		return nil
	}
}

package contract

import "strings"

// Reserved topic segments (docs/mqtt.md, "Reserved names").
const (
	Root            = "pioreactor"
	Broadcast       = "$broadcast"
	UniversalExp    = "$experiment"
	TestingPrefix   = "_testing_"
	NoExperiment    = "$no_experiment_present"
	StateAttr       = "$state"
	SetSuffix       = "set"
	LogsSegment     = "logs"
	SourceApp       = "app"
	AssignmentTopic = "assignment"
)

// Topic joins segments under the root: Topic("pio01","exp","stirring","$state").
func Topic(unit, experiment string, rest ...string) string {
	return strings.Join(append([]string{Root, unit, experiment}, rest...), "/")
}

// JobTopic is pioreactor/<unit>/<exp>/<job>/<attr>.
func JobTopic(unit, experiment, job, attr string) string {
	return Topic(unit, experiment, job, attr)
}

// SetTopic is the command topic of a setting: .../<job>/<attr>/set.
func SetTopic(unit, experiment, job, attr string) string {
	return Topic(unit, experiment, job, attr, SetSuffix)
}

// SetFilter subscribes to every /set of one job on one unit (or $broadcast).
func SetFilter(unit, experiment, job string) string {
	return Topic(unit, experiment, job, "+", SetSuffix)
}

// LogTopic is pioreactor/<unit>/<exp>/logs/<source>/<level lower-case>.
func LogTopic(unit, experiment, source, level string) string {
	return Topic(unit, experiment, LogsSegment, source, strings.ToLower(level))
}

// AssignmentTopicFor is the retained topic announcing a worker's experiment.
func AssignmentTopicFor(unit string) string {
	return Topic(unit, UniversalExp, AssignmentTopic)
}

// Parsed is a topic split at the positions consumers rely on (segments 1, 2, 3, 4).
type Parsed struct {
	Unit, Experiment, Job, Attr string
	Rest                        []string // segments after the attribute
}

// Parse splits a topic under the root; ok is false for anything else.
func Parse(topic string) (p Parsed, ok bool) {
	seg := strings.Split(topic, "/")
	if len(seg) < 3 || seg[0] != Root {
		return p, false
	}
	p.Unit, p.Experiment = seg[1], seg[2]
	if len(seg) > 3 {
		p.Job = seg[3]
	}
	if len(seg) > 4 {
		p.Attr = seg[4]
	}
	if len(seg) > 5 {
		p.Rest = seg[5:]
	}
	return p, true
}

// TestingExperiment is the scratch experiment of a unit assigned to exp (or to none).
func TestingExperiment(exp string) string {
	if exp == "" {
		return TestingPrefix + NoExperiment
	}
	return TestingPrefix + exp
}

// IsTesting reports whether a topic belongs to a scratch experiment, which the leader never stores.
func IsTesting(topic string) bool { return strings.Contains(topic, "/"+TestingPrefix) }

package profile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load decodes and validates a profile. Every finding comes back as a diagnostic with its line
// and column; the profile is nil only when the YAML itself cannot be read. Diagnostics.Err
// tells whether it may run.
func Load(src []byte) (*Profile, Diagnostics) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		line := yamlLine(err)
		return nil, Diagnostics{{Severity: SevError, Code: "yaml.syntax", Message: err.Error(), Line: line, Column: 1,
			Hint: "check the indentation and the quotes near that line"}}
	}
	d := &decoder{}
	p := &Profile{Inputs: map[string]any{}}
	if len(doc.Content) == 0 {
		d.add(SevError, "profile.empty", "", &doc, "the profile is empty", "a profile needs at least experiment_profile_name")
		return p, d.diags
	}
	d.profile(doc.Content[0], p)
	return p, d.diags
}

var yamlLineRe = regexp.MustCompile(`line (\d+)`)

func yamlLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

type decoder struct {
	diags Diagnostics
}

func (d *decoder) add(sev, code, path string, n *yaml.Node, msg, hint string) {
	diag := Diagnostic{Severity: sev, Code: code, Message: msg, Path: path, Hint: hint}
	if n != nil {
		diag.Line, diag.Column = n.Line, n.Column
	}
	d.diags = append(d.diags, diag)
}

func (d *decoder) errorf(code, path string, n *yaml.Node, format string, args ...any) {
	d.add(SevError, code, path, n, fmt.Sprintf(format, args...), "")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping calls fn for each key of a mapping node in document order; keys outside allowed (nil
// = any) are reported as unknown fields.
func (d *decoder) mapping(n *yaml.Node, path string, allowed []string, fn func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return true // an empty block is an empty mapping
		}
		d.errorf("field.type", path, n, "expected a mapping, got %s", kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		if seen[key] {
			d.errorf("field.duplicate", join(path, key), k, "duplicate key `%s`", key)
			continue
		}
		seen[key] = true
		if allowed != nil && !contains(allowed, key) {
			d.add(SevError, "field.unknown", join(path, key), k, fmt.Sprintf("unknown field `%s`", key),
				"allowed here: "+strings.Join(allowed, ", "))
			continue
		}
		fn(key, k, v)
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.errorf("field.type", path, n, "expected a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) profile(n *yaml.Node, p *Profile) {
	var versionSeen, nameSeen bool
	ok := d.mapping(n, "", []string{"version", "experiment_profile_name", "metadata", "plugins", "inputs", "common", "pioreactors"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "version":
			versionSeen = true
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || v.Value != "1.0" {
				d.add(SevError, "version.invalid", "version", v, fmt.Sprintf("version must be the string \"1.0\", got %s", kindName(v)),
					`write version: "1.0" with the quotes`)
				return
			}
			p.Version = v.Value
		case "experiment_profile_name":
			nameSeen = true
			p.Name, _ = d.str(v, key)
		case "metadata":
			d.mapping(v, key, nil, func(mk string, _, mv *yaml.Node) {
				switch mk {
				case "author":
					p.Author, _ = d.str(mv, "metadata.author")
				case "description":
					p.Description, _ = d.str(mv, "metadata.description")
				}
			})
		case "plugins":
			d.plugins(v, p)
		case "inputs":
			d.mapping(v, key, nil, func(ik string, _, iv *yaml.Node) { p.Inputs[ik] = value(iv) })
		case "common":
			d.mapping(v, key, []string{"jobs"}, func(_ string, _, jv *yaml.Node) { p.Common = d.jobs(jv, "common.jobs") })
		case "pioreactors":
			d.mapping(v, key, nil, func(unit string, uk, uv *yaml.Node) {
				path := "pioreactors." + unit
				ub := &UnitBlock{Unit: unit, Pos: Pos{uk.Line, uk.Column}, Path: path}
				d.mapping(uv, path, []string{"label", "jobs"}, func(f string, _, fv *yaml.Node) {
					if f == "label" {
						ub.Label, _ = d.str(fv, path+".label")
						return
					}
					ub.Jobs = d.jobs(fv, path+".jobs")
				})
				p.Units = append(p.Units, ub)
			})
		}
	})
	if !ok {
		return
	}
	if !versionSeen {
		// The original requires it; pioreactord reads a profile without one as version 1.0
		// (docs/compat.md), so older profiles still run.
		d.add(SevWarning, "version.missing", "version", n, `no version: read as "1.0"`, `add version: "1.0"`)
		p.Version = "1.0"
	}
	if !nameSeen {
		d.add(SevError, "field.missing", "experiment_profile_name", n, "missing field `experiment_profile_name`", "")
	}
}

var pluginVersion = regexp.MustCompile(`^(==|>=|<=)?\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$`)

func (d *decoder) plugins(n *yaml.Node, p *Profile) {
	if n.Kind != yaml.SequenceNode {
		d.errorf("field.type", "plugins", n, "expected a list, got %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		path := fmt.Sprintf("plugins[%d]", i)
		pl := Plugin{Pos: Pos{item.Line, item.Column}}
		var vnode *yaml.Node
		d.mapping(item, path, []string{"name", "version"}, func(key string, _, v *yaml.Node) {
			if key == "name" {
				pl.Name, _ = d.str(v, path+".name")
				return
			}
			vnode = v
			pl.Version = v.Value
		})
		if vnode == nil || pl.Name == "" {
			d.errorf("field.missing", path, item, "a plugin needs name and version")
			continue
		}
		if !pluginVersion.MatchString(strings.TrimSpace(pl.Version)) {
			d.add(SevError, "plugin.version.invalid", path+".version", vnode,
				fmt.Sprintf("plugin version %q is not X, ==X, >=X or <=X", pl.Version), "for example >=1.2.0")
		}
		p.Plugins = append(p.Plugins, pl)
	}
}

func (d *decoder) jobs(n *yaml.Node, path string) []*JobBlock {
	var out []*JobBlock
	d.mapping(n, path, nil, func(job string, k, v *yaml.Node) {
		jp := path + "." + job
		jb := &JobBlock{Job: job, Pos: Pos{k.Line, k.Column}, Path: jp}
		d.mapping(v, jp, []string{"actions", "description"}, func(f string, _, fv *yaml.Node) {
			if f == "description" {
				jb.Description, _ = d.str(fv, jp+".description")
				return
			}
			jb.Actions = d.actions(fv, jp+".actions", job, false)
		})
		d.ordering(jb)
		out = append(out, jb)
	})
	return out
}

// ordering warns about stop/pause/resume/update listed before any start (list order).
func (d *decoder) ordering(jb *JobBlock) {
	started := false
	for _, a := range jb.Actions {
		switch a.Type {
		case Start:
			started = true
		case Stop, Pause, Resume, Update:
			if !started {
				d.diags = append(d.diags, Diagnostic{Severity: SevWarning, Code: "job.ordering.before_start",
					Message: fmt.Sprintf("%s of %s is listed before any start", a.Type, jb.Job), Path: a.Path,
					Hint: "list the start first, or make sure the job runs already", Line: a.Pos.Line, Column: a.Pos.Column})
			}
			if a.Type == Stop {
				started = false
			}
		}
	}
}

var actionFields = map[string][]string{
	Start:  {"options", "args", "config_overrides"},
	Stop:   {},
	Pause:  {},
	Resume: {},
	Update: {"options"},
	Log:    {"options"},
	Repeat: {"every", "repeat_every_hours", "while", "max_time", "max_hours", "actions"},
	When:   {"wait_until", "condition", "actions"},
}

// actions decodes an action list; inRepeat refuses nested repeat and when.
func (d *decoder) actions(n *yaml.Node, path, job string, inRepeat bool) []*Action {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf("field.type", path, n, "expected a list of actions, got %s", kindName(n))
		return nil
	}
	var out []*Action
	for i, item := range n.Content {
		if a := d.action(item, fmt.Sprintf("%s[%d]", path, i), job, inRepeat); a != nil {
			out = append(out, a)
		}
	}
	return out
}

func (d *decoder) action(n *yaml.Node, path, job string, inRepeat bool) *Action {
	a := &Action{Pos: Pos{n.Line, n.Column}, Path: path}
	if n.Kind != yaml.MappingNode {
		d.errorf("field.type", path, n, "expected an action (a mapping), got %s", kindName(n))
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			a.Type, _ = d.str(n.Content[i+1], path+".type")
		}
	}
	extra, known := actionFields[a.Type]
	if !known {
		d.add(SevError, "action.type.unknown", path+".type", n, fmt.Sprintf("unknown action type %q", a.Type),
			"one of start, stop, pause, resume, update, log, repeat, when (lower case)")
		return nil
	}
	if inRepeat && !a.Basic() {
		d.add(SevError, "repeat.nested", path, n, fmt.Sprintf("a %s cannot be inside a repeat", a.Type), "only basic actions repeat")
		return nil
	}
	if job == "led_intensity" && (a.Type == Resume || a.Type == When) {
		d.add(SevError, "led_intensity.unsupported", path, n, fmt.Sprintf("led_intensity has no %s", a.Type),
			"use start with new intensities, or stop")
	}
	allowed := append([]string{"type", "t", "hours_elapsed", "if"}, extra...)
	var tNode, hNode, everyNode, repHoursNode, maxNode, maxHoursNode, untilNode, condNode *yaml.Node
	d.mapping(n, path, allowed, func(key string, k, v *yaml.Node) {
		switch key {
		case "t":
			tNode = v
		case "hours_elapsed":
			hNode = v
		case "if":
			a.If = d.cond(v, path+".if")
		case "options":
			a.Options = d.fields(v, path+".options")
		case "config_overrides":
			a.Overrides = d.fields(v, path+".config_overrides")
		case "args":
			a.Args = d.args(v, path+".args")
		case "every":
			everyNode = v
		case "repeat_every_hours":
			repHoursNode = v
		case "max_time":
			maxNode = v
		case "max_hours":
			maxHoursNode = v
		case "while":
			a.While = d.cond(v, path+".while")
		case "wait_until":
			untilNode = v
		case "condition":
			condNode = v
		case "actions":
			a.Actions = d.actions(v, path+".actions", job, a.Type == Repeat)
		}
	})
	switch {
	case tNode != nil && hNode != nil:
		d.add(SevError, "action.time.conflict", path, n, "both t and hours_elapsed are set", "keep t")
	case tNode != nil:
		a.At, _ = d.duration(tNode, path+".t", false, true)
	case hNode != nil:
		a.At, _ = d.duration(hNode, path+".hours_elapsed", true, true)
	default:
		d.add(SevError, "action.time.missing", path, n, "the action has no time", `add t: 0s (or hours_elapsed)`)
	}
	switch a.Type {
	case Repeat:
		d.repeat(a, n, path, everyNode, repHoursNode, maxNode, maxHoursNode)
	case When:
		switch {
		case untilNode == nil && condNode == nil:
			d.add(SevError, "when.condition.missing", path, n, "a when needs wait_until", "")
		case untilNode != nil && condNode != nil:
			d.add(SevWarning, "when.condition.ambiguous", path, n, "both wait_until and condition are set: wait_until is used", "keep one")
			a.Until = d.cond(untilNode, path+".wait_until")
		case untilNode != nil:
			a.Until = d.cond(untilNode, path+".wait_until")
		default:
			a.Until = d.cond(condNode, path+".condition")
		}
	case Log:
		d.logOptions(a, n, path)
	}
	return a
}

func (d *decoder) repeat(a *Action, n *yaml.Node, path string, every, hours, maxT, maxH *yaml.Node) {
	switch {
	case every == nil && hours == nil:
		d.add(SevError, "repeat.every.missing", path, n, "a repeat needs every", "for example every: 30m")
	case every != nil && hours != nil:
		d.add(SevWarning, "repeat.every.ambiguous", path, n, "both every and repeat_every_hours are set: repeat_every_hours is used", "keep one")
		a.Every, _ = d.duration(hours, path+".repeat_every_hours", true, false)
	case hours != nil:
		a.Every, _ = d.duration(hours, path+".repeat_every_hours", true, false)
	default:
		a.Every, _ = d.duration(every, path+".every", false, false)
	}
	switch {
	case maxH != nil:
		a.MaxTime, _ = d.duration(maxH, path+".max_hours", true, false)
	case maxT != nil:
		a.MaxTime, _ = d.duration(maxT, path+".max_time", false, false)
	}
	if a.Every <= 0 {
		return
	}
	for _, c := range a.Actions {
		if c.At > a.Every {
			field := ".t"
			if !strings.HasSuffix(c.Path, "]") {
				field = ""
			}
			d.diags = append(d.diags, Diagnostic{Severity: SevWarning, Code: "repeat.unreachable_action",
				Message: fmt.Sprintf("at %v this action comes after the repeat's interval (%v) and can't ever run", c.At, a.Every),
				Path:    c.Path + field, Line: c.Pos.Line, Column: c.Pos.Column, Hint: "make its t smaller than every"})
		}
	}
}

var logLevels = []string{"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR"}

func (d *decoder) logOptions(a *Action, n *yaml.Node, path string) {
	msg, ok := a.Option("message")
	if !ok {
		d.add(SevError, "log.message.missing", path+".options", n, "a log action needs options.message", "")
		return
	}
	if _, isStr := msg.Value.(string); !isStr {
		d.errorf("field.type", path+".options.message", n, "the message must be a string")
	}
	for _, f := range a.Options {
		switch f.Key {
		case "message":
		case "level":
			lvl, _ := f.Value.(string)
			up := strings.ToUpper(lvl)
			if !contains(logLevels, up) || lvl != up && lvl != strings.ToLower(lvl) {
				d.add(SevError, "log.level.invalid", path+".options.level", n, fmt.Sprintf("log level %v is not one of %s", f.Value, strings.Join(logLevels, ", ")), "")
			}
		default:
			d.errorf("field.unknown", path+".options."+f.Key, n, "unknown field `%s`", f.Key)
		}
	}
}

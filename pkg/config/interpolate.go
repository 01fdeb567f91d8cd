package config

import (
	"fmt"
	"strings"
)

// section is one section's keys in first-seen order (configparser keeps a key's position when
// a later file overrides it) and their raw values.
type section struct {
	keys []string
	vals map[string]string
}

func (s *section) set(k, v string) {
	if _, ok := s.vals[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.vals[k] = v
}

func (s *section) del(k string) {
	if _, ok := s.vals[k]; !ok {
		return
	}
	delete(s.vals, k)
	for i, kk := range s.keys {
		if kk == k {
			s.keys = append(s.keys[:i:i], s.keys[i+1:]...)
			break
		}
	}
}

// layer is raw (uninterpolated) INI content: one file, or several merged key by key.
type layer struct {
	names []string // section order, DEFAULT excluded
	secs  map[string]*section
}

func newLayer() *layer {
	return &layer{secs: map[string]*section{defaultSection: {vals: map[string]string{}}}}
}

// section returns the named section, creating it (at the end of the order) if needed.
func (l *layer) section(name string) *section {
	if s, ok := l.secs[name]; ok {
		return s
	}
	s := &section{vals: map[string]string{}}
	l.secs[name] = s
	l.names = append(l.names, name)
	return s
}

// replace installs a fresh, empty section in place of name (derived sections are rebuilt,
// whatever the files said about them).
func (l *layer) replace(name string) *section {
	s := l.section(name)
	s.keys, s.vals = nil, map[string]string{}
	return s
}

// merge lays o over l: sections are the union, keys of o win (the second file read into the
// same configparser).
func (l *layer) merge(o *layer) {
	for _, name := range append([]string{defaultSection}, o.names...) {
		src, dst := o.secs[name], l.section(name)
		for _, k := range src.keys {
			dst.set(k, src.vals[k])
		}
	}
}

func (l *layer) clone() *layer {
	c := newLayer()
	c.merge(l)
	return c
}

// lookup reads a raw value as configparser's section proxy does: the section's own keys,
// then [DEFAULT]. A section that does not exist has no keys, not even the defaults.
func (l *layer) lookup(sec, key string) (string, bool) {
	s, ok := l.secs[sec]
	if !ok {
		return "", false
	}
	if v, ok := s.vals[key]; ok {
		return v, true
	}
	v, ok := l.secs[defaultSection].vals[key]
	return v, ok
}

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

// resolve returns the interpolated value of sec/key (configparser BasicInterpolation):
// %% is a literal %, %(name)s is the value of name in the same section or [DEFAULT],
// expanded recursively; any other % is an error.
func (l *layer) resolve(sec, key string) (string, error) {
	raw, _ := l.lookup(sec, key)
	var b strings.Builder
	if err := l.expand(&b, sec, key, raw, 1); err != nil {
		return raw, err
	}
	return b.String(), nil
}

func (l *layer) expand(b *strings.Builder, sec, key, rest string, depth int) error {
	if depth > maxInterpolationDepth {
		return fmt.Errorf("[%s] %s: interpolation deeper than %d levels (a reference loop?)", sec, key, maxInterpolationDepth)
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			end := strings.Index(rest, ")s")
			name := ""
			if end > 2 {
				name = rest[2:end]
			}
			if name == "" || strings.Contains(name, ")") {
				return fmt.Errorf("[%s] %s: bad interpolation variable reference %q", sec, key, rest)
			}
			rest = rest[end+2:]
			v, ok := l.lookup(sec, name)
			if !ok {
				return fmt.Errorf("[%s] %s: %%(%s)s refers to a key that is not in the section or [DEFAULT]", sec, key, name)
			}
			if err := l.expand(b, sec, key, v, depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("[%s] %s: '%%' must be followed by '%%' or '(' (write %%%% for a literal percent sign), found %q", sec, key, rest)
		}
	}
	return nil
}

// escape makes a literal value safe to store in a layer that will be interpolated.
func escape(v string) string { return strings.ReplaceAll(v, "%", "%%") }

package descriptor

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pioreactor/pioreactord/internal/yamlerr"
)

// Folder is a ui/ folder whose YAML files are read over the built-ins, with the source its
// descriptors get when a file names none ("user" for $DOT_PIOREACTOR/ui, "plugins" for
// $DOT_PIOREACTOR/plugins/ui).
type Folder struct {
	Path   string
	Source string
}

// fileError is a file skipped: where, and what is wrong.
type fileError struct {
	line int
	msg  string
}

func (e *fileError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Load reads the folders in order over s: jobs/, settings/, charts/ and
// automations/<type>/ each hold one descriptor a *.yaml (or *.yml) file, read in name order;
// a descriptor replaces the one with the same key. Files that fail are logged and skipped.
func (s Set) Load(log *slog.Logger, folders ...Folder) Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := Set{Jobs: slices.Clone(s.Jobs), Collections: slices.Clone(s.Collections), Charts: slices.Clone(s.Charts),
		Automations: map[string][]Automation{}, bioreactor: s.bioreactor}
	for typ, as := range s.Automations {
		out.Automations[typ] = slices.Clone(as)
	}
	for _, f := range folders {
		each(log, filepath.Join(f.Path, "jobs"), func(n *yaml.Node) error {
			j, err := decodeJob(n, f.Source)
			if err == nil {
				out.Jobs = upsert(out.Jobs, j, func(x Job) string { return x.JobName })
			}
			return err
		})
		each(log, filepath.Join(f.Path, "settings"), func(n *yaml.Node) error {
			c, err := decodeCollection(n, f.Source)
			if err == nil {
				out.Collections = upsert(out.Collections, c, func(x Collection) string { return x.Key })
			}
			return err
		})
		each(log, filepath.Join(f.Path, "charts"), func(n *yaml.Node) error {
			c, err := decodeChart(n, f.Source)
			if err == nil {
				out.Charts = upsert(out.Charts, c, func(x Chart) string { return x.ChartKey })
			}
			return err
		})
		for _, typ := range AutomationTypes {
			each(log, filepath.Join(f.Path, "automations", typ), func(n *yaml.Node) error {
				a, err := decodeAutomation(n, f.Source)
				if err == nil {
					out.Automations[typ] = upsert(out.Automations[typ], a, func(x Automation) string { return x.AutomationName })
				}
				return err
			})
		}
	}
	return out.withBioreactor(out.bioreactor)
}

// upsert replaces the element with v's key, or appends v.
func upsert[T any](list []T, v T, key func(T) string) []T {
	for i, x := range list {
		if key(x) == key(v) {
			list[i] = v
			return list
		}
	}
	return append(list, v)
}

// each parses every YAML file of dir, in name order, and hands its document to use; a
// missing dir is no error.
func each(log *slog.Logger, dir string, use func(*yaml.Node) error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Error("read descriptor folder", "dir", dir, "err", err)
		}
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		path := filepath.Join(dir, name)
		if err := loadFile(path, use); err != nil {
			var fe *fileError
			line := 0
			if errors.As(err, &fe) {
				line = fe.line
			}
			log.Error("descriptor file skipped", "file", path, "line", line, "err", err)
		}
	}
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

func loadFile(path string, use func(*yaml.Node) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &fileError{0, err.Error()}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		msg, line := yamlerr.Message(err), 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			fmt.Sscan(m[1], &line)
		}
		return &fileError{line, yamlLine.ReplaceAllString(strings.TrimPrefix(msg, "yaml: "), "")}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return &fileError{max(doc.Line, 1), "a descriptor file holds one mapping (key: value lines)"}
	}
	return use(doc.Content[0])
}

// decode fills v from a mapping node; a type mismatch names its line.
func decode(n *yaml.Node, v any) error {
	if err := n.Decode(v); err != nil {
		line := n.Line
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			fmt.Sscan(m[1], &line)
		}
		return &fileError{line, strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  ")}
	}
	return nil
}

// at is the line of a value in a mapping (by key) or a sequence (by index), following path;
// the deepest node found when the path ends early.
func at(n *yaml.Node, path ...any) int {
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}

func problem(n *yaml.Node, msg string, path ...any) error { return &fileError{at(n, path...), msg} }

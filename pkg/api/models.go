package api

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Model is a bioreactor model (docs/hardware.md, "Bioreactor models"), the object of GET /api/models.
type Model struct {
	ModelName               string  `json:"model_name" yaml:"model_name"`
	ModelVersion            string  `json:"model_version" yaml:"model_version"`
	DisplayName             string  `json:"display_name" yaml:"display_name"`
	ReactorCapacityML       float64 `json:"reactor_capacity_ml" yaml:"reactor_capacity_ml"`
	ReactorMaxFillVolumeML  float64 `json:"reactor_max_fill_volume_ml" yaml:"reactor_max_fill_volume_ml"`
	ReactorDiameterMM       float64 `json:"reactor_diameter_mm" yaml:"reactor_diameter_mm"`
	MaxTempToReduceHeating  float64 `json:"max_temp_to_reduce_heating" yaml:"max_temp_to_reduce_heating"`
	MaxTempToDisableHeating float64 `json:"max_temp_to_disable_heating" yaml:"max_temp_to_disable_heating"`
	MaxTempToShutdown       float64 `json:"max_temp_to_shutdown" yaml:"max_temp_to_shutdown"`
	IsLegacy                bool    `json:"is_legacy" yaml:"-"`
	IsContrib               bool    `json:"is_contrib" yaml:"-"`
}

// BuiltinModels are the models every install knows, in the table's order.
func BuiltinModels() []Model {
	m := func(name, version, display string, capacity, fill, reduce, disable, shutdown float64, legacy bool) Model {
		return Model{ModelName: name, ModelVersion: version, DisplayName: display, ReactorCapacityML: capacity,
			ReactorMaxFillVolumeML: fill, ReactorDiameterMM: 27, MaxTempToReduceHeating: reduce,
			MaxTempToDisableHeating: disable, MaxTempToShutdown: shutdown, IsLegacy: legacy}
	}
	return []Model{
		m("pioreactor_20ml", "1.0", "Pioreactor 20ml, v1.0", 20, 18, 63, 65, 66, true),
		m("pioreactor_20ml", "1.1", "Pioreactor 20ml, v1.1", 20, 18, 78, 80, 85, true),
		m("pioreactor_20ml", "1.5", "Pioreactor 20ml, v1.5", 20, 18, 78, 80, 85, false),
		m("pioreactor_20ml_XR", "1.5", "Pioreactor 20ml XR, v1.5", 20, 18, 78, 80, 85, false),
		m("pioreactor_40ml", "1.0", "Pioreactor 40ml, v1.0", 40, 36, 78, 80, 85, true),
		m("pioreactor_40ml", "1.5", "Pioreactor 40ml, v1.5", 40, 36, 78, 80, 85, false),
		m("pioreactor_40ml_XR", "1.5", "Pioreactor 40ml XR, v1.5", 40, 36, 78, 80, 85, false),
	}
}

// LoadModels is the built-ins plus every *.yaml / *.yml of dir ($DOT_PIOREACTOR/models),
// tagged contrib; a user model replaces a built-in of the same name and version. A file
// that does not decode, or lacks its name or version, is logged and skipped. A missing dir
// is no user models.
func LoadModels(dir string, log *slog.Logger) []Model {
	out := BuiltinModels()
	if dir == "" {
		return out
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) && log != nil {
			log.Warn("read models directory", "dir", dir, "err", err)
		}
		return out
	}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		m, err := readModel(filepath.Join(dir, e.Name()))
		if err != nil {
			if log != nil {
				log.Warn("skip model file", "file", e.Name(), "err", err)
			}
			continue
		}
		i := slices.IndexFunc(out, func(b Model) bool { return b.ModelName == m.ModelName && b.ModelVersion == m.ModelVersion })
		if i >= 0 {
			out[i] = m
		} else {
			out = append(out, m)
		}
	}
	return out
}

func readModel(path string) (Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Model{}, err
	}
	var m Model
	if err := yaml.Unmarshal(b, &m); err != nil {
		return Model{}, fmt.Errorf("decode %s: %w", filepath.Base(path), err)
	}
	if m.ModelName == "" || m.ModelVersion == "" {
		return Model{}, fmt.Errorf("%s: model_name and model_version are required", filepath.Base(path))
	}
	m.IsContrib = true
	return m, nil
}

// models is the leader's registry of models.
func (s *Server) models() []Model {
	if m := s.leader().Models; m != nil {
		return m
	}
	return BuiltinModels()
}

// FindModel looks a registered model up by name and version.
func FindModel(models []Model, name, version string) (Model, bool) {
	for _, m := range models {
		if m.ModelName == name && m.ModelVersion == version {
			return m, true
		}
	}
	return Model{}, false
}

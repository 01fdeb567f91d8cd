package contract

import "strings"

// Model names a unit's bioreactor model (docs/hardware.md, "Bioreactor models"), e.g.
// pioreactor_20ml 1.0 or pioreactor_40ml_XR 1.5. The zero value is "not known".
type Model struct {
	Name    string `json:"model_name"`
	Version string `json:"model_version"`
}

// Known reports whether both the name and the version are set.
func (m Model) Known() bool { return m.Name != "" && m.Version != "" }

// XR reports an extended-range model (its name ends in _XR): growth rate may read od_fused.
func (m Model) XR() bool { return strings.HasSuffix(m.Name, "_XR") }

// ModelFromEnv is the model a run request's env names (MODEL_NAME and MODEL_VERSION, both
// set, as the leader sends them from its inventory); the zero Model otherwise.
func ModelFromEnv(env map[string]string) Model {
	m := Model{Name: env["MODEL_NAME"], Version: env["MODEL_VERSION"]}
	if !m.Known() {
		return Model{}
	}
	return m
}

package supervisor

import (
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// TestJobModel: a job's Options.Model is the run request's MODEL_NAME/MODEL_VERSION when it
// names both (the leader sends its inventory's), else the unit's own, else unknown.
func TestJobModel(t *testing.T) {
	t.Parallel()
	xr := contract.Model{Name: "pioreactor_20ml_XR", Version: "1.5"}
	v10 := contract.Model{Name: "pioreactor_20ml", Version: "1.0"}
	for _, c := range []struct {
		name string
		own  func() contract.Model // nil: the unit does not know
		env  map[string]string
		want contract.Model
	}{
		{"nothing known", nil, nil, contract.Model{}},
		{"the unit's own", func() contract.Model { return xr }, nil, xr},
		{"the request's over the unit's", func() contract.Model { return xr }, map[string]string{"MODEL_NAME": "pioreactor_20ml", "MODEL_VERSION": "1.0"}, v10},
		{"a request with a name only", func() contract.Model { return xr }, map[string]string{"MODEL_NAME": "pioreactor_20ml"}, xr},
		{"a request's, unit unknown", nil, map[string]string{"MODEL_NAME": "pioreactor_20ml", "MODEL_VERSION": "1.0"}, v10},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := &Supervisor{cfg: Config{Model: c.own}}
			if got := s.model(c.env); got != c.want {
				t.Fatalf("model = %+v, want %+v", got, c.want)
			}
		})
	}
}

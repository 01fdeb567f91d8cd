package api

import (
	"errors"
	"sync"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// modelUnit is a unit that keeps its model (ModelKeeper).
type modelUnit struct {
	*fakeUnit
	err error

	mu    sync.Mutex
	model contract.Model
}

func (u *modelUnit) SetModel(m contract.Model) error {
	if u.err != nil {
		return u.err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.model = m
	return nil
}

func (u *modelUnit) kept() contract.Model {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.model
}

// TestHardwareCheckKeepsTheModel: the model the leader sends with POST
// /unit_api/hardware/check (after PUT /api/workers/<unit>/model) becomes the unit's own; an
// unknown model is refused and changes nothing; a unit that cannot keep it answers 500.
func TestHardwareCheckKeepsTheModel(t *testing.T) {
	t.Parallel()
	xr := contract.Model{Name: "pioreactor_20ml_XR", Version: "1.5"}
	for _, c := range []struct {
		name   string
		body   string
		err    error
		status int
		want   contract.Model
	}{
		{"registered model", `{"model_name":"pioreactor_20ml_XR","model_version":"1.5"}`, nil, 202, xr},
		{"unknown model", `{"model_name":"x","model_version":"1"}`, nil, 400, contract.Model{}},
		{"keeping fails", `{"model_name":"pioreactor_20ml_XR","model_version":"1.5"}`, errors.New("disk full"), 500, contract.Model{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			u := &modelUnit{fakeUnit: &fakeUnit{name: "pio01"}, err: c.err}
			srv := newUnitServer(t, u, &fakeClock{t: t0})
			if status, body := call(t, srv.URL, "POST", "/unit_api/hardware/check", c.body); status != c.status {
				t.Fatalf("status %d (%s), want %d", status, body, c.status)
			}
			if got := u.kept(); got != c.want {
				t.Fatalf("kept %+v, want %+v", got, c.want)
			}
		})
	}
}

package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pioreactor/pioreactord/pkg/calibration"
	"github.com/pioreactor/pioreactord/pkg/calibration/session"
	"github.com/pioreactor/pioreactord/pkg/cluster"
	"github.com/pioreactor/pioreactord/pkg/store"
)

// linearRig is hardware whose pump moves 0.5 mL/s.
type linearRig struct{}

func (linearRig) RunPump(context.Context, string, float64) (float64, error) { return 100, nil }
func (linearRig) MeasureRPM(_ context.Context, dc, _, _ float64) (float64, error) {
	return 25 * dc, nil
}
func (linearRig) StopStirring(context.Context) error { return nil }
func (linearRig) ODVolts(context.Context, string, float64) (float64, error) {
	return 0.1, nil
}

// sessionCluster is a leader proxying to one worker with guided sessions.
func sessionCluster(t *testing.T) (leader, worker string, cals *calibration.Store) {
	t.Helper()
	cals, err := calibration.Open(filepath.Join(t.TempDir(), "cals"))
	if err != nil {
		t.Fatal(err)
	}
	m := session.New("pio01", linearRig{}, cals, (&fakeClock{t: t0}).Now)
	w, err := New(Config{Unit: &fakeUnit{name: "pio01"}, Sessions: m, Calibrations: cals})
	if err != nil {
		t.Fatal(err)
	}
	ws := httptest.NewServer(w.Handler())
	t.Cleanup(ws.Close)
	st := newFakeStore()
	_ = st.PutWorker(store.Worker{Unit: "pio01", AddedAt: t0})
	l, err := New(Config{Unit: &fakeUnit{name: "leader"}, Leader: &Leader{Store: st, Publisher: &fakePublisher{},
		Cluster: cluster.New(cluster.Config{Resolve: func(string) (string, error) { return ws.URL, nil }})}})
	if err != nil {
		t.Fatal(err)
	}
	ls := httptest.NewServer(l.Handler())
	t.Cleanup(ls.Close)
	return ls.URL, ws.URL, cals
}

func TestSessionRoutesThroughTheLeader(t *testing.T) {
	t.Parallel()
	url, _, cals := sessionCluster(t)
	base := "/api/workers/pio01/calibrations/sessions"
	code, body := call(t, url, "POST", base, map[string]string{"target_device": "media_pump", "protocol_name": "duration_based"})
	var v session.View
	if err := json.Unmarshal([]byte(body), &v); code != 201 || err != nil || v.Step == nil || v.Step.StepID != "intro" {
		t.Fatalf("start: %d %s", code, body)
	}
	id := v.Session.SessionID
	steps := []map[string]any{{"durations": []float64{2, 4}}, {}, {"volume_ml": 1.0}, {}, {"volume_ml": 2.0}}
	for _, in := range steps {
		if code, body := call(t, url, "POST", base+"/"+id+"/inputs", map[string]any{"inputs": in}); code != 200 {
			t.Fatalf("inputs %v: %d %s", in, code, body)
		}
	}
	code, body = call(t, url, "GET", base+"/"+id, nil)
	if code != 200 || !strings.Contains(body, `"step_id":"review"`) || !strings.Contains(body, `"residuals"`) {
		t.Fatalf("review: %d %s", code, body)
	}
	if code, body := call(t, url, "POST", base+"/"+id+"/inputs", map[string]any{"inputs": map[string]any{"save": true}}); code != 200 || !strings.Contains(body, `"status":"complete"`) {
		t.Fatalf("save: %d %s", code, body)
	}
	if c, active, err := cals.Active("media_pump"); err != nil || !active || c.Curve.Coefficients[0] != 0.5 {
		t.Errorf("active %v %v %v", c, active, err)
	}
	bad := []struct {
		method, path string
		body         any
		code         int
		want         string
	}{
		{"GET", base + "/nope", nil, 404, "Calibration session not found."},
		{"POST", base, `{}`, 400, "Invalid request body."},
		{"POST", base, `[1]`, 400, "Missing JSON payload."},
		{"POST", base, map[string]string{"target_device": "od90", "protocol_name": "duration_based"}, 400, "Unknown calibration protocol."},
		{"POST", "/api/workers/$broadcast/calibrations/sessions", map[string]string{"target_device": "stirring", "protocol_name": "dc_based"}, 400, "$broadcast"},
		{"POST", "/api/workers/nosuch/calibrations/sessions", map[string]string{"target_device": "stirring", "protocol_name": "dc_based"}, 400, "Unknown Pioreactor unit"},
		{"POST", base + "/" + id + "/inputs", map[string]any{"inputs": map[string]any{}}, 400, "over"},
	}
	for _, b := range bad {
		if code, body := call(t, url, b.method, b.path, b.body); code != b.code || !strings.Contains(body, b.want) {
			t.Errorf("%s %s: %d %s, want %d %q", b.method, b.path, code, body, b.code, b.want)
		}
	}
}

func TestAbortedSessionSavesNothing(t *testing.T) {
	t.Parallel()
	url, worker, cals := sessionCluster(t)
	base := "/api/workers/pio01/calibrations/sessions"
	_, body := call(t, url, "POST", base, map[string]string{"target_device": "stirring", "protocol_name": "dc_based"})
	var v session.View
	_ = json.Unmarshal([]byte(body), &v)
	id := v.Session.SessionID
	call(t, url, "POST", base+"/"+id+"/inputs", map[string]any{"inputs": map[string]any{}})
	call(t, url, "POST", base+"/"+id+"/inputs", map[string]any{"inputs": map[string]any{}})
	if code, body := call(t, url, "POST", base+"/"+id+"/abort", nil); code != 200 || !strings.Contains(body, `"status":"aborted"`) || !strings.Contains(body, `"step":null`) {
		t.Fatalf("abort: %d %s", code, body)
	}
	if list, _ := cals.List("stirring"); len(list) != 0 {
		t.Errorf("an aborted session saved %v", list)
	}
	if _, body := call(t, worker, "GET", "/unit_api/calibration_protocols", nil); !strings.Contains(body, `"id":"stirring_dc_based"`) {
		t.Errorf("protocols %s", body)
	}
}

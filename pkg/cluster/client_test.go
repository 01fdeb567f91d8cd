package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeUnit is a unit whose routes are scripted per test.
type fakeUnit struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []string // "METHOD path body"
}

func newUnit(t *testing.T, routes map[string]http.HandlerFunc) *fakeUnit {
	t.Helper()
	u := &fakeUnit{}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			u.mu.Lock()
			u.calls = append(u.calls, fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, b))
			u.mu.Unlock()
			h(w, r)
		})
	}
	u.srv = httptest.NewServer(mux)
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fakeUnit) Calls() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.calls...)
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// task answers 202 with a result path, then the given poll answers in turn (the last repeats).
func task(polls ...string) map[string]http.HandlerFunc {
	var n atomic.Int64
	return map[string]http.HandlerFunc{
		"POST /unit_api/work": reply(202, `{"unit":"u","task_id":"t1","result_url_path":"/unit_api/task_results/t1","status":"accepted"}`),
		"GET /unit_api/task_results/t1": func(w http.ResponseWriter, r *http.Request) {
			i := min(int(n.Add(1))-1, len(polls)-1)
			code := 202
			var st struct{ Status string }
			_ = json.Unmarshal([]byte(polls[i]), &st)
			if st.Status == "succeeded" || st.Status == "failed" {
				code = 200
			}
			reply(code, polls[i])(w, r)
		},
	}
}

func client(units map[string]*fakeUnit, extra map[string]string) *Client {
	return New(Config{
		PollInterval: 5 * time.Millisecond,
		Resolve: func(unit string) (string, error) {
			if u, ok := units[unit]; ok {
				return u.srv.URL, nil
			}
			if url, ok := extra[unit]; ok {
				return url, nil
			}
			return "", fmt.Errorf("no address for %s", unit)
		},
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDoEnvelope(t *testing.T) {
	t.Parallel()
	const post, poll = "POST", "/unit_api/work"
	for _, tc := range []struct {
		name   string
		routes map[string]http.HandlerFunc
		method string
		want   string
	}{
		{"plain value", map[string]http.HandlerFunc{"GET /unit_api/work": reply(200, `{"version":"26.6.0"}`)}, "GET",
			`{"u":{"ok":true,"unit":"u","value":{"version":"26.6.0"}}}`},
		{"status success stripped", map[string]http.HandlerFunc{"GET /unit_api/work": reply(200, `{"status":"success","b":1,"a":2}`)}, "GET",
			`{"u":{"ok":true,"unit":"u","value":{"b":1,"a":2}}}`},
		{"only status success", map[string]http.HandlerFunc{"POST /unit_api/work": reply(201, `{"status":"success"}`)}, post,
			`{"u":{"ok":true,"unit":"u","value":{}}}`},
		{"other status kept", map[string]http.HandlerFunc{"GET /unit_api/work": reply(200, `{"status":"ok"}`)}, "GET",
			`{"u":{"ok":true,"unit":"u","value":{"status":"ok"}}}`},
		{"empty body is null", map[string]http.HandlerFunc{"GET /unit_api/work": reply(204, ``)}, "GET",
			`{"u":{"ok":true,"unit":"u","value":null}}`},
		{"202 lock notice is a value", map[string]http.HandlerFunc{"POST /unit_api/work": reply(202, `{"status":"running","lock":"power-lock"}`)}, post,
			`{"u":{"ok":true,"unit":"u","value":{"status":"running","lock":"power-lock"}}}`},
		{"task succeeded", task(`{"status":"pending"}`, `{"status":"succeeded","result":{"ok":true}}`), post,
			`{"u":{"ok":true,"unit":"u","value":{"ok":true}}}`},
		{"task succeeded with null", task(`{"status":"succeeded","result":null}`), post,
			`{"u":{"ok":true,"unit":"u","value":null}}`},
		{"task failed", task(`{"status":"pending"}`, `{"status":"failed","error":"Unknown job: stirrng","cause":"no such job"}`), post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"task_failed","message":"Unknown job: stirrng","cause":"no such job","remediation":"Check the unit's logs."},"status_code":200,"retryable":false}}`},
		{"task never finishes", task(`{"status":"pending"}`), post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"task_timeout","message":"POST to u's /unit_api/work timed out.","cause":"The task was still pending when the leader stopped polling.","remediation":"The unit may still finish the task; check its state, then retry."},"status_code":null,"retryable":true}}`},
		{"task stuck running", task(`{"status":"running","error":"locked"}`), post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"task_incomplete","message":"POST to u's /unit_api/work did not complete.","cause":"The task was still running when the leader stopped polling.","remediation":"Wait for the unit's running operation to finish, then retry."},"status_code":null,"retryable":true}}`},
		{"succeeded without result", task(`{"status":"succeeded"}`), post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"missing_result","message":"POST to u's /unit_api/work finished without a result.","cause":"The task answer has no result field.","remediation":"Check the unit's software version."},"status_code":200,"retryable":false}}`},
		{"garbage poll answer", task(`[1,2]`), post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"invalid_response","message":"POST to u's /unit_api/work returned an unreadable task status.","cause":"/unit_api/task_results/t1 answered \"[1,2]\".","remediation":"Check the unit's software version."},"status_code":202,"retryable":false}}`},
		{"400 envelope copied", map[string]http.HandlerFunc{"POST /unit_api/work": reply(400, `{"error":"No job filter specified","status":400,"cause":"empty","remediation":"Add a filter."}`)}, post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"http_error","message":"No job filter specified","cause":"empty","remediation":"Add a filter."},"status_code":400,"retryable":false}}`},
		{"envelope with other status not copied", map[string]http.HandlerFunc{"POST /unit_api/work": reply(400, `{"error":"x","status":500}`)}, post,
			`{"u":{"ok":false,"unit":"u","error":{"kind":"http_error","message":"Could not POST to u's /unit_api/work (HTTP 400).","cause":"{\"error\":\"x\",\"status\":500}","remediation":"Check the request; the unit refused it."},"status_code":400,"retryable":false}}`},
		{"500 retryable", map[string]http.HandlerFunc{"GET /unit_api/work": reply(500, ``)}, "GET",
			`{"u":{"ok":false,"unit":"u","error":{"kind":"http_error","message":"Could not GET from u's /unit_api/work (HTTP 500).","cause":"Internal Server Error","remediation":"Retry; if it persists, check u's logs."},"status_code":500,"retryable":true}}`},
		{"not json", map[string]http.HandlerFunc{"GET /unit_api/work": reply(200, `<html>`)}, "GET",
			`{"u":{"ok":false,"unit":"u","error":{"kind":"decode_error","message":"GET from u's /unit_api/work returned a body that is not JSON.","cause":"\u003chtml\u003e","remediation":"Check the unit's software version."},"status_code":200,"retryable":false}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUnit(t, tc.routes)
			c := client(map[string]*fakeUnit{"u": u}, nil)
			got := mustJSON(t, c.Do(context.Background(), []string{"u"}, Request{Method: tc.method, Path: poll, Timeout: 100 * time.Millisecond}))
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDeadUnitDoesNotHideOthers(t *testing.T) {
	t.Parallel()
	ok := newUnit(t, map[string]http.HandlerFunc{"GET /unit_api/versions/app": reply(200, `{"version":"1"}`)})
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // its port now refuses connections
	c := client(map[string]*fakeUnit{"pio02": ok}, map[string]string{"pio01": dead.URL})
	rs := c.Do(context.Background(), []string{"pio02", "pio01", "pio03"}, Request{Path: "/unit_api/versions/app"})
	if len(rs) != 3 || rs[0].Unit != "pio01" || rs[1].Unit != "pio02" || rs[2].Unit != "pio03" {
		t.Fatalf("GET results not sorted by unit: %s", mustJSON(t, rs))
	}
	for _, u := range []string{"pio01", "pio03"} { // refused, and unresolvable
		r, _ := rs.Get(u)
		if r.OK || r.Error.Kind != ConnectionError || !r.Retryable || r.StatusCode != nil {
			t.Errorf("%s: %s", u, mustJSON(t, r))
		}
		if want := "Could not GET from " + u + "'s /unit_api/versions/app."; r.Error.Message != want {
			t.Errorf("%s message %q, want %q", u, r.Error.Message, want)
		}
	}
	if r, _ := rs.Get("pio02"); !r.OK || string(r.Value) != `{"version":"1"}` {
		t.Errorf("pio02: %s", mustJSON(t, r))
	}
}

func TestPostKeepsOrderAndSendsPerUnitBodies(t *testing.T) {
	t.Parallel()
	// Both units block until the other has been called: proof that the calls overlap.
	var arrived sync.WaitGroup
	arrived.Add(2)
	h := func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		done := make(chan struct{})
		go func() { arrived.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			w.WriteHeader(500)
			return
		}
		reply(200, `{"ok":true}`)(w, r)
	}
	units := map[string]*fakeUnit{
		"zeta":  newUnit(t, map[string]http.HandlerFunc{"POST /unit_api/jobs/run/job_name/stirring": h}),
		"alpha": newUnit(t, map[string]http.HandlerFunc{"POST /unit_api/jobs/run/job_name/stirring": h}),
	}
	c := client(units, nil)
	rs := c.Do(context.Background(), []string{"zeta", "alpha", "zeta"}, Request{
		Method: "POST", Path: "/unit_api/jobs/run/job_name/stirring",
		Body:   map[string]any{"env": map[string]string{"HOSTNAME": "?"}},
		Bodies: map[string]any{"alpha": map[string]any{"env": map[string]string{"HOSTNAME": "alpha"}}},
	})
	if got := mustJSON(t, rs); got != `{"zeta":{"ok":true,"unit":"zeta","value":{"ok":true}},"alpha":{"ok":true,"unit":"alpha","value":{"ok":true}}}` {
		t.Fatalf("got %s", got)
	}
	if got := units["alpha"].Calls(); len(got) != 1 || got[0] != `POST /unit_api/jobs/run/job_name/stirring {"env":{"HOSTNAME":"alpha"}}` {
		t.Errorf("alpha calls %q", got)
	}
	if got := units["zeta"].Calls(); len(got) != 1 || got[0] != `POST /unit_api/jobs/run/job_name/stirring {"env":{"HOSTNAME":"?"}}` {
		t.Errorf("zeta calls %q (a duplicate unit must be called once)", got)
	}
}

func TestEmptyUnitList(t *testing.T) {
	t.Parallel()
	c := client(nil, nil)
	if got := mustJSON(t, c.Do(context.Background(), nil, Request{Path: "/unit_api/jobs/running"})); got != `{}` {
		t.Fatalf("got %s", got)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"b":{"ok":true,"unit":"b","value":[1]},"a":{"ok":false,"unit":"a","error":{"kind":"connection_error","message":"m","cause":"c","remediation":"r"},"status_code":null,"retryable":true}}`
	var rs Results
	if err := json.Unmarshal([]byte(in), &rs); err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, rs); got != in {
		t.Fatalf("got %s", got)
	}
}

func TestSendTimeoutIsConnectionError(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	u := newUnit(t, map[string]http.HandlerFunc{"POST /unit_api/slow": func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}})
	defer close(release)
	c := New(Config{SendTimeout: 20 * time.Millisecond, Resolve: func(string) (string, error) { return u.srv.URL, nil }})
	r := c.Call(context.Background(), "u", Request{Method: "POST", Path: "/unit_api/slow"})
	if r.OK || r.Error.Kind != ConnectionError || !r.Retryable {
		t.Fatalf("got %s", mustJSON(t, r))
	}
}

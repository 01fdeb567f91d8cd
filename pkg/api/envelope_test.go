package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestErrorEnvelope(t *testing.T) {
	t.Parallel()
	tc := newCluster(t)
	worker := newUnitServer(t, &fakeUnit{name: "pio01"}, tc.clock)
	for _, c := range []struct {
		name, base, method, path string
		status                   int
		want                     string
	}{
		{"unit 404", worker.URL, "GET", "/unit_api/this-doesnt-exist", 404,
			`{"error":"Not found.","status":404,"cause":"No route matches GET /unit_api/this-doesnt-exist.","remediation":"Check the URL."}`},
		{"leader api 404", tc.leader.URL, "GET", "/api/this-doesnt-exist", 404,
			`{"error":"Not found.","status":404,"cause":"No route matches GET /api/this-doesnt-exist.","remediation":"Check the URL."}`},
		{"api on a worker", worker.URL, "GET", "/api/workers", 404,
			`{"error":"Can't access /api/ endpoints when this unit isn't the leader. Did you mean /unit_api/?","status":404,"cause":"Can't access /api/ endpoints when this unit isn't the leader. Did you mean /unit_api/?","remediation":"Send /api/ requests to the leader."}`},
		{"api root on a worker", worker.URL, "POST", "/api", 404,
			`{"error":"Can't access /api/ endpoints when this unit isn't the leader. Did you mean /unit_api/?","status":404,"cause":"Can't access /api/ endpoints when this unit isn't the leader. Did you mean /unit_api/?","remediation":"Send /api/ requests to the leader."}`},
		{"405", worker.URL, "DELETE", "/unit_api/health", 405,
			`{"error":"Method not allowed.","status":405,"cause":"DELETE is not allowed on /unit_api/health."}`},
		{"no remediation omitted", tc.leader.URL, "GET", "/api/workers/ghost", 404,
			`{"error":"Worker not found","status":404,"cause":"ghost is not in the inventory."}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			status, body := call(t, c.base, c.method, c.path, nil)
			if status != c.status || body != c.want {
				t.Errorf("got %d %s\nwant %d %s", status, body, c.status, c.want)
			}
		})
	}
}

func TestStrictDecoding(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	tc.experiment(t, "demo", "pio01")
	const expRemedy = "Send a JSON object with the required fields: experiment."
	for _, c := range []struct {
		name, path, body string
		cause, remedy    string
	}{
		{"malformed", "/api/experiments", `{`, "JSON is malformed: unexpected end of JSON input (byte 1)", expRemedy},
		{"unknown field", "/api/experiments", `{"experiment":"a","colour":"red"}`, "Object contains unknown field `colour` - at `$`", expRemedy},
		{"case matters", "/api/experiments", `{"Experiment":"a"}`, "Object contains unknown field `Experiment` - at `$`", expRemedy},
		{"wrong type", "/api/experiments", `{"experiment":5}`, "Expected `str`, got `int` - at `$.experiment`", expRemedy},
		{"wrong type float", "/api/experiments", `{"experiment":"a","description":1.5}`, "Expected `str`, got `float` - at `$.description`", expRemedy},
		{"missing required", "/api/experiments", `{}`, "Object missing required field `experiment`", expRemedy},
		{"null required", "/api/experiments", `{"experiment":null}`, "Expected `str`, got `null` - at `$.experiment`", expRemedy},
		{"not an object", "/api/experiments", `["a"]`, "Expected `object`, got `array` - at `$`", expRemedy},
		{"empty body", "/api/experiments", ``, "Input data was truncated: the request body is empty.", expRemedy},
		{"trailing data", "/api/experiments", `{"experiment":"a"} {}`, "JSON is malformed: invalid character '{' after top-level value (byte 20)", expRemedy},
		{"run body wrong type", "/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo", `{"options":"fast"}`,
			"Expected `object`, got `str` - at `$.options`", "Send a valid JSON object."},
		{"update settings not object", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/demo", `{"settings":[1]}`,
			"Expected `object`, got `array` - at `$.settings`", "Send a JSON object with the required fields: settings."},
		{"update empty", "/api/workers/pio01/jobs/update/job_name/stirring/experiments/demo", `{}`,
			"Object missing required field `settings`", "Send a JSON object with the required fields: settings."},
		{"register worker empty", "/api/workers", `{}`,
			"Object missing required field `pioreactor_unit`", "Send a JSON object with the required fields: pioreactor_unit."},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			method := "POST"
			switch {
			case strings.Contains(c.path, "/update/"):
				method = "PATCH"
			case c.path == "/api/workers":
				method = "PUT"
			}
			status, body := call(t, tc.leader.URL, method, c.path, c.body)
			v := decode(t, body)
			if status != 400 || v["error"] != "Invalid request body." || v["status"] != 400.0 ||
				v["cause"] != c.cause || v["remediation"] != c.remedy {
				t.Errorf("got %d %s\nwant cause %q remediation %q", status, body, c.cause, c.remedy)
			}
		})
	}
	t.Run("run body tolerates unknown fields", func(t *testing.T) {
		t.Parallel()
		status, body := call(t, tc.leader.URL, "PATCH", "/api/workers/pio01/jobs/run/job_name/stirring/experiments/demo",
			`{"options":{"target_rpm":400},"colour":"red"}`)
		await(t, tc.leader.URL, status, body)
	})
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	tc := newCluster(t, "pio01")
	big := `{"experiment":"` + strings.Repeat("a", 1<<20) + `"}`
	for _, c := range []struct {
		name    string
		chunked bool
	}{{"content-length", false}, {"chunked", true}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var rd io.Reader = strings.NewReader(big)
			if c.chunked {
				rd = io.MultiReader(rd) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("POST", tc.leader.URL+"/api/experiments", rd)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			want := `{"error":"Request body too large.","status":413,"cause":"The request body exceeds the limit of 65536 bytes.","remediation":"Send a smaller request body."}`
			if resp.StatusCode != 413 || strings.TrimSpace(string(b)) != want {
				t.Errorf("got %d %s", resp.StatusCode, b)
			}
		})
	}
}

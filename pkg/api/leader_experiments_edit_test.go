package api

import (
	"slices"
	"strings"
	"testing"
)

func TestUpdateExperiment(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t)
	sc.experiment("exp1")
	for _, c := range []struct {
		body   string
		status int
		want   string // a substring of the answer
	}{
		{`{}`, 400, `"error":"Missing description or tags"`},
		{`{"tags":null}`, 400, `"error":"Missing description or tags"`},
		{`{"description":5}`, 400, "Expected `str`, got `int` - at `$.description`"},
		{`{"tags":"x"}`, 400, `"error":"Invalid tags payload"`},
		{`{"colour":"red"}`, 400, "Object contains unknown field `colour`"},
		{`{"description":"first"}`, 200, `"description":"first","delta_hours":0,"worker_count":0,"tags":[]`},
		{`{"tags":["project-beta","  follow-up ","PROJECT-BETA",""]}`, 200, `"description":"first","delta_hours":0,"worker_count":0,"tags":["project-beta","follow-up"]`},
		{`{"description":null}`, 200, `"description":"","delta_hours":0,"worker_count":0,"tags":["project-beta","follow-up"]`},
	} {
		status, body := sc.call("PATCH", "/api/experiments/exp1", c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("PATCH %s: %d %s", c.body, status, body)
		}
	}
	if status, _ := sc.call("PATCH", "/api/experiments/nope", `{"description":"x"}`); status != 404 {
		t.Errorf("unknown experiment: %d", status)
	}
}

func TestDeleteExperiment(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01")
	sc.experiment("exp2", "pio02")
	if status, body := sc.call("DELETE", "/api/experiments/nope", nil); status != 404 || strings.Contains(body, "task_id") {
		t.Fatalf("unknown: %d %s", status, body)
	}
	for _, u := range []string{"leader", "pio01", "pio02"} {
		if n := len(sc.Calls(u)); n != 0 {
			t.Fatalf("a 404 delete called %s", u)
		}
	}
	res := sc.task("DELETE", "/api/experiments/exp1", nil)
	if res != `{"result":true,"experiment":"exp1","msg":"Deleted experiment"}` {
		t.Errorf("result %s", res)
	}
	for _, u := range []string{"leader", "pio01", "pio02"} {
		if !slices.Contains(sc.Calls(u), `POST /unit_api/jobs/stop {"experiment":"exp1"}`) {
			t.Errorf("%s was not told to stop exp1: %v", u, sc.Calls(u))
		}
	}
	if _, err := sc.db.Experiment("exp1"); err == nil {
		t.Error("exp1 still exists")
	}
	if a, err := sc.db.AssignmentOf("pio02"); err != nil || a.Experiment != "exp2" {
		t.Errorf("pio02's assignment: %v %v", a, err)
	}
	msgs := sc.pub.Messages(false)
	if last := msgs[len(msgs)-1]; last.Topic != "pioreactor/pio01/$experiment/assignment" || !strings.Contains(last.Payload, `"experiment":null`) {
		t.Errorf("pio01 was not freed: %+v", msgs)
	}
}

func TestExperimentViews(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01")
	sc.experiment("exp2", "pio02")
	sc.experiment("exp3")
	if err := sc.db.SetWorkerActive("pio02", false); err != nil {
		t.Fatal(err)
	}
	if _, body := sc.call("GET", "/api/experiments/active", nil); !strings.Contains(body, `"experiment":"exp1"`) || strings.Contains(body, "exp2") {
		t.Errorf("active: %s", body)
	}
	if _, body := sc.call("GET", "/api/experiments/assignment_count", nil); body != `[{"experiment":"exp1","worker_count":1},{"experiment":"exp2","worker_count":1}]` {
		t.Errorf("counts: %s", body)
	}
}

func TestUnitLabels(t *testing.T) {
	t.Parallel()
	sc := newStoreCluster(t, "pio01", "pio02")
	sc.experiment("exp1", "pio01", "pio02")
	for _, c := range []struct {
		method, body string
		status       int
		labels       string // GET current afterwards; "" skips
	}{
		{"PUT", `{"unit":"pio01","label":"Reactor 1"}`, 201, `{"pio01":"Reactor 1"}`},
		{"PATCH", `{"unit":"pio02","label":"Reactor 1"}`, 201, `{"pio02":"Reactor 1"}`}, // taken from pio01
		{"PUT", `{"unit":"pio01","label":"A"}`, 201, `{"pio01":"A","pio02":"Reactor 1"}`},
		{"PUT", `{"unit":"pio02","label":""}`, 201, `{"pio01":"A"}`},
		{"PUT", `{"unit":"pio01"}`, 400, ""},
		{"PUT", `{"unit":"../x","label":"b"}`, 400, `{"pio01":"A"}`},
	} {
		status, body := sc.call(c.method, "/api/experiments/exp1/unit_labels", c.body)
		if status != c.status {
			t.Errorf("%s %s: %d %s", c.method, c.body, status, body)
		}
		if c.labels != "" {
			if _, got := sc.call("GET", "/api/experiments/current/unit_labels", nil); got != c.labels {
				t.Errorf("after %s: labels %s, want %s", c.body, got, c.labels)
			}
		}
	}
	if status, _ := sc.call("PUT", "/api/experiments/nope/unit_labels", `{"unit":"pio01","label":"x"}`); status != 400 {
		t.Errorf("unknown experiment: %d", status)
	}
}

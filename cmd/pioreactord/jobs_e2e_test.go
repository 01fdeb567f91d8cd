package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pioreactor/pioreactord/pkg/pubsub"
)

// watcher keeps the last payload of every topic under pioreactor/pio01/#, over a real MQTT
// connection to the daemon's broker.
type watcher struct {
	mu   sync.Mutex
	last map[string]string
	c    pubsub.Client
}

func watch(t *testing.T, broker string) *watcher {
	t.Helper()
	w := &watcher{last: map[string]string{}}
	c, err := pubsub.NewDialer(broker, "pioreactor", "raspberry", nil).Dial(context.Background(), pubsub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.c = c
	t.Cleanup(c.Close)
	err = c.Subscribe(context.Background(), "pioreactor/pio01/#", 1, func(m pubsub.Message) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.last[m.Topic] = string(m.Payload)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *watcher) wait(t *testing.T, topic string, ok func(string) bool) string {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		v, seen := w.last[topic]
		w.mu.Unlock()
		if seen && ok(v) {
			return v
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t.Fatalf("%s never as expected (last %q)", topic, w.last[topic])
	return ""
}

// reset forgets what was seen, so that a step is satisfied only by what happens after it
// began, not by an earlier step's message on the same topic.
func (w *watcher) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.last)
}

func is(want string) func(string) bool { return func(v string) bool { return v == want } }
func contains(sub string) func(string) bool {
	return func(v string) bool { return strings.Contains(v, sub) }
}

func allOf(subs ...string) func(string) bool {
	return func(v string) bool {
		for _, s := range subs {
			if !strings.Contains(v, s) {
				return false
			}
		}
		return true
	}
}

// Every job and automation starts through the leader's REST route, as the dashboard and
// `pio run` do, and shows itself on MQTT with the topics and payloads of docs/jobs.md.
func TestEveryJobStartsThroughREST(t *testing.T) {
	c := startCluster(t, "--units", "1", "--speed", "20")
	w := watch(t, c.mqtt)
	const base = "pioreactor/pio01/demo/"
	for _, tc := range []struct {
		job, body string
		topic     string
		ok        func(string) bool
		stop      bool
	}{
		{"stirring", `{"options":{"target_rpm":450}}`, "stirring/target_rpm", is("450.0"), false},
		{"od_reading", `{}`, "od_reading/ods", contains(`"angle":"90"`), false},
		{"growth_rate_calculating", `{}`, "growth_rate_calculating/growth_rate", contains(`"growth_rate":`), false},
		{"temperature_automation", `{"options":{"automation_name":"thermostat","target_temperature":30}}`, "temperature_automation/target_temperature", is("30.0"), false},
		{"dosing_automation", `{"options":{"automation_name":"chemostat","exchange_volume_ml":0.5,"duration":20}}`, "dosing_automation/automation_name", is("chemostat"), true},
		{"dosing_automation", `{"options":{"automation_name":"turbidostat","target_biomass":2.0,"exchange_volume_ml":1.0}}`, "dosing_automation/target_biomass", is("2.0"), true},
		{"dosing_automation", `{"options":{"automation_name":"pid_morbidostat","target_normalized_od":1.5,"target_growth_rate":0.1,"duration":10}}`, "dosing_automation/automation_name", is("pid_morbidostat"), true},
		{"dosing_automation", `{"options":{"automation_name":"fed_batch","dosing_volume_ml":0.2,"duration":30}}`, "dosing_automation/automation_name", is("fed_batch"), true},
		{"dosing_automation", `{"options":{"automation_name":"silent"}}`, "dosing_automation/automation_name", is("silent"), true},
		{"led_automation", `{"options":{"automation_name":"light_dark_cycle","light_intensity":50,"light_duration_minutes":60,"dark_duration_minutes":60}}`, "led_automation/light_intensity", is("50.0"), true},
		{"led_intensity", `{"options":{"B":25}}`, "leds/intensity", contains(`"B":25.0`), false},
		// fed_batch's own add_media events are on the same topic: each step marks its events.
		{"add_media", `{"options":{"ml":0.5,"source_of_event":"e2e_add_media"}}`, "dosing_events", allOf(`"event":"add_media"`, `"source_of_event":"e2e_add_media"`), false},
		{"remove_waste", `{"options":{"ml":0.5,"source_of_event":"e2e_remove_waste"}}`, "dosing_events", allOf(`"event":"remove_waste"`, `"source_of_event":"e2e_remove_waste"`), false},
	} {
		t.Run(tc.job, func(t *testing.T) {
			time.Sleep(1100 * time.Millisecond) // a unit refuses a second start of one job name within 1 s
			w.reset()
			code, body := c.call(t, http.MethodPatch, "/api/workers/pio01/jobs/run/job_name/"+tc.job+"/experiments/demo", tc.body)
			if code != http.StatusAccepted {
				t.Fatalf("run %s: %d %v", tc.job, code, body)
			}
			if res := fmt.Sprint(pollTask(t, c, body["result_url_path"].(string))); !strings.Contains(res, "ok:true") {
				t.Fatalf("run %s: task result %s", tc.job, res)
			}
			w.wait(t, base+tc.topic, tc.ok)
			if tc.stop {
				c.call(t, http.MethodPatch, "/api/workers/pio01/jobs/stop/job_name/"+tc.job+"/experiments/demo", "")
				w.wait(t, base+tc.job+"/$state", is("disconnected"))
			}
		})
	}
}

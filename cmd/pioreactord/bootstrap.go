package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pioreactor/pioreactord/pkg/api"
)

const demoExperiment = "demo"

// demoJobs are what --demo starts on every simulated worker, in this order.
var demoJobs = []struct {
	name    string
	options map[string]any
}{
	{"stirring", map[string]any{}},
	{"od_reading", map[string]any{}},
	{"growth_rate_calculating", map[string]any{}},
	{"temperature_automation", map[string]any{"automation_name": "thermostat", "target_temperature": 30}},
}

// bootstrapSim registers the simulated workers, creates the experiment `demo` and assigns them
// to it, through the leader's own REST API as a user would, on a private loopback listener:
// the public one opens only once this is done.
func (d *daemon) bootstrapSim(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- api.Serve(ctx, ln, d.servers[0].srv.Handler(), d.log) }()
	defer func() { cancel(); <-served }()
	base := "http://" + ln.Addr().String()
	call := func(method, path string, body any, ok ...int) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("content-type", "application/json")
		if key := d.apiKey(); key != "" { // a --sim config may set one too
			req.Header.Set("Authorization", "Basic "+key)
		}
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		for _, code := range ok {
			if resp.StatusCode == code {
				return nil
			}
		}
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(msg))
	}
	steps := []func() error{
		func() error {
			return call(http.MethodPost, "/api/experiments", map[string]any{"experiment": demoExperiment,
				"description": "Simulated cultures started by pioreactord --sim"}, http.StatusCreated, http.StatusConflict)
		},
	}
	for _, s := range d.servers[1:] {
		steps = append(steps,
			func() error {
				return call(http.MethodPut, "/api/workers", map[string]any{"pioreactor_unit": s.unit,
					"model_name": "pioreactor_40ml", "model_version": "1.5"}, http.StatusCreated)
			},
			func() error {
				return call(http.MethodPut, "/api/experiments/"+demoExperiment+"/workers",
					map[string]any{"pioreactor_unit": s.unit}, http.StatusOK)
			})
	}
	if d.opts.demo {
		for _, j := range demoJobs {
			body := map[string]any{"options": j.options}
			steps = append(steps, func() error {
				return call(http.MethodPatch, "/api/workers/$broadcast/jobs/run/job_name/"+j.name+"/experiments/"+demoExperiment, body, http.StatusAccepted)
			})
		}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("set up the simulated cluster: %w", err)
		}
	}
	d.log.Info("simulated workers assigned", "experiment", demoExperiment, "units", len(d.servers)-1)
	return nil
}

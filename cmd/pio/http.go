package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/cluster"
)

// Timeouts of docs/pio.md, "Timeouts".
const (
	leaderTimeout = 5 * time.Second
	unitTimeout   = 10 * time.Second
	pollInterval  = 100 * time.Millisecond
	pollBudget    = 60 * time.Second // a task's whole wait; the daemons bound their own work
)

type httpClient struct {
	c    *http.Client
	auth string
	// progress, when set (stderr on a terminal), shows a long task's wait.
	progress io.Writer
}

func newHTTPClient(apiKey string) *httpClient {
	h := &httpClient{c: &http.Client{}}
	if apiKey != "" {
		h.auth = "Basic " + apiKey
	}
	return h
}

// apiError is a non-2xx answer, rendered as the CLI of the original does (§1.5): the
// envelope's fields only when its status matches the HTTP status.
type apiError struct {
	status int
	env    struct {
		Error       string `json:"error"`
		Status      int    `json:"status"`
		Cause       string `json:"cause"`
		Remediation string `json:"remediation"`
	}
	trusted bool
}

func newAPIError(status int, body []byte) *apiError {
	e := &apiError{status: status}
	if json.Unmarshal(body, &e.env) == nil && e.env.Status == status && e.env.Error != "" {
		e.trusted = true
	}
	return e
}

func (e *apiError) Error() string {
	if !e.trusted {
		return fmt.Sprintf("HTTP %d.", e.status)
	}
	s := fmt.Sprintf("HTTP %d: %s", e.status, e.env.Error)
	if e.env.Cause != "" && e.env.Cause != e.env.Error {
		s += " Cause: " + e.env.Cause
	}
	if e.env.Remediation != "" {
		s += " Remediation: " + e.env.Remediation
	}
	return s
}

// do sends one request; a non-2xx answer is an *apiError, no answer a connection error.
func (h *httpClient) do(ctx context.Context, timeout time.Duration, method, url string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.auth != "" {
		req.Header.Set("Authorization", h.auth)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return 0, nil, context.Canceled
		}
		return 0, nil, fmt.Errorf("could not reach %s: %w", hostOf(url), unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read the answer of %s: %w", hostOf(url), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, b, newAPIError(resp.StatusCode, b)
	}
	return resp.StatusCode, b, nil
}

func hostOf(url string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	host, _, _ := strings.Cut(s, "/")
	return host
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// task is a 202 answer or a poll answer (docs/http.md, "Tasks").
type task struct {
	TaskID        string          `json:"task_id"`
	ResultURLPath string          `json:"result_url_path"`
	Status        string          `json:"status"`
	Result        json.RawMessage `json:"result"`
	Error         string          `json:"error"`
	Cause         string          `json:"cause"`
}

// await polls a 202's task on base until it ends, every 0.1 s as `pio experiments delete`
// does, and returns its result; a failed task is an error with its message.
func (h *httpClient) await(ctx context.Context, base string, body []byte) (json.RawMessage, error) {
	var t task
	if err := json.Unmarshal(body, &t); err != nil || t.ResultURLPath == "" {
		return body, nil // a 202 without a task (a lock notice) is the whole answer
	}
	start := time.Now()
	deadline := start.Add(pollBudget)
	shown := false
	defer func() {
		if shown {
			fmt.Fprint(h.progress, "\r\x1b[K")
		}
	}()
	for {
		if waited := time.Since(start); h.progress != nil && waited > time.Second {
			fmt.Fprintf(h.progress, "\rwaiting for %s to finish the task… %ds", hostOf(base), int(waited.Seconds()))
			shown = true
		}
		status, b, err := h.do(ctx, leaderTimeout, http.MethodGet, base+t.ResultURLPath, nil)
		if err != nil {
			return nil, err
		}
		var p task
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("unreadable task answer from %s: %w", hostOf(base), err)
		}
		switch {
		case status == http.StatusOK && p.Status == "succeeded":
			return p.Result, nil
		case status == http.StatusOK && p.Status == "failed":
			msg := p.Error
			if p.Cause != "" && p.Cause != p.Error {
				msg += " Cause: " + p.Cause
			}
			return nil, errors.New(msg)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the task %s on %s did not finish within %s", t.TaskID, hostOf(base), pollBudget)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// call sends a request to a daemon and, if it queued a task, waits for the task's result.
func (h *httpClient) call(ctx context.Context, base, method, path string, body any) (json.RawMessage, error) {
	timeout := leaderTimeout
	if strings.HasPrefix(path, "/unit_api/") {
		timeout = unitTimeout
	}
	if strings.HasPrefix(path, "/unit_api/calibrations/sessions/") && strings.HasSuffix(path, "/inputs") {
		timeout = 5 * time.Minute // a calibration step may run the hardware that long
	}
	status, b, err := h.do(ctx, timeout, method, base+path, body)
	if err != nil {
		return nil, err
	}
	if status == http.StatusAccepted {
		return h.await(ctx, base, b)
	}
	return b, nil
}

// leaderCall is call on the leader's /api.
func (a *app) leaderCall(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	return a.http.call(ctx, a.leader, method, path, body)
}

// relay runs a /unit_api call on units through the leader (POST /api/relay) and returns
// the fan-out envelope, one Result per unit.
func (a *app) relay(ctx context.Context, units []string, method, path string, body any, raw bool) (cluster.Results, error) {
	req := map[string]any{"units": units, "method": method, "path": path, "raw": raw}
	if body != nil {
		req["body"] = body
	}
	b, err := a.leaderCall(ctx, http.MethodPost, "/api/relay", req)
	if err != nil {
		return nil, err
	}
	var rs cluster.Results
	if err := json.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("unreadable relay answer: %w", err)
	}
	return rs, nil
}

// unitCall is a /unit_api call on this unit: straight to its daemon, or relayed through the
// leader when --unit names another one. Its value is the final answer (a task's result).
func (a *app) unitCall(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	if a.unit == "" {
		return a.http.call(ctx, a.url, method, path, body)
	}
	rs, err := a.relay(ctx, []string{a.unit}, method, path, body, false)
	if err != nil {
		return nil, err
	}
	r, ok := rs.Get(a.unit)
	if !ok {
		return nil, fmt.Errorf("the leader did not answer for %s", a.unit)
	}
	return resultValue(r)
}

// resultValue is a fan-out Result as a value or an error worded like an HTTP failure.
func resultValue(r cluster.Result) (json.RawMessage, error) {
	if r.OK {
		return r.Value, nil
	}
	f := r.Error
	if r.StatusCode != nil && *r.StatusCode >= 400 {
		e := &apiError{status: *r.StatusCode, trusted: true}
		e.env.Error, e.env.Status, e.env.Cause, e.env.Remediation = f.Message, *r.StatusCode, f.Cause, f.Remediation
		return nil, e
	}
	msg := f.Message
	if f.Cause != "" && f.Cause != f.Message {
		msg += " Cause: " + f.Cause
	}
	return nil, errors.New(msg)
}

// unitName is this unit's name: --unit, else what its daemon says in /unit_api/health.
func (a *app) unitName(ctx context.Context) (string, error) {
	if a.unit != "" {
		return a.unit, nil
	}
	if a.self != "" {
		return a.self, nil
	}
	b, err := a.http.call(ctx, a.url, http.MethodGet, "/unit_api/health", nil)
	if err != nil {
		return "", err
	}
	var h struct {
		Unit string `json:"pioreactor_unit"`
	}
	if err := json.Unmarshal(b, &h); err != nil || h.Unit == "" {
		return "", fmt.Errorf("%s did not say its unit name", hostOf(a.url))
	}
	a.self = h.Unit
	return a.self, nil
}

// statusOf is the HTTP status of an error from do/call, 0 when there was no answer.
func statusOf(err error) int {
	var e *apiError
	if errors.As(err, &e) {
		return e.status
	}
	return 0
}

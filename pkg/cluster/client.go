package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Resolver maps a unit name to the base URL of its daemon, e.g. http://127.0.0.1:41231 for a
// simulated worker or http://pio01.local for a Pi.
type Resolver func(unit string) (baseURL string, err error)

// Defaults of docs/http.md, "Fan-out".
const (
	DefaultGetTimeout    = 5 * time.Second
	DefaultMutateTimeout = 30 * time.Second
	DefaultSendTimeout   = 2 * time.Second
	DefaultPollInterval  = 250 * time.Millisecond
	maxResponseBytes     = 16 << 20 // a unit's answer larger than this is cut, then fails to decode
)

// Config configures a Client; zero fields take the defaults above.
type Config struct {
	Resolve Resolver
	// HTTP carries the requests. It should have no overall Timeout: each request gets its own.
	HTTP *http.Client
	// SendTimeout bounds the first request of a POST/PATCH/PUT/DELETE (the unit only queues).
	SendTimeout time.Duration
	// PollInterval is the pause between polls of a unit's task.
	PollInterval time.Duration
	// APIKey, when set, is sent as `Authorization: Basic <APIKey>` ([ui_basic_auth] api_key,
	// docs/config.md, "Keys the daemon reads"): units outside --sim refuse calls without it.
	APIKey string
}

// Client calls units' /unit_api concurrently. It is safe for concurrent use.
type Client struct {
	resolve Resolver
	http    *http.Client
	send    time.Duration
	poll    time.Duration
	auth    string // the Authorization header value, "" for none
}

// New returns a Client; c.Resolve is required.
func New(c Config) *Client {
	cl := &Client{resolve: c.Resolve, http: c.HTTP, send: c.SendTimeout, poll: c.PollInterval}
	if c.APIKey != "" {
		cl.auth = "Basic " + c.APIKey
	}
	if cl.http == nil {
		cl.http = &http.Client{}
	}
	if cl.send <= 0 {
		cl.send = DefaultSendTimeout
	}
	if cl.poll <= 0 {
		cl.poll = DefaultPollInterval
	}
	return cl
}

// Request is one call made to every unit of a fan-out.
type Request struct {
	Method string // "" means GET
	Path   string // absolute path on the unit, e.g. /unit_api/jobs/running
	// Body is JSON-encoded and sent to every unit; nil sends no body.
	Body any
	// Bodies overrides Body for the units it names (the run route's per-worker env).
	Bodies map[string]any
	// Timeout is the route timeout: the whole call for GET, the polling budget otherwise.
	// Zero means 5 s for GET and 30 s for the others.
	Timeout time.Duration
	// SendTimeout, if set, replaces the client's bound on the first request of a non-GET:
	// a unit route that works before it answers (a calibration step running the hardware).
	SendTimeout time.Duration
	// Raw keeps a successful answer's body as it came, as a JSON string in Value (the
	// "raw" fan-outs of §1.5: config text, zips), instead of decoding it as JSON.
	Raw bool
}

func (r Request) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return strings.ToUpper(r.Method)
}

func (r Request) timeout() time.Duration {
	switch {
	case r.Timeout > 0:
		return r.Timeout
	case r.method() == http.MethodGet:
		return DefaultGetTimeout
	}
	return DefaultMutateTimeout
}

// Do calls every unit concurrently and returns one Result per distinct unit: sorted by name
// for GET, in the given order otherwise. It returns when every call has finished or ctx ends.
func (c *Client) Do(ctx context.Context, units []string, r Request) Results {
	units = dedupe(units)
	out := make(Results, len(units))
	var wg sync.WaitGroup
	for i, u := range units {
		wg.Go(func() { out[i] = c.call(ctx, u, r) })
	}
	wg.Wait()
	if r.method() == http.MethodGet {
		slices.SortFunc(out, func(a, b Result) int { return strings.Compare(a.Unit, b.Unit) })
	}
	return out
}

// Call is Do for a single unit.
func (c *Client) Call(ctx context.Context, unit string, r Request) Result {
	return c.call(ctx, unit, r)
}

func dedupe(units []string) []string {
	seen := make(map[string]bool, len(units))
	out := make([]string, 0, len(units))
	for _, u := range units {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// call is one unit's whole exchange: resolve, send, and poll if the unit queued a task.
func (c *Client) call(ctx context.Context, unit string, r Request) Result {
	m := r.method()
	x := exchange{unit: unit, method: m, path: r.Path}
	base, err := c.resolve(unit)
	if err != nil {
		return x.connection(fmt.Errorf("resolve address: %w", err))
	}
	var body []byte
	if v, ok := r.Bodies[unit]; ok {
		body, err = json.Marshal(v)
	} else if r.Body != nil {
		body, err = json.Marshal(r.Body)
	}
	if err != nil {
		return x.fail(TaskException, nil, false, "Could not encode the request body.", err.Error(),
			"This is a bug in the leader; report it.")
	}
	x.base = strings.TrimRight(base, "/")

	timeout := r.timeout()
	first := timeout
	if m != http.MethodGet {
		send := c.send
		if r.SendTimeout > 0 {
			send = r.SendTimeout
		}
		first = min(send, timeout)
	}
	sctx, cancel := context.WithTimeout(ctx, first)
	status, resp, err := c.do(sctx, m, x.base+r.Path, body)
	cancel()
	if err != nil {
		return x.connection(err)
	}
	if status >= 400 {
		return x.httpFailure(status, resp)
	}
	if status == http.StatusAccepted {
		if path, ok := resultPath(resp); ok {
			return c.pollTask(ctx, x, path, timeout)
		}
		// A 202 without a task (a lock notice, §1.7) is the unit's whole answer.
	}
	if status < 200 || status > 299 {
		return x.fail(InvalidResponse, &status, false, x.what()+" gave an unexpected answer.",
			fmt.Sprintf("HTTP %d is not part of the unit API.", status), "Check the unit's software version.")
	}
	if r.Raw {
		v, _ := json.Marshal(string(resp)) // a string always encodes (invalid UTF-8 becomes U+FFFD)
		return Result{OK: true, Unit: unit, Value: v}
	}
	return x.value(status, resp)
}

// pollTask polls a unit's task every poll interval, at most ⌈timeout/interval⌉ times.
func (c *Client) pollTask(ctx context.Context, x exchange, path string, timeout time.Duration) Result {
	attempts := int(math.Ceil(float64(timeout) / float64(c.poll)))
	last := "pending"
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(c.poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return x.timeout(last, ctx.Err())
			case <-t.C:
			}
		}
		pctx, cancel := context.WithTimeout(ctx, c.send)
		status, resp, err := c.do(pctx, http.MethodGet, x.base+path, nil)
		cancel()
		if err != nil {
			return x.connection(err)
		}
		if status >= 400 {
			return x.httpFailure(status, resp)
		}
		t, err := parseTask(resp)
		if err != nil {
			return x.fail(InvalidResponse, &status, false, x.what()+" returned an unreadable task status.",
				fmt.Sprintf("%s answered %q.", path, truncate(resp)), "Check the unit's software version.")
		}
		switch t.Status {
		case "succeeded":
			if t.Result == nil {
				return x.fail(MissingResult, &status, false, x.what()+" finished without a result.",
					"The task answer has no result field.", "Check the unit's software version.")
			}
			return Result{OK: true, Unit: x.unit, Value: stripSuccess(t.Result)}
		case "failed":
			msg := orDefault(t.Error, x.what()+" failed on the unit.")
			return x.fail(TaskFailed, &status, false, msg, orDefault(t.Cause, msg),
				orDefault(t.Remediation, "Check the unit's logs."))
		}
		last = t.Status
	}
	return x.timeout(last, nil)
}

// taskAnswer is a unit's task_results answer (docs/http.md, "Tasks"). Result is nil when the
// key is absent and "null" when the task succeeded with nothing to say.
type taskAnswer struct {
	Status      string          `json:"status"`
	Result      json.RawMessage `json:"-"`
	Error       string          `json:"error"`
	Cause       string          `json:"cause"`
	Remediation string          `json:"remediation"`
}

func parseTask(body []byte) (taskAnswer, error) {
	var t taskAnswer
	if err := json.Unmarshal(body, &t); err != nil {
		return t, err
	}
	if t.Status == "" {
		return t, errors.New("no status")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return t, err
	}
	t.Result = members["result"]
	return t, nil
}

// resultPath extracts the polling path of a unit's 202 task answer.
func resultPath(body []byte) (string, bool) {
	var a struct {
		ResultURLPath string `json:"result_url_path"`
	}
	if json.Unmarshal(body, &a) != nil || a.ResultURLPath == "" {
		return "", false
	}
	return a.ResultURLPath, true
}

// do sends one request and reads the whole (bounded) answer.
func (c *Client) do(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func truncate(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// isTimeout reports whether err is a deadline, as opposed to a refused connection.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

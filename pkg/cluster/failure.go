package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// exchange describes one unit call, for building its Result.
type exchange struct {
	unit, method, path string
	base               string
}

// what names the call the way the envelope's messages do: "POST to pio01's /unit_api/x".
func (x exchange) what() string {
	prep := "to"
	if x.method == http.MethodGet || x.method == http.MethodDelete {
		prep = "from"
	}
	return fmt.Sprintf("%s %s %s's %s", x.method, prep, x.unit, x.path)
}

func (x exchange) fail(k Kind, status *int, retryable bool, msg, cause, remedy string) Result {
	return Result{Unit: x.unit, StatusCode: status, Retryable: retryable,
		Error: &Failure{Kind: k, Message: msg, Cause: cause, Remediation: remedy}}
}

// connection is the failure of a call that got no answer: always worth retrying.
func (x exchange) connection(err error) Result {
	remedy := fmt.Sprintf("Check that %s is powered on, on the network and running pioreactord.", x.unit)
	if isTimeout(err) {
		remedy = fmt.Sprintf("%s did not answer in time; check its load and network, then retry.", x.unit)
	}
	return x.fail(ConnectionError, nil, true, "Could not "+x.what()+".", err.Error(), remedy)
}

// httpFailure turns a >= 400 answer into a failure, copying the unit's own envelope (§1.2)
// when it has one with the same status, since its message is better than ours.
func (x exchange) httpFailure(status int, body []byte) Result {
	retry := status >= 500
	msg := fmt.Sprintf("Could not %s (HTTP %d).", x.what(), status)
	cause := truncate(body)
	if cause == "" {
		cause = http.StatusText(status)
	}
	remedy := "Check the request; the unit refused it."
	if retry {
		remedy = fmt.Sprintf("Retry; if it persists, check %s's logs.", x.unit)
	}
	var env struct {
		Error       string  `json:"error"`
		Status      float64 `json:"status"`
		Cause       string  `json:"cause"`
		Remediation string  `json:"remediation"`
	}
	if json.Unmarshal(body, &env) == nil && strings.TrimSpace(env.Error) != "" && int(env.Status) == status {
		r := x.fail(HTTPError, &status, retry, env.Error, orDefault(env.Cause, env.Error), orDefault(env.Remediation, remedy))
		r.Error.fromUnit = true
		return r
	}
	return x.fail(HTTPError, &status, retry, msg, cause, remedy)
}

// value is a successful answer: its JSON body (null when empty), minus status "success".
func (x exchange) value(status int, body []byte) Result {
	if len(strings.TrimSpace(string(body))) == 0 {
		return Result{OK: true, Unit: x.unit, Value: json.RawMessage("null")}
	}
	if !json.Valid(body) {
		return x.fail(DecodeError, &status, false, x.what()+" returned a body that is not JSON.",
			truncate(body), "Check the unit's software version.")
	}
	return Result{OK: true, Unit: x.unit, Value: stripSuccess(append(json.RawMessage(nil), body...))}
}

// timeout ends a poll that ran out of attempts (or was cancelled): a still-pending task is
// task_timeout, any other non-terminal state task_incomplete; both may succeed on retry.
func (x exchange) timeout(last string, err error) Result {
	cause := fmt.Sprintf("The task was still %s when the leader stopped polling.", last)
	if err != nil {
		cause = err.Error()
	}
	if last == "pending" {
		return x.fail(TaskTimeout, nil, true, x.what()+" timed out.", cause,
			"The unit may still finish the task; check its state, then retry.")
	}
	return x.fail(TaskIncomplete, nil, true, x.what()+" did not complete.", cause,
		"Wait for the unit's running operation to finish, then retry.")
}

package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Kind classifies a failed unit call (docs/http.md, "Fan-out").
type Kind string

// The failure kinds of the envelope. TaskException is kept for the contract; here it only
// means the leader could not build the request (a body that does not encode).
const (
	ConnectionError Kind = "connection_error" // no response: refused, unresolvable, timed out
	HTTPError       Kind = "http_error"       // the unit answered >= 400
	DecodeError     Kind = "decode_error"     // a 2xx body that is not JSON
	TaskFailed      Kind = "task_failed"      // the unit's task ended "failed"
	TaskIncomplete  Kind = "task_incomplete"  // the unit's task stayed in a non-pending, non-terminal state
	TaskTimeout     Kind = "task_timeout"     // the unit's task was still pending at the deadline
	TaskException   Kind = "task_exception"   // the leader failed before sending
	MissingResult   Kind = "missing_result"   // a "succeeded" task answer without a result
	InvalidResponse Kind = "invalid_response" // an answer that is not what the protocol allows
)

// Failure is the error object of a failed unit call.
type Failure struct {
	Kind        Kind   `json:"kind"`
	Message     string `json:"message"`
	Cause       string `json:"cause"`
	Remediation string `json:"remediation"`

	fromUnit bool // Message, Cause and Remediation are the unit's own envelope (§1.2)
}

// FromUnit reports whether the failure copies the unit's own error envelope, which a
// caller may pass on to its client as the unit worded it.
func (f *Failure) FromUnit() bool { return f != nil && f.fromUnit }

// Result is one unit's entry of the fan-out envelope. On success only OK, Unit and Value are
// sent; on failure Error, StatusCode (null when there was no response) and Retryable.
type Result struct {
	OK         bool            `json:"ok"`
	Unit       string          `json:"unit"`
	Value      json.RawMessage `json:"value,omitempty"`
	Error      *Failure        `json:"error,omitempty"`
	StatusCode *int            `json:"status_code,omitempty"`
	Retryable  bool            `json:"retryable,omitempty"`
}

// MarshalJSON writes exactly the keys of the envelope: a success has a value even when it is
// null, a failure always has status_code and retryable.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.OK {
		v := r.Value
		if len(v) == 0 {
			v = json.RawMessage("null")
		}
		return json.Marshal(struct {
			OK    bool            `json:"ok"`
			Unit  string          `json:"unit"`
			Value json.RawMessage `json:"value"`
		}{true, r.Unit, v})
	}
	return json.Marshal(struct {
		OK         bool     `json:"ok"`
		Unit       string   `json:"unit"`
		Error      *Failure `json:"error"`
		StatusCode *int     `json:"status_code"`
		Retryable  bool     `json:"retryable"`
	}{false, r.Unit, r.Error, r.StatusCode, r.Retryable})
}

// Results is a fan-out's answer in its order; it marshals as a JSON object keyed by unit.
type Results []Result

// Get returns the result of one unit.
func (rs Results) Get(unit string) (Result, bool) {
	for _, r := range rs {
		if r.Unit == unit {
			return r, true
		}
	}
	return Result{}, false
}

// MarshalJSON writes {"<unit>": Result, ...} keeping the slice's order, which a map would lose.
func (rs Results) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(r.Unit)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("marshal result of %s: %w", r.Unit, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the object form back in document order (the CLI prints it as sent).
func (rs *Results) UnmarshalJSON(data []byte) error {
	out := Results{}
	err := eachMember(data, func(key string, raw json.RawMessage) error {
		var r Result
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("result of %s: %w", key, err)
		}
		if r.Unit == "" {
			r.Unit = key
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return err
	}
	*rs = out
	return nil
}

// eachMember walks the members of a JSON object in document order.
func eachMember(data []byte, fn func(key string, raw json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if err := fn(key, raw); err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing brace
	return err
}

// stripSuccess drops `"status": "success"` from an object body, keeping the other members
// in their order: units add it to acknowledgements and the envelope's ok already says so.
func stripSuccess(body json.RawMessage) json.RawMessage {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return body
	}
	var probe struct {
		Status *string `json:"status"`
	}
	if json.Unmarshal(trimmed, &probe) != nil || probe.Status == nil || *probe.Status != "success" {
		return body
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	err := eachMember(trimmed, func(key string, raw json.RawMessage) error {
		if key == "status" {
			return nil
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(raw)
		return nil
	})
	if err != nil {
		return body
	}
	b.WriteByte('}')
	return b.Bytes()
}

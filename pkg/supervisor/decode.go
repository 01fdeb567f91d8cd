package supervisor

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

const (
	// maxSetPayload is the largest /set payload decoded; no setting needs more, and a larger
	// one is refused before it is parsed or stored.
	maxSetPayload = 64 << 10
	// echoBytes is how much of a refused payload a log line quotes.
	echoBytes = 64
	// maxLogText bounds a /set error message that came from a job's setter.
	maxLogText = 512
)

// decodeSet turns a /set payload into a value of the setting's datatype (float64, int64,
// bool, string or json.RawMessage). What it accepts is valid for the datatype: floats are
// finite, strings are UTF-8, JSON is well-formed. Errors quote the payload through echo,
// and keep the reference's wording where it has one.
func decodeSet(d contract.Datatype, payload []byte) (any, error) {
	if len(payload) > maxSetPayload {
		return nil, fmt.Errorf("%w: a %s of %d bytes is over the %d byte limit", ErrBadSetting, d, len(payload), maxSetPayload)
	}
	switch d {
	case contract.Float:
		return decodeFloat(payload)
	case contract.String:
		if !utf8.Valid(payload) {
			return nil, fmt.Errorf("%w: %s is not valid UTF-8 text", ErrBadSetting, echo(payload))
		}
	case contract.Integer:
		s := strings.TrimSpace(string(payload))
		if i, err := strconv.ParseInt(s, 10, 64); errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("%w: %s is out of the integer range", ErrBadSetting, echo(payload))
		} else if err == nil {
			return i, nil
		}
		return nil, fmt.Errorf("invalid literal for int() with base 10: %s", echo(payload))
	}
	v, err := contract.Cast(d, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not a valid %s", ErrBadSetting, echo(payload), d)
	}
	return v, nil
}

func decodeFloat(payload []byte) (float64, error) {
	s := strings.TrimSpace(string(payload))
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !math.IsInf(f, 0):
		return 0, nil // underflow (1e-400) rounds to 0, as Python's float() does
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%w: %s is too large for a float", ErrBadSetting, echo(payload))
	case err != nil:
		return 0, fmt.Errorf("could not convert string to float: %s", echo(payload))
	case math.IsNaN(f):
		return 0, fmt.Errorf("%w: %s is not a number (NaN); send a finite number", ErrBadSetting, echo(payload))
	case math.IsInf(f, 0):
		return 0, fmt.Errorf("%w: %s is not a finite number", ErrBadSetting, echo(payload))
	}
	return f, nil
}

// echo quotes an untrusted payload for a log line: at most echoBytes of it, control and
// invalid bytes escaped, with the full length when cut, so a 100 MB payload makes a short
// line.
func echo(b []byte) string {
	if len(b) <= echoBytes {
		return "'" + escape(b) + "'"
	}
	return fmt.Sprintf("'%s…' (%d bytes)", escape(b[:echoBytes]), len(b))
}

// clip cuts a log message to maxLogText bytes, saying how long it was.
func clip(s string) string {
	if len(s) <= maxLogText {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", strings.ToValidUTF8(s[:maxLogText], ""), len(s))
}

func escape(b []byte) string {
	q := strconv.Quote(string(b)) // escapes control characters and invalid UTF-8
	return q[1 : len(q)-1]
}

package export

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pioreactor/pioreactord/pkg/store"
)

// CSV cells as docs/data.md, "CSV format" writes them: floats rounded to 12 decimal places and
// printed as Python prints them (500.0, 1e-05), timestamps as their stored text, NULL as
// an empty cell, text quoted only when it must be (RFC 4180). Hand-written appends
// instead of encoding/csv and strconv-to-string: the exporter formats millions of cells.

// appendCell appends one cell (without separator).
func (f *formatter) appendCell(dst []byte, v store.Field) []byte {
	if v.Null {
		return dst
	}
	switch v.Kind {
	case store.Real:
		return appendPyFloat(dst, round12(v.F))
	case store.Integer:
		return strconv.AppendInt(dst, v.I, 10)
	case store.Timestamp:
		return appendStamp(dst, v.T)
	default:
		return appendText(dst, v.S)
	}
}

// appendText quotes s when it holds a comma, a quote or a line break.
func appendText(dst []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// round12 rounds to 12 decimal places. Beyond 1e4 a float64 has no digit at 1e-12 to
// round, and the product would lose range, so larger values pass unchanged.
func round12(f float64) float64 {
	if math.Abs(f) >= 1e4 || math.IsNaN(f) {
		return f
	}
	return math.Round(f*1e12) / 1e12
}

// appendPyFloat appends f as Python's repr: the shortest round-trip digits, a ".0" on
// integral values, and exponent notation below 1e-4 and from 1e16 (1e-05, 1e+16).
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		// Go writes e-05 / e+16 already; strip a leading zero beyond two exponent digits
		e := start + strings.LastIndexByte(string(dst[start:]), 'e')
		if len(dst)-e > 4 && dst[e+2] == '0' {
			dst = append(dst[:e+2], dst[e+3:]...)
		}
		return dst
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, '.', '0')
}

// appendStamp appends t as stored: YYYY-MM-DDTHH:MM:SS.mmmZ.
func appendStamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	dst = appendDateTime(dst, t, 'T')
	return append(dst, 'Z')
}

// appendDateTime appends YYYY-MM-DD<sep>HH:MM:SS.mmm of t in its own location.
func appendDateTime(dst []byte, t time.Time, sep byte) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(mo))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, sep)
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	dst = append(dst, '.')
	return append(dst, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

func append4(dst []byte, n int) []byte {
	if n < 0 || n > 9999 {
		return strconv.AppendInt(dst, int64(n), 10)
	}
	return append(dst, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// formatter holds what formatting needs across rows: the local zone, cached per zone
// period (time.In looks the zone up on every call).
type formatter struct {
	loc        *time.Location
	zoneStart  time.Time
	zoneEnd    time.Time
	zoneOffset int
	zoneKnown  bool
}

// appendLocal appends t in the leader's zone as YYYY-MM-DD HH:MM:SS.mmm.
func (f *formatter) appendLocal(dst []byte, t time.Time) []byte {
	if !f.zoneKnown || t.Before(f.zoneStart) || (!f.zoneEnd.IsZero() && !t.Before(f.zoneEnd)) {
		lt := t.In(f.loc)
		_, f.zoneOffset = lt.Zone()
		f.zoneStart, f.zoneEnd = lt.ZoneBounds()
		f.zoneKnown = true
	}
	return appendDateTime(dst, t.UTC().Add(time.Duration(f.zoneOffset)*time.Second), ' ')
}

package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Row keys and values of the data tables (doc.go, "Time series").
//
// A key is the row's time in unix microseconds, 8 bytes big-endian, so keys sort by time.
// Rows of one series at the same microsecond are told apart by a 2-byte big-endian suffix
// (1, 2, ...), which sorts them after the first in insertion order: SQLite's rowid
// tie-break without paying 8 bytes of sequence on every row.
//
// A value is the row's remaining columns, packed: float64 as 8 bytes, integers as varints,
// text as a uvarint length and the bytes. Experiment, unit and photodiode channel are the
// names of the buckets the row lives in, and the timestamp text is rebuilt from the key
// (rows are stored at millisecond precision), so neither is repeated per row.

const (
	timeKeyLen = 8
	maxSuffix  = math.MaxUint16
)

func timeKey(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, timeKeyLen+2), uint64(t.UnixMicro()))
}

func keyMicros(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:timeKeyLen])) }

func keyTime(k []byte) time.Time { return time.UnixMicro(keyMicros(k)).UTC() }

// errBadValue marks a value that does not decode as its table's layout.
var errBadValue = errors.New("malformed row value")

// dosing event codes; anything else is stored as text after codeOther.
var dosingCodes = []string{"add_media", "add_alt_media", "remove_waste"}

const codeOther = 0xff

// encodeValue appends r's value to dst in its table's layout.
func encodeValue(dst []byte, r *Row) []byte {
	switch tables[r.Table].codec {
	case codecValue, codecChannel:
		return appendFloat(dst, r.Value)
	case codecOD:
		return appendFloat(binary.AppendVarint(dst, int64(r.Angle)), r.Value)
	case codecDosing:
		code := byte(codeOther)
		for i, e := range dosingCodes {
			if e == r.Event {
				code = byte(i)
			}
		}
		dst = append(dst, code)
		if code == codeOther {
			dst = appendText(dst, r.Event)
		}
		return appendText(appendFloat(dst, r.Value), r.Source)
	case codecLED:
		return appendText(appendFloat(appendText(dst, r.Channel), r.Value), r.Source)
	case codecAutomation:
		return appendText(appendText(appendText(dst, r.Event), r.Message), r.Data)
	case codecSettings:
		var ended uint64 // 0: still current (NULL)
		if !r.EndedAt.IsZero() {
			ended = uint64(r.EndedAt.UnixMicro()) + 1
		}
		return appendText(appendText(binary.AppendUvarint(dst, ended), r.Event), r.Data)
	case codecLog:
		return appendText(appendText(appendText(appendText(dst, r.Level), r.Message), r.Task), r.Source)
	case codecPWM:
		var mask byte
		for i, v := range r.PWM {
			if v != 0 {
				mask |= 1 << i
			}
		}
		dst = append(dst, mask)
		for _, v := range r.PWM {
			if v != 0 {
				dst = appendFloat(dst, v)
			}
		}
		return dst
	case codecProfile:
		return appendText(dst, r.Event)
	case codecTruth:
		return appendTruth(dst, r)
	}
	panic(fmt.Sprintf("store: no codec for table %q", r.Table))
}

// decodeValue fills r's columns from v; r.Table is set. Text is copied out of v.
func decodeValue(r *Row, v []byte) error {
	d := decoder{b: v}
	switch tables[r.Table].codec {
	case codecValue, codecChannel:
		r.Value = d.float()
	case codecOD:
		r.Angle = int(d.varint())
		r.Value = d.float()
	case codecDosing:
		code := d.byte()
		if int(code) < len(dosingCodes) {
			r.Event = dosingCodes[code]
		} else {
			r.Event = d.text()
		}
		r.Value = d.float()
		r.Source = d.text()
	case codecLED:
		r.Channel = d.text()
		r.Value = d.float()
		r.Source = d.text()
	case codecAutomation:
		r.Event, r.Message, r.Data = d.text(), d.text(), d.text()
	case codecSettings:
		if ended := d.uvarint(); ended > 0 {
			r.EndedAt = time.UnixMicro(int64(ended - 1)).UTC()
		}
		r.Event, r.Data = d.text(), d.text()
	case codecLog:
		r.Level, r.Message, r.Task, r.Source = d.text(), d.text(), d.text(), d.text()
	case codecPWM:
		mask := d.byte()
		for i := range r.PWM {
			if mask&(1<<i) != 0 {
				r.PWM[i] = d.float()
			}
		}
	case codecProfile:
		r.Event = d.text()
	case codecTruth:
		decodeTruth(r, &d)
	}
	if d.err != nil || len(d.b) != 0 {
		return fmt.Errorf("%s: %w", r.Table, errBadValue)
	}
	return nil
}

// logLevel reads only the level of a logs value, to filter without decoding the rest.
func logLevel(v []byte) []byte {
	d := decoder{b: v}
	return d.bytes()
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendText(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// decoder reads a packed value; the first failure sticks in err and later reads return zero.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errBadValue, nil }

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) float() float64 {
	if len(d.b) < 8 {
		d.fail()
		return 0
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return f
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns the next text without copying: valid only while the transaction lives.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		d.fail()
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) text() string { return string(d.bytes()) }

package contract

import (
	"encoding/json"
	"testing"
	"time"
)

func TestFormatFloat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{500, "500.0"}, {0.25, "0.25"}, {1e-05, "1e-05"}, {0, "0.0"}, {-3, "-3.0"},
		{400.5, "400.5"}, {1e16, "1e+16"}, {0.0001, "0.0001"},
	} {
		if got := FormatFloat(tc.in); got != tc.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEncode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   any
		want string
	}{
		{400.0, "400.0"}, {true, "True"}, {false, "False"}, {5, "5"}, {"ready", "ready"}, {nil, ""},
		{MeasuredRPM{MeasuredRPM: 498.2, Timestamp: Timestamp(time.Date(2026, 3, 1, 12, 0, 5, 123e6, time.UTC))},
			`{"measured_rpm":498.2,"timestamp":"2026-03-01T12:00:05.123Z"}`},
	} {
		got, err := Encode(tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("Encode(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCast(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d       Datatype
		in      string
		want    any
		wantErr bool
	}{
		{Float, "600", 600.0, false},
		{Float, "abc", nil, true},
		{Integer, "5", int64(5), false},
		{Integer, "5.0", nil, true},
		{Boolean, "On", true, false},
		{Boolean, "nope", false, false},
		{String, "x", "x", false},
		{TypeMeasuredRPM, "{}", nil, true},
	} {
		got, err := Cast(tc.d, []byte(tc.in))
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("Cast(%s, %q) = %v, %v", tc.d, tc.in, got, err)
		}
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	t.Parallel()
	var v struct{ T Timestamp }
	if err := json.Unmarshal([]byte(`{"T":"2026-03-01T13:00:05.123456+01:00"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"T":"2026-03-01T12:00:05.123Z"}` {
		t.Fatalf("got %s", b)
	}
}

func TestParseTopic(t *testing.T) {
	t.Parallel()
	p, ok := Parse("pioreactor/pio01/exp/stirring/target_rpm/set")
	if !ok || p.Unit != "pio01" || p.Experiment != "exp" || p.Job != "stirring" || p.Attr != "target_rpm" || len(p.Rest) != 1 {
		t.Fatalf("got %+v %v", p, ok)
	}
	if _, ok := Parse("other/x/y"); ok {
		t.Fatal("foreign root accepted")
	}
	if !IsTesting("pioreactor/u/_testing_exp/od_reading/od1") || IsTesting(JobTopic("u", "exp", "j", "a")) {
		t.Fatal("IsTesting")
	}
}

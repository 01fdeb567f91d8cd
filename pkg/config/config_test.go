package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// topo is the minimum a config needs to load.
const topo = "[cluster.topology]\nleader_hostname=leader\nleader_address=10.0.0.1\n"

func mustParse(t *testing.T, shared, unit string) *Config {
	t.Helper()
	c, err := Parse([]byte(topo+shared), []byte(unit))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestDialect(t *testing.T) {
	t.Parallel()
	shared := `
[s]
Kp=1
kp=2
inline=1 # not a comment
semi=a ; b
colon: 3
spaced   =   x y  
empty=
bare
quoted="q"
multi=first
    second
    # indented comment lines are skipped
	third
crlf=a` + "\r\n" + `  b` + "\r\n" + `
[Case]
   k=upper
[case]
k=lower
# full-line comment
; another
[DEFAULT]
d=from-default
`
	c := mustParse(t, shared, "")
	for _, tc := range []struct{ sec, key, want string }{
		{"s", "Kp", "1"},
		{"s", "kp", "2"},
		{"s", "inline", "1 # not a comment"},
		{"s", "semi", "a ; b"},
		{"s", "colon", "3"},
		{"s", "spaced", "x y"},
		{"s", "empty", ""},
		{"s", "bare", "true"},
		{"s", "quoted", `"q"`},
		{"s", "multi", "first\nsecond\nthird"},
		{"s", "crlf", "a\nb"},
		{"Case", "k", "upper"},
		{"case", "k", "lower"},
		{"s", "d", "from-default"},
		{"DEFAULT", "d", "from-default"},
	} {
		if got := c.String(tc.sec, tc.key, "<missing>"); got != tc.want {
			t.Errorf("[%s] %s = %q, want %q", tc.sec, tc.key, got, tc.want)
		}
	}
	if c.Has("s", "KP") || !c.Has("s", "bare") || !c.Has("s", "d") || c.Has("nosuch", "d") {
		t.Error("Has: wrong answer for case, bare key, default or missing section")
	}
	if got := c.String("nosuch", "d", "fb"); got != "fb" {
		t.Errorf("missing section must not see DEFAULT, got %q", got)
	}
	if slices.Contains(c.Sections(), "DEFAULT") {
		t.Errorf("Sections must exclude DEFAULT: %v", c.Sections())
	}
	if got := c.Keys("s"); got[0] != "Kp" || slices.Contains(got, "d") {
		t.Errorf("Keys(s) = %v: want own keys in file order", got)
	}
}

func TestLayering(t *testing.T) {
	t.Parallel()
	shared := "[a]\nx=1\ny=2\n[a]\ny=3\n[b]\nz=1\n"
	unit := "[a]\nx=10\n[c]\nw=1\n[cluster.topology]\nleader_address=127.0.0.1\n"
	c := mustParse(t, shared, unit)
	for _, tc := range []struct{ sec, key, want string }{
		{"a", "x", "10"}, // unit wins key by key
		{"a", "y", "3"},  // repeated section: later wins (lenient)
		{"b", "z", "1"},  // untouched shared section
		{"c", "w", "1"},  // unit-only section
		{SecTopology, keyLeaderHost, "leader"},
		{SecTopology, keyLeaderAddr, "127.0.0.1"},
		{SecAddresses, "leader", "127.0.0.1"}, // derived from the merged values
	} {
		if got := c.String(tc.sec, tc.key, "<missing>"); got != tc.want {
			t.Errorf("[%s] %s = %q, want %q", tc.sec, tc.key, got, tc.want)
		}
	}
	if got := c.Keys("a"); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("overridden keys keep their position: %v", got)
	}
}

func TestInterpolation(t *testing.T) {
	t.Parallel()
	shared := `
[DEFAULT]
root=/data
path=%(root)s/x
[s]
a=%(b)s-%(c)s
b=B
c=%(b)s%%
pct=100%%
dflt=%(root)s/y
viaDefault=%(path)s
lone=50%
missing=%(nope)s
badref=%(b
loop=%(loop)s
[t]
root=/override
`
	c := mustParse(t, shared, "")
	for _, tc := range []struct{ sec, key, want string }{
		{"s", "a", "B-B%"},
		{"s", "pct", "100%"},
		{"s", "dflt", "/data/y"},
		{"s", "viaDefault", "/data/x"},
		{"t", "path", "/override/x"}, // a DEFAULT value expands in the reading section
		{"s", "lone", "50%"},         // raw text when interpolation fails
	} {
		if got := c.String(tc.sec, tc.key, "<missing>"); got != tc.want {
			t.Errorf("[%s] %s = %q, want %q", tc.sec, tc.key, got, tc.want)
		}
	}
	for _, key := range []string{"lone", "missing", "badref", "loop"} {
		if _, err := c.Get("s", key); err == nil || !strings.Contains(err.Error(), "[s] "+key) {
			t.Errorf("Get(s, %s) error = %v, want one naming the key", key, err)
		}
		if _, err := c.Float("s", key, 0); err == nil {
			t.Errorf("Float(s, %s) must fail", key)
		}
	}
	if n := len(c.Problems()); n != 4 {
		t.Errorf("Problems() = %d, want 4: %v", n, c.Problems())
	}
}

func TestTypedReads(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "[s]\nf= 1.5 \ni=42\nbadf=abc\nbadi=4.2\nempty=\n"+
		"b1=YES\nb2=off\nb3=True\nb4=0\nb5=On\nbadb=maybe\n", "")
	if v, err := c.Float("s", "f", 0); err != nil || v != 1.5 {
		t.Errorf("Float f = %v, %v", v, err)
	}
	if v, err := c.Float("s", "absent", 7); err != nil || v != 7 {
		t.Errorf("Float fallback = %v, %v", v, err)
	}
	if v, err := c.Float("nosection", "f", 7); err != nil || v != 7 {
		t.Errorf("Float fallback on missing section = %v, %v", v, err)
	}
	if v, err := c.Int("s", "i", 0); err != nil || v != 42 {
		t.Errorf("Int i = %v, %v", v, err)
	}
	for _, tc := range []struct {
		key  string
		read func(string) error
	}{
		{"badf", func(k string) error { _, err := c.Float("s", k, 0); return err }},
		{"empty", func(k string) error { _, err := c.Float("s", k, 0); return err }},
		{"badi", func(k string) error { _, err := c.Int("s", k, 0); return err }},
		{"badb", func(k string) error { _, err := c.Bool("s", k, false); return err }},
	} {
		err := tc.read(tc.key)
		if err == nil || !strings.Contains(err.Error(), "[s] parameter "+tc.key) {
			t.Errorf("%s: error %v, want one naming section and key", tc.key, err)
		}
	}
	for key, want := range map[string]bool{"b1": true, "b2": false, "b3": true, "b4": false, "b5": true} {
		if v, err := c.Bool("s", key, !want); err != nil || v != want {
			t.Errorf("Bool %s = %v, %v; want %v", key, v, err, want)
		}
	}
	if _, err := c.Get("s", "absent"); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "'s.absent'") {
		t.Errorf("Get absent = %v", err)
	}
}

func TestDerivedSections(t *testing.T) {
	t.Parallel()
	c := mustParse(t, `
[leds]
A=IR
B=
C=white
D=white
[PWM]
1=stirring
2=
3=media
[od_config.photodiode_channel]
1=REF
2=90
3=
4=
[cluster.addresses]
leader=192.168.1.9
pio02=192.168.1.12
[leds_reverse]
stale=Z
`, "")
	for _, tc := range []struct {
		sec  string
		want map[string]string
	}{
		{SecLEDsReverse, map[string]string{"IR": "A", "white": "D"}}, // last channel wins
		{SecPWMReverse, map[string]string{"stirring": "1", "media": "3"}},
		{SecPhotodiode, map[string]string{"1": "REF", "2": "90"}},
		{SecAddresses, map[string]string{"leader": "10.0.0.1", "pio02": "192.168.1.12"}},
	} {
		if got := c.Section(tc.sec); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("[%s] = %v, want %v", tc.sec, got, tc.want)
		}
	}
	if ch, ok := c.LEDChannelFor("IR"); !ok || ch != "A" {
		t.Errorf("LEDChannelFor(IR) = %q %v", ch, ok)
	}
	if ch, ok := c.PWMChannelFor("media"); !ok || ch != "3" {
		t.Errorf("PWMChannelFor(media) = %q %v", ch, ok)
	}
	if _, ok := c.PWMChannelFor("waste"); ok {
		t.Error("PWMChannelFor(waste) must be absent")
	}
	if got := c.PWMRoles(); !reflect.DeepEqual(got, map[string]string{"1": "stirring", "3": "media"}) {
		t.Errorf("PWMRoles = %v", got)
	}
	m := c.Merged()
	if _, ok := m[SecPWMReverse]; !ok {
		t.Error("Merged must include derived sections")
	}
	m[SecPWM]["1"] = "mutated"
	if c.String(SecPWM, "1", "") != "stirring" {
		t.Error("Merged must return copies")
	}
}

func TestOverridesSnapshot(t *testing.T) {
	t.Parallel()
	base := mustParse(t, "[stirring.config]\npwm_hz=200\n[PWM]\n1=stirring\n", "")
	run := base.With([][3]string{
		{"stirring.config", "pwm_hz", "100"},
		{"new.section", "k", "5%%"},
		{SecPWM, "1", ""},
		{SecPWM, "2", "stirring"},
	})
	if v, _ := base.Float("stirring.config", "pwm_hz", 0); v != 200 {
		t.Errorf("original changed: pwm_hz = %v", v)
	}
	if base.HasSection("new.section") {
		t.Error("original gained a section")
	}
	if v, _ := run.Float("stirring.config", "pwm_hz", 0); v != 100 {
		t.Errorf("override: pwm_hz = %v", v)
	}
	if got := run.String("new.section", "k", ""); got != "5%" {
		t.Errorf("override value is raw INI text: got %q", got)
	}
	if ch, _ := run.PWMChannelFor("stirring"); ch != "2" {
		t.Errorf("derived sections follow overrides: stirring on %q", ch)
	}
	if ch, _ := base.PWMChannelFor("stirring"); ch != "1" {
		t.Errorf("original derived section changed: stirring on %q", ch)
	}
	again := run.With([][3]string{{"stirring.config", "pwm_hz", "50"}})
	if v, _ := run.Float("stirring.config", "pwm_hz", 0); v != 100 {
		t.Errorf("With on a snapshot changed it: %v", v)
	}
	if again.String("new.section", "k", "") != "5%" {
		t.Error("overrides must stack")
	}
}

func TestLoadFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	shared := filepath.Join(dir, "config.ini")
	unit := filepath.Join(dir, "unit_config.ini")

	_, err := Load(shared, unit)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "Configuration file at "+shared+" is missing") {
		t.Fatalf("missing shared file: %v", err)
	}
	if err := os.WriteFile(shared, []byte(topo+"[a]\nx=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(shared, unit)
	if err != nil || c.String("a", "x", "") != "1" {
		t.Fatalf("missing unit file must be fine: %v", err)
	}
	if err := os.WriteFile(unit, []byte("[a]\nx=2\n[oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(shared, unit)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Line != 3 || !strings.Contains(err.Error(), unit) {
		t.Fatalf("broken unit file: %v", err)
	}
}

func TestCorruptInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		line       int
	}{
		{"zeroed file", strings.Repeat("\x00", 512), 1},
		{"not utf-8", topo + "[a]\nx=\xff\xfe\n", 5},
		{"key before any section", "x=1\n" + topo, 1},
		{"unclosed section", topo + "[a\n", 4},
		{"empty key", topo + "[a]\n=1\n", 5},
		{"empty section name", topo + "[]\n", 4},
		{"bare key continued", topo + "[a]\nbare\n  more\n", 6},
		{"no topology", "[a]\nx=1\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.text), nil)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a *ValidationError, got %v", err)
			}
			if ve.Line != tc.line {
				t.Errorf("line = %d, want %d (%v)", ve.Line, tc.line, err)
			}
		})
	}
}

// FuzzParse: arbitrary bytes give a Config or an error, never a panic.
func FuzzParse(f *testing.F) {
	f.Add(defaultINI, []byte(""))
	f.Add([]byte(topo+"[a]\nx=%(y)s\n"), []byte("[a]\ny=%%\n"))
	f.Add([]byte("[a\n\"\"\"x\n`"), []byte("\x00"))
	f.Fuzz(func(t *testing.T, shared, unit []byte) {
		c, err := Parse(shared, unit)
		if err == nil {
			_ = c.Merged()
			_, _ = c.MQTT()
			_, _ = c.PhotodiodeChannels()
		}
		_ = ValidateShared(shared)
		_ = ValidateUnit(unit, shared)
	})
}

// TestConcurrentSnapshots: jobs read and derive snapshots from one shared Config at once.
func TestConcurrentSnapshots(t *testing.T) {
	t.Parallel()
	base := mustParse(t, "[stirring.config]\npwm_hz=200\n", "")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := strconv.Itoa(100 + i)
			run := base.With([][3]string{{"stirring.config", "pwm_hz", want}})
			if got := run.String("stirring.config", "pwm_hz", ""); got != want {
				t.Errorf("snapshot %d: pwm_hz = %s", i, got)
			}
			_ = base.Merged()
		}()
	}
	wg.Wait()
	if got := base.String("stirring.config", "pwm_hz", ""); got != "200" {
		t.Errorf("base changed: %s", got)
	}
}

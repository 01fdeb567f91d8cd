package calibration

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseExamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, typ, x, y string
		created         time.Time
	}{
		{"testdata/od600.yaml", TypeOD600, "OD600", "Voltage", time.Date(2025, 3, 1, 14, 22, 5, 120e6, time.UTC)},
		{"testdata/pump.yaml", TypePump, "Duration", "Volume", time.Date(2025, 3, 1, 15, 0, 0, 0, time.UTC)},
		{"testdata/stirring.yaml", TypeStirring, "DC %", "RPM", time.Date(2025, 3, 1, 14, 30, 12, 0, time.UTC)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.file)
			if c.Type != tc.typ || c.X != tc.x || c.Y != tc.y || !c.CreatedAt.Equal(tc.created) {
				t.Fatalf("got type %q x %q y %q created %v", c.Type, c.X, c.Y, c.CreatedAt)
			}
			// Round trip through YAML and JSON keeps every field.
			var back Calibration
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("json %s: %v", b, err)
			}
			if !reflect.DeepEqual(back, c) {
				t.Fatalf("json round trip:\n%+v\n%+v", back, c)
			}
		})
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	t.Parallel()
	pump, err := os.ReadFile("testdata/pump.yaml")
	if err != nil {
		t.Fatal(err)
	}
	without := func(key string) string {
		var keep []string
		for _, l := range strings.Split(string(pump), "\n") {
			if !strings.HasPrefix(l, key+":") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	replace := func(old, new string) string { return strings.Replace(string(pump), old, new, 1) }
	for _, tc := range []struct{ name, data, want string }{
		{"empty", "  \n", "empty file"},
		{"not yaml", "calibration_type: [unclosed", "invalid calibration"},
		{"a list", "- 1\n- 2\n", "invalid calibration"},
		{"no type", without("calibration_type"), "missing field calibration_type"},
		{"unknown type", replace("simple_peristaltic_pump", "magic"), `unknown calibration_type "magic"`},
		{"missing hz", without("hz"), "missing hz"},
		{"missing several", without("created_at") + "\n", "missing created_at"},
		{"missing curve", strings.Split(string(pump), "curve_data_")[0], "curve_data_, recorded_data"},
		{"created_at without zone", replace("2025-03-01T15:00:00Z", "2025-03-01 15:00:00"), "time zone"},
		{"hz not a number", replace("hz: 250.0", "hz: fast"), "invalid calibration"},
		{"negative dc", replace("dc: 100.0", "dc: -1"), "dc -1"},
		{"unknown curve type", replace("type: poly", "type: cubic"), `unknown type "cubic"`},
		{"poly rows", replace("coefficients: [0.52, 0.0]", "coefficients: [[0.52, 0.0]]"), "list of numbers"},
		{"recorded lengths", replace("y: [0.79, 0.77,", "y: [0.77,"), "recorded_data has 10 x and 9 y"},
		{"name with a slash", replace("name: media-pump-2025-03-01", "name: ../evil"), "path separator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.data))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	spline := []struct{ name, curve, want string }{
		{"short row", "  type: spline\n  knots: [0, 1]\n  coefficients:\n    - [1, 2, 3]\n", "has 3 numbers"},
		{"rows vs knots", "  type: spline\n  knots: [0, 1, 2]\n  coefficients:\n    - [1, 2, 3, 4]\n", "needs 2 coefficient rows"},
		{"knots not increasing", "  type: akima\n  knots: [1, 0]\n  coefficients:\n    - [1, 2, 3, 4]\n", "strictly increasing"},
		{"no coefficients", "  type: spline\n  knots: [0, 1]\n", "missing coefficients"},
	}
	for _, tc := range spline {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := strings.Split(string(pump), "curve_data_:")[0] + "curve_data_:\n" + tc.curve + "recorded_data:\n  x: []\n  y: []\n"
			_, err := Parse([]byte(data))
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "calibrations"))
	if err != nil {
		t.Fatal(err)
	}
	pump := mustLoad(t, "testdata/pump.yaml")

	if _, ok, err := s.Active(MediaPump); ok || err != nil {
		t.Fatalf("fresh store: active = %v, %v", ok, err)
	}
	if err := s.SetActive(MediaPump, pump.Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("set active before save: %v, want ErrNotFound", err)
	}
	path, err := s.Save(MediaPump, pump)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "calibrations", MediaPump, pump.Name+".yaml"); path != want {
		t.Fatalf("saved at %s, want %s", path, want)
	}
	got, err := s.Load(MediaPump, pump.Name)
	if err != nil || !reflect.DeepEqual(got, pump) {
		t.Fatalf("load: %v\n%+v\n%+v", err, got, pump)
	}
	// One file activated for two pumps.
	for _, dev := range []string{MediaPump, WastePump} {
		if dev == WastePump {
			if _, err := s.Save(WastePump, pump); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetActive(dev, pump.Name); err != nil {
			t.Fatal(err)
		}
	}
	if act, ok, err := s.Active(WastePump); !ok || err != nil || act.Name != pump.Name {
		t.Fatalf("active waste pump = %v, %v, %v", act.Name, ok, err)
	}
	names, err := s.ActiveNames()
	if err != nil || len(names) != 2 {
		t.Fatalf("active names %v, %v", names, err)
	}
	devs, err := s.Devices()
	if err != nil || !reflect.DeepEqual(devs, []string{MediaPump, WastePump}) {
		t.Fatalf("devices %v, %v", devs, err)
	}

	// A corrupt file: named in the error, the good ones still listed.
	bad := filepath.Join(dir, "calibrations", MediaPump, "broken.yaml")
	if err := os.WriteFile(bad, []byte("calibration_type: simple_peristaltic_pump\nhz: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(MediaPump, "broken"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("load corrupt: %v, want the path %s", err, bad)
	}
	list, err := s.List(MediaPump)
	if len(list) != 1 || list[0].Name != pump.Name || err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Fatalf("list = %d calibrations, err %v", len(list), err)
	}
	if err := s.SetActive(MediaPump, "broken"); err == nil {
		t.Fatal("activated a corrupt calibration")
	}

	// Bad names never reach the file system.
	for _, name := range []string{"", "..", "a/b", `a\b`, ".hidden"} {
		if _, err := s.Load(MediaPump, name); !errors.Is(err, ErrBadName) {
			t.Errorf("load %q: %v, want ErrBadName", name, err)
		}
		if _, err := s.Load(name, "x"); !errors.Is(err, ErrBadName) {
			t.Errorf("load device %q: %v, want ErrBadName", name, err)
		}
	}

	// Delete clears the pointer that named it, and only that one.
	if err := s.Delete(MediaPump, pump.Name); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Active(MediaPump); ok || err != nil {
		t.Fatalf("after delete: active %v, %v", ok, err)
	}
	if _, ok, _ := s.Active(WastePump); !ok {
		t.Fatal("deleting the media pump's file cleared the waste pump's pointer")
	}
	if err := s.Delete(MediaPump, pump.Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A pointer to a file removed behind the store's back is an error, not a silent default.
	if err := os.Remove(filepath.Join(dir, "calibrations", WastePump, pump.Name+".yaml")); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Active(WastePump); ok || !errors.Is(err, ErrNotFound) {
		t.Fatalf("dangling pointer: %v, %v", ok, err)
	}
	if err := s.ClearActive(WastePump); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearActive(WastePump); err != nil {
		t.Fatalf("clearing twice: %v", err)
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultPump()
	c.Name = "bad"
	c.DC = 150
	if _, err := s.Save(MediaPump, c); !errors.Is(err, ErrInvalid) {
		t.Fatalf("save dc 150: %v", err)
	}
	if list, _ := s.List(MediaPump); len(list) != 0 {
		t.Fatalf("an invalid calibration was written: %v", list)
	}
}

// TestSaveFiles: saved calibrations and the active pointers are plain readable files
// (0644, as the reference writes them; the old writer left its temporary file's 0600),
// and no temporary file stays behind.
func TestSaveFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "calibrations")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	pump := mustLoad(t, "testdata/pump.yaml")
	path, err := s.Save(MediaPump, pump)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetActive(MediaPump, pump.Name); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, filepath.Join(dir, activeFile)} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", p, st.Mode().Perm())
		}
	}
	for _, d := range []string{dir, filepath.Dir(path)} {
		tmp, _ := filepath.Glob(filepath.Join(d, ".*tmp*"))
		if len(tmp) != 0 {
			t.Errorf("temporary files left in %s: %v", d, tmp)
		}
	}
}

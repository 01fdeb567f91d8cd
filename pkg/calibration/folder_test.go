package calibration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pointerFolder is what Store and Estimators share through folder.
type pointerFolder interface {
	Delete(device, name string) error
	SetActive(device, name string) error
	ClearActive(device string) error
	ActiveNames() (map[string]string, error)
	Devices() ([]string, error)
}

// TestFolderKinds pins where Store and Estimators differ over the folder they share: the
// pointer file's name, the words of their errors, and whether the folder may be missing.
func TestFolderKinds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind     string
		open     func(t *testing.T, dir string) pointerFolder
		save     func(t *testing.T, f pointerFolder, dir, device, name string)
		pointers string
		badName  string // error of a name ".."
		notFound string // error of deleting a missing file, DIR standing for the folder
		missing  string // Devices when the folder is gone ("" = none, no error)
		lazy     bool   // a pointer write (re)creates a missing folder
	}{
		{
			kind: "store",
			open: func(t *testing.T, dir string) pointerFolder {
				s, err := Open(dir)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			save: func(t *testing.T, f pointerFolder, _, device, name string) {
				c := mustLoad(t, "testdata/pump.yaml")
				c.Name = name
				if _, err := f.(*Store).Save(device, c); err != nil {
					t.Fatal(err)
				}
			},
			pointers: ".active_calibrations.yaml",
			badName:  `calibration name: invalid name: ".." starts with a dot`,
			notFound: "calibration not found: DIR/media_pump/x.yaml",
			missing:  "list calibration devices: open DIR: no such file or directory",
		},
		{
			kind: "estimators",
			open: func(t *testing.T, dir string) pointerFolder { return OpenEstimators(dir) },
			save: func(t *testing.T, _ pointerFolder, dir, device, name string) {
				writeEstimator(t, dir, device, name)
			},
			pointers: ".active_estimators.yaml",
			badName:  `estimator name: invalid name: ".." starts with a dot`,
			notFound: "calibration not found: estimator x of media_pump",
			lazy:     true,
		},
	} {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "folder")
			f := c.open(t, dir)
			if d, err := f.Devices(); c.missing == "" && (d != nil || err != nil) {
				t.Fatalf("devices of a missing folder: %v, %v", d, err)
			}
			// A pointer write needs no folder yet (Open made the store's, the estimators' is made here).
			if err := f.ClearActive(MediaPump); err != nil {
				t.Fatal(err)
			}
			c.save(t, f, dir, MediaPump, "e1")
			if err := f.SetActive(MediaPump, "e1"); err != nil {
				t.Fatal(err)
			}
			if names, err := f.ActiveNames(); err != nil || names[MediaPump] != "e1" || len(names) != 1 {
				t.Fatalf("active names %v, %v", names, err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var hidden []string
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					hidden = append(hidden, e.Name())
				}
			}
			if len(hidden) != 1 || hidden[0] != c.pointers {
				t.Fatalf("pointer files %v, want %s", hidden, c.pointers)
			}
			if err := f.SetActive(MediaPump, ".."); err == nil || err.Error() != c.badName {
				t.Errorf("bad name: %v, want %s", err, c.badName)
			}
			err = f.Delete(MediaPump, "x")
			if want := strings.ReplaceAll(c.notFound, "DIR", dir); err == nil || err.Error() != want {
				t.Errorf("delete missing: %v, want %s", err, want)
			}
			if err := f.Delete(MediaPump, "e1"); err != nil {
				t.Fatal(err)
			}
			if names, err := f.ActiveNames(); err != nil || len(names) != 0 {
				t.Fatalf("after delete: active names %v, %v", names, err)
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			d, err := f.Devices()
			if c.missing == "" && (d != nil || err != nil) {
				t.Errorf("devices of a removed folder: %v, %v", d, err)
			}
			if want := strings.ReplaceAll(c.missing, "DIR", dir); c.missing != "" && (err == nil || err.Error() != want) {
				t.Errorf("devices of a removed folder: %v, want %s", err, want)
			}
			if err := f.ClearActive(MediaPump); (err == nil) != c.lazy {
				t.Errorf("clear active in a removed folder: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, c.pointers)); (err == nil) != c.lazy {
				t.Errorf("pointer file in a removed folder: %v", err)
			}
		})
	}
}

func writeEstimator(t *testing.T, dir, device, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, device), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, device, name+".yaml"), []byte("estimator_type: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

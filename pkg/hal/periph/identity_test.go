package periph

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadIdentity(t *testing.T) {
	t.Parallel()
	hat := map[string]string{"model": "Raspberry Pi 4 Model B Rev 1.4\x00", "hat/vendor": "Pioreactor Inc.\x00",
		"hat/product_id": "0x0001\x00", "hat/product_ver": "0x0012\x00", "hat/uuid": "abc\x00"}
	for _, tc := range []struct {
		name    string
		files   map[string]string
		o       IdentityOverrides
		present bool
		known   bool
		version Version
		serial  string
	}{
		{"HAT 1.2", hat, IdentityOverrides{}, true, true, Version{1, 2}, "abc"},
		{"no EEPROM", map[string]string{"model": "Raspberry Pi 5 Model B Rev 1.0\x00"}, IdentityOverrides{}, false, false, Version{}, noSerial},
		{"HARDWARE and HAT_PRESENT override", map[string]string{}, IdentityOverrides{HATPresent: true, HATVersion: "1.1"}, true, true, Version{1, 1}, noSerial},
		{"foreign HAT", map[string]string{"hat/vendor": "Acme\x00", "hat/product_id": "0x0001\x00"}, IdentityOverrides{}, false, false, Version{}, noSerial},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id, err := ReadIdentity(writeTree(t, tc.files), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if id.HATPresent != tc.present || id.HATKnown != tc.known || id.HATVersion != tc.version || id.Serial != tc.serial {
				t.Fatalf("identity %+v", id)
			}
		})
	}
	if _, err := ReadIdentity(t.TempDir(), IdentityOverrides{HATVersion: "one"}); err == nil {
		t.Fatal("HARDWARE=one accepted")
	}
}

func TestGPIOChipLabel(t *testing.T) {
	t.Parallel()
	for model, want := range map[string]string{
		"Raspberry Pi 5 Model B Rev 1.0":        labelRP1,
		"Raspberry Pi 4 Model B Rev 1.4":        labelBCM2711,
		"Raspberry Pi 3 Model B Plus Rev 1.3":   labelBCM2835,
		"Raspberry Pi Zero 2 W Rev 1.0":         labelBCM2835,
		"Raspberry Pi Compute Module 4 Rev 1.0": labelBCM2711,
	} {
		if got, err := GPIOChipLabel(model); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", model, got, err, want)
		}
	}
	for _, model := range []string{"", "Pine64 Rock", "Raspberry Pi 9"} {
		if _, err := GPIOChipLabel(model); !errors.Is(err, ErrUnknownBoard) {
			t.Errorf("%q: %v, want ErrUnknownBoard", model, err)
		}
	}
}

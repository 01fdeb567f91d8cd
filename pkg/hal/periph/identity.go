package periph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Version is a HAT revision such as 1.2 (also used for firmware and model versions).
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less orders versions.
func (v Version) Less(w Version) bool {
	return v.Major < w.Major || (v.Major == w.Major && v.Minor < w.Minor)
}

// ParseVersion reads "1.2".
func ParseVersion(s string) (Version, error) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if !ok || err1 != nil || err2 != nil || a < 0 || b < 0 {
		return Version{}, fmt.Errorf("version %q: want major.minor such as 1.2", s)
	}
	return Version{a, b}, nil
}

// Identity is what the device tree says about the computer and its HAT.
type Identity struct {
	PiModel    string  // e.g. "Raspberry Pi 5 Model B Rev 1.0"; "" when unknown
	HATPresent bool    // the EEPROM names Pioreactor Inc., product 0x0001
	HATVersion Version // zero when unknown (unwritten EEPROM, ribbon cable)
	HATKnown   bool
	Product    string
	Serial     string
	Vendor     string
}

// IdentityOverrides are the environment's word over the EEPROM (HAT_PRESENT=1, HARDWARE=1.1):
// cmd reads the environment and hands them down.
type IdentityOverrides struct {
	HATPresent bool
	HATVersion string
}

const noSerial = "00000000-0000-0000-0000-000000000000"

// ReadIdentity reads the device tree under root ("/proc/device-tree" on a Pi).
func ReadIdentity(root string, o IdentityOverrides) (Identity, error) {
	read := func(name string) (string, bool, error) {
		b, err := os.ReadFile(filepath.Join(root, name))
		if errors.Is(err, fs.ErrNotExist) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("read device tree: %w", err)
		}
		return strings.TrimRight(string(b), "\x00\n"), true, nil
	}
	var id Identity
	var err error
	if id.PiModel, _, err = read("model"); err != nil {
		return id, err
	}
	vendor, _, err := read("hat/vendor")
	if err != nil {
		return id, err
	}
	product, _, err := read("hat/product_id")
	if err != nil {
		return id, err
	}
	id.Vendor = vendor
	pid, perr := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(product), "0x"), 16, 16)
	id.Product = "Unknown"
	if perr == nil && pid == 1 {
		id.Product = "Pioreactor HAT"
	}
	id.HATPresent = o.HATPresent || (vendor == "Pioreactor Inc." && perr == nil && pid == 1)
	ver, ok, err := read("hat/product_ver")
	if err != nil {
		return id, err
	}
	if ok && len(ver) >= 2 {
		a, err1 := strconv.Atoi(ver[len(ver)-2 : len(ver)-1])
		b, err2 := strconv.Atoi(ver[len(ver)-1:])
		if err1 == nil && err2 == nil {
			id.HATVersion, id.HATKnown = Version{a, b}, true
		}
	}
	if o.HATVersion != "" {
		v, err := ParseVersion(o.HATVersion)
		if err != nil {
			return id, fmt.Errorf("HARDWARE: %w", err)
		}
		id.HATVersion, id.HATKnown = v, true
	}
	if id.Serial, ok, err = read("hat/uuid"); err != nil {
		return id, err
	} else if !ok || id.Serial == "" {
		id.Serial = noSerial
	}
	return id, nil
}

// Pi families, by the GPIO controller their header is wired to.
const (
	labelBCM2835 = "pinctrl-bcm2835" // Pi 1–3, Zero, Zero 2 W
	labelBCM2711 = "pinctrl-bcm2711" // Pi 4, 400, CM4
	labelRP1     = "pinctrl-rp1"     // Pi 5, 500, CM5
)

// GPIOChipLabel is the label of the GPIO chip carrying the 40-pin header on this model.
func GPIOChipLabel(piModel string) (string, error) {
	m := strings.TrimSpace(piModel)
	switch {
	case !strings.HasPrefix(m, "Raspberry Pi"):
		if m == "" {
			m = "(none in the device tree)"
		}
		return "", fmt.Errorf("%w: computer %q is not a Raspberry Pi", ErrUnknownBoard, m)
	case strings.HasPrefix(m, "Raspberry Pi 5"), strings.HasPrefix(m, "Raspberry Pi 500"),
		strings.HasPrefix(m, "Raspberry Pi Compute Module 5"):
		return labelRP1, nil
	case strings.HasPrefix(m, "Raspberry Pi 4"), strings.HasPrefix(m, "Raspberry Pi 400"),
		strings.HasPrefix(m, "Raspberry Pi Compute Module 4"):
		return labelBCM2711, nil
	case strings.HasPrefix(m, "Raspberry Pi 3"), strings.HasPrefix(m, "Raspberry Pi 2"),
		strings.HasPrefix(m, "Raspberry Pi Zero"), strings.HasPrefix(m, "Raspberry Pi Model"),
		strings.HasPrefix(m, "Raspberry Pi Compute Module 3"):
		return labelBCM2835, nil
	}
	return "", fmt.Errorf("%w: Raspberry Pi model %q", ErrUnknownBoard, m)
}

package periph

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The wiring of each HAT revision and the optics overlay of each model, as the OS image ships
// them; a file the user has under $DOT_PIOREACTOR/hardware wins over its embedded twin.
//
//go:embed hardware
var defaults embed.FS

// Model names a bioreactor model and version, e.g. pioreactor_40ml 1.5.
type Model struct{ Name, Version string }

func (m Model) String() string { return m.Name + " " + m.Version }

// DefaultModel is used when no model is assigned (the original does the same).
var DefaultModel = Model{"pioreactor_40ml", "1.5"}

// KnownModels are the built-in bioreactor models.
var KnownModels = []Model{
	{"pioreactor_20ml", "1.0"}, {"pioreactor_20ml", "1.1"}, {"pioreactor_20ml", "1.5"},
	{"pioreactor_20ml_XR", "1.5"}, {"pioreactor_40ml", "1.0"}, {"pioreactor_40ml", "1.5"},
	{"pioreactor_40ml_XR", "1.5"},
}

// ADC drivers named in adc.yaml.
const (
	DriverADS1115 = "ads1115"
	DriverADS1114 = "ads1114"
	DriverPico    = "pico" // the RP2040 HAT MCU
)

// ADCSpec is one ADC role (pd1…pd4, aux, version).
type ADCSpec struct {
	Driver  string
	Address uint16
	Channel int
}

// Layout is the resolved wiring of one HAT revision with one model's overlay.
type Layout struct {
	HAT           Version
	Model         Model
	HeaterChannel string
	PWMToPin      map[string]int // PWM channel "1".."5" -> BCM pin
	LEDPin        int
	ButtonPin     int
	HallPin       int
	ADC           map[string]ADCSpec // by role
	DACAddress    uint16             // the LED driver's address (DAC43608 on HAT 1.0, else the RP2040)
	TempAddress   uint16
}

// HasMCU says whether the HAT carries the RP2040 (HAT ≥ 1.1).
func (l Layout) HasMCU() bool { return !l.HAT.Less(Version{1, 1}) }

// swdPins are the RP2040's SWD lines on HAT ≥ 1.1: its firmware loader drives them at boot.
var swdPins = []int{24, 25}

// LoadLayout reads the hardware description for hat and model: for each file the HAT's
// (from dir if there, else embedded), deep-merged with the model's overlay.
func LoadLayout(dir string, hat Version, model Model) (Layout, error) {
	if model.Name == "" {
		model = DefaultModel
	}
	l := Layout{HAT: hat, Model: model}
	if err := checkModel(dir, model); err != nil {
		return l, err
	}
	hatDir := path.Join("hats", hat.String())
	if _, err := fs.Stat(defaults, path.Join("hardware", hatDir)); err != nil {
		if _, err := os.Stat(filepath.Join(dir, hatDir)); err != nil {
			return l, fmt.Errorf("%w: no description of HAT %s (known: 1.0, 1.1, 1.2)", ErrLayout, hat)
		}
	}
	modelDir := path.Join("models", model.Name, model.Version)
	mods := map[string]map[string]any{}
	for _, mod := range []string{"pwm", "gpio", "adc", "dac", "temp"} {
		base, err := readMod(dir, hatDir, mod)
		if err != nil {
			return l, err
		}
		over, err := readMod(dir, modelDir, mod)
		if err != nil {
			return l, err
		}
		mods[mod] = merge(base, over)
	}
	d := decoder{where: hatDir + " (+ " + modelDir + ")"}
	pwm := mods["pwm"]
	l.HeaterChannel = d.str(pwm, "pwm.yaml", "heater_pwm_channel")
	l.PWMToPin = d.pinMap(pwm, "pwm.yaml", "pwm_to_pin")
	g := mods["gpio"]
	l.LEDPin = d.int(g, "gpio.yaml", "pcb_led_pin")
	l.ButtonPin = d.int(g, "gpio.yaml", "pcb_button_pin")
	l.HallPin = d.int(g, "gpio.yaml", "hall_sensor_pin")
	l.DACAddress = uint16(d.int(mods["dac"], "dac.yaml", "address"))
	l.TempAddress = uint16(d.int(mods["temp"], "temp.yaml", "address"))
	l.ADC = map[string]ADCSpec{}
	for role, v := range mods["adc"] {
		m, ok := v.(map[string]any)
		if !ok {
			d.fail("adc.yaml", role, "is not a map of driver, address, channel")
			continue
		}
		spec := ADCSpec{Driver: d.str(m, "adc.yaml", role+".driver"), Address: uint16(d.int(m, "adc.yaml", role+".address")), Channel: d.int(m, "adc.yaml", role+".channel")}
		switch spec.Driver {
		case DriverADS1114, DriverADS1115, DriverPico:
		case "":
		default:
			d.fail("adc.yaml", role+".driver", fmt.Sprintf("%q is not ads1114, ads1115 or pico", spec.Driver))
		}
		l.ADC[role] = spec
	}
	for _, role := range []string{"aux", "version"} {
		if _, ok := l.ADC[role]; !ok {
			d.fail("adc.yaml", role, "is missing")
		}
	}
	if _, ok := l.PWMToPin[l.HeaterChannel]; !ok && l.HeaterChannel != "" {
		d.fail("pwm.yaml", "heater_pwm_channel", fmt.Sprintf("channel %q has no pin in pwm_to_pin", l.HeaterChannel))
	}
	if len(d.errs) > 0 {
		return l, fmt.Errorf("%w: %w", ErrLayout, errors.Join(d.errs...))
	}
	return l, l.check()
}

// checkModel refuses a model that is neither built in nor described under dir.
func checkModel(dir string, m Model) error {
	for _, k := range KnownModels {
		if k == m {
			return nil
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "models", m.Name, m.Version)); err == nil {
		return nil
	}
	return fmt.Errorf("%w: bioreactor model %s (set MODEL_NAME and MODEL_VERSION to one of %v, or describe it under %s)",
		ErrUnknownBoard, m, KnownModels, filepath.Join(dir, "models"))
}

func readMod(dir, sub, mod string) (map[string]any, error) {
	name := path.Join(sub, mod+".yaml")
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	where := filepath.Join(dir, filepath.FromSlash(name))
	if errors.Is(err, fs.ErrNotExist) {
		b, err = defaults.ReadFile(path.Join("hardware", name))
		where = "built-in " + name
		if errors.Is(err, fs.ErrNotExist) {
			return map[string]any{}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLayout, err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrLayout, where, err)
	}
	return m, nil
}

// merge lays over on base: nested maps key by key, anything else replaced.
func merge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, ok1 := out[k].(map[string]any)
		om, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

// decoder collects every missing or malformed key, each naming its file and key.
type decoder struct {
	where string // under the hardware directory: the HAT's files with the model's overlay
	errs  []error
}

func (d *decoder) fail(file, key, why string) {
	d.errs = append(d.errs, fmt.Errorf("%s %s: %s %s", d.where, file, key, why))
}

func (d *decoder) get(m map[string]any, file, key string) (any, bool) {
	k := key[strings.LastIndex(key, ".")+1:]
	v, ok := m[k]
	if !ok || v == nil {
		d.fail(file, key, "is missing")
	}
	return v, ok && v != nil
}

func (d *decoder) str(m map[string]any, file, key string) string {
	v, ok := d.get(m, file, key)
	if !ok {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	}
	d.fail(file, key, "is not a string")
	return ""
}

func (d *decoder) int(m map[string]any, file, key string) int {
	v, ok := d.get(m, file, key)
	if !ok {
		return 0
	}
	if x, ok := v.(int); ok && x >= 0 {
		return x
	}
	d.fail(file, key, fmt.Sprintf("is not a non-negative integer: %v", v))
	return 0
}

func (d *decoder) pinMap(m map[string]any, file, key string) map[string]int {
	v, ok := d.get(m, file, key)
	if !ok {
		return nil
	}
	raw, isMap := v.(map[string]any)
	if !isMap {
		d.fail(file, key, "is not a map of channel to pin")
		return nil
	}
	out := map[string]int{}
	for ch := range raw {
		out[ch] = d.int(raw, file, key+"."+ch)
	}
	return out
}

// device is what sits at one I²C address.
type device struct{ driver, roles string }

var driverNames = map[string]string{DriverADS1114: "ADS1114", DriverADS1115: "ADS1115", DriverPico: "RP2040 HAT MCU", "dac43608": "DAC43608", "tmp1075": "TMP1075"}

// check refuses wiring that cannot work: two different chips at one I²C address (HAT 1.0 with
// the v1.5 optics: its ADS1115 and DAC43608 sit where the ADS1114s are, yet every address
// answers, so nothing else would notice), a pin used twice, or the RP2040's SWD pins.
func (l Layout) check() error {
	at := map[uint16][]device{}
	add := func(addr uint16, driver, role string) {
		for i, d := range at[addr] {
			if d.driver == driver {
				at[addr][i].roles += ", " + role
				return
			}
		}
		at[addr] = append(at[addr], device{driver, role})
	}
	roles := make([]string, 0, len(l.ADC))
	for r := range l.ADC {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, r := range roles {
		add(l.ADC[r].Address, l.ADC[r].Driver, r)
	}
	if !l.HasMCU() {
		add(l.DACAddress, "dac43608", "LEDs")
	}
	add(l.TempAddress, "tmp1075", "heating PCB")
	var errs []error
	addrs := make([]int, 0, len(at))
	for a := range at {
		addrs = append(addrs, int(a))
	}
	sort.Ints(addrs)
	for _, a := range addrs {
		if ds := at[uint16(a)]; len(ds) > 1 {
			var names []string
			for _, d := range ds {
				names = append(names, fmt.Sprintf("the %s (%s)", driverNames[d.driver], d.roles))
			}
			errs = append(errs, fmt.Errorf("%s is both %s", hex(uint16(a)), strings.Join(names, " and ")))
		}
	}
	for _, r := range roles {
		if s := l.ADC[r]; s.Driver == DriverADS1114 && s.Channel != 0 {
			errs = append(errs, fmt.Errorf("%s: the ADS1114 has only channel 0, not %d", r, s.Channel))
		}
	}
	pins := map[int]string{}
	use := func(pin int, what string) {
		if prev, ok := pins[pin]; ok {
			errs = append(errs, fmt.Errorf("GPIO %d is both %s and %s", pin, prev, what))
		}
		pins[pin] = what
		if l.HasMCU() && (pin == swdPins[0] || pin == swdPins[1]) {
			errs = append(errs, fmt.Errorf("GPIO %d (%s) is the RP2040's SWD line on HAT %s", pin, what, l.HAT))
		}
	}
	chans := make([]string, 0, len(l.PWMToPin))
	for ch := range l.PWMToPin {
		chans = append(chans, ch)
	}
	sort.Strings(chans)
	for _, ch := range chans {
		use(l.PWMToPin[ch], "PWM channel "+ch)
	}
	use(l.LEDPin, "the PCB LED")
	use(l.ButtonPin, "the button")
	use(l.HallPin, "the hall sensor")
	if len(errs) > 0 && !l.HasMCU() {
		errs = append(errs, errors.New("HAT 1.0 came with pioreactor_20ml 1.0/1.1 or pioreactor_40ml 1.0: set MODEL_NAME and MODEL_VERSION to yours, or move the v1.5 optics to a HAT ≥ 1.1"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: HAT %s with model %s cannot work: %w", ErrLayout, l.HAT, l.Model, errors.Join(errs...))
	}
	return nil
}

// Photodiodes are the pd roles, sorted: "pd1", "pd2", …
func (l Layout) Photodiodes() []string {
	var out []string
	for r := range l.ADC {
		if strings.HasPrefix(r, "pd") {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

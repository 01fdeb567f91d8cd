package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/hal"
	"github.com/pioreactor/pioreactord/pkg/hal/periph"
)

// hardwareHook, when set (tests only), adjusts the hardware config: a temporary directory for
// the device tree and sysfs, an emulated bus and fake GPIO lines.
var hardwareHook func(*periph.Config)

// hardwareConfig is where the HAT is and what the environment and config.ini say about it
// (HAT_PRESENT, HARDWARE, FIRMWARE, MODEL_NAME/MODEL_VERSION; [PWM], [stirring.config] pwm_hz,
// [od_reading.config] local_ac_hz, [hardware] pwm_chip and gpio_chip_label).
func hardwareConfig(conf *config.Config, clk clock.Clock, log *slog.Logger) (periph.Config, error) {
	c := periph.Config{HardwareDir: filepath.Join(dotPioreactor(), "hardware"), Clock: clk, Log: log, Roles: conf.PWMRoles()}
	c.Identity = periph.IdentityOverrides{HATPresent: os.Getenv("HAT_PRESENT") == "1", HATVersion: os.Getenv("HARDWARE")}
	c.Firmware = os.Getenv("FIRMWARE")
	if name := os.Getenv("MODEL_NAME"); name != "" {
		c.Model = periph.Model{Name: name, Version: os.Getenv("MODEL_VERSION")}
		if c.Model.Version == "" {
			return c, errors.New("MODEL_NAME is set without MODEL_VERSION")
		}
	}
	var err error
	if c.StirringHz, err = conf.Float("stirring.config", "pwm_hz", 200); err != nil {
		return c, err
	}
	if conf.String("od_reading.config", "local_ac_hz", "") != "" {
		if c.MainsHz, err = conf.Float("od_reading.config", "local_ac_hz", 0); err != nil {
			return c, err
		}
	}
	if conf.String("hardware", "pwm_chip", "") != "" {
		if c.PWMChip, err = conf.Int("hardware", "pwm_chip", 0); err != nil {
			return c, err
		}
		c.PWMChipSet = true
	}
	c.GPIOLabel = conf.String("hardware", "gpio_chip_label", "")
	if hardwareHook != nil {
		hardwareHook(&c)
	}
	return c, nil
}

// openHardware opens the HAT of a unit run without --sim, or says in one message what is
// missing.
func openHardware(conf *config.Config, clk clock.Clock, log *slog.Logger) (*periph.Hardware, error) {
	c, err := hardwareConfig(conf, clk, log)
	if err != nil {
		return nil, fmt.Errorf("hardware: %w", err)
	}
	h, err := periph.Open(c)
	if err != nil {
		return nil, err
	}
	r := h.Report()
	log.Info("hardware opened", "computer", r.PiModel, "hat", r.HAT, "model", r.Model, "firmware", r.Firmware, "pwm_chip", r.PWMChip)
	return h, nil
}

// hardwareCommand is `pioreactord hardware check`: what the daemon would find, printed for a
// person to read or paste back. It exits non-zero when anything is missing.
func hardwareCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pioreactord hardware check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "config.ini (default $GLOBAL_CONFIG or $DOT_PIOREACTOR/config.ini; the built-in template if absent)")
	stir := fs.Bool("stir", false, "also spin the stir fan at 30 % for 3 s and report the RPM the hall sensor sees")
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: pioreactord hardware check [--config FILE] [--stir]")
		return flag.ErrHelp
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	conf, err := checkConfig(*configPath)
	if err != nil {
		return err
	}
	c, err := hardwareConfig(conf, clock.Real{}, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	h := periph.Inspect(c)
	defer h.Close()
	r := h.Report()
	if _, err := r.WriteTo(stdout); err != nil {
		return err
	}
	b := h.Board()
	if b.StatusLED != nil {
		// A blink the user can see: the LED works and this is the right Pi.
		for _, on := range []bool{true, false, true, false} {
			_ = b.StatusLED.Set(on)
			time.Sleep(150 * time.Millisecond)
		}
	}
	if *stir {
		fmt.Fprintln(stdout, stirCheck(ctx, b, conf))
	}
	if n := len(r.Problems); n > 0 {
		return fmt.Errorf("hardware check: %d problem(s)", n)
	}
	return nil
}

// checkConfig is the config the daemon would read, or the template when there is none yet.
func checkConfig(path string) (*config.Config, error) {
	if path == "" {
		path = os.Getenv("GLOBAL_CONFIG")
	}
	if path == "" {
		path = filepath.Join(dotPioreactor(), "config.ini")
	}
	if _, err := os.Stat(path); err != nil {
		return config.LoadDefault(), nil
	}
	return config.Load(path, filepath.Join(filepath.Dir(path), "unit_config.ini"))
}

// stirCheck spins the stirring channel at a fixed duty and counts hall edges.
func stirCheck(ctx context.Context, b hal.Board, conf *config.Config) string {
	ch, ok := conf.PWMChannelFor("stirring")
	out, have := b.PWM[ch]
	if !ok || !have || b.Hall == nil {
		return "stir: no stirring channel or hall sensor"
	}
	if err := out.SetDutyCycle(30); err != nil {
		return "stir: " + err.Error()
	}
	defer out.SetDutyCycle(0)
	time.Sleep(time.Second) // spin up
	edges, err := b.Hall.Edges(ctx, 3*time.Second)
	if err != nil {
		return "stir: " + err.Error()
	}
	return fmt.Sprintf("stir: %d hall edges in 3 s at 30 %% duty: %.1f RPM", len(edges), periph.RPM(edges))
}

package periph

import (
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/pioreactor/pioreactord/pkg/hal"
)

// SoftPWM times a PWM waveform in software on any GPIO line (periph's gpioioctl has no PWM):
// one goroutine toggling the line against absolute deadlines. 0 % and 100 % are steady levels
// set by the caller's goroutine, so their errors reach the caller.
type SoftPWM struct {
	pin gpio.PinOut
	mu  sync.Mutex
	hz  float64
	dc  float64
	run *waveform // nil while the line is steady
	err error     // the last failure of the waveform goroutine
	off bool      // released
}

var (
	_ hal.FrequencyPWM = (*SoftPWM)(nil)
	_ hal.Releaser     = (*SoftPWM)(nil)
)

type waveform struct {
	stop, done chan struct{}
}

// NewSoftPWM drives the line low and sets the carrier to hz.
func NewSoftPWM(pin gpio.PinOut, hz float64) (*SoftPWM, error) {
	if !(hz > 0 && hz <= 10_000) {
		return nil, fmt.Errorf("software PWM at %v Hz on %s: %w (want 0–10 kHz)", hz, pin, ErrOutOfRange)
	}
	if err := pin.Out(gpio.Low); err != nil {
		return nil, fmt.Errorf("software PWM on %s: drive low: %w", pin, err)
	}
	return &SoftPWM{pin: pin, hz: hz}, nil
}

// SetDutyCycle implements hal.PWM.
func (p *SoftPWM) SetDutyCycle(percent float64) error {
	if !(percent >= 0 && percent <= 100) {
		return fmt.Errorf("software PWM on %s: %v%%: %w (want 0–100)", p.pin, percent, ErrOutOfRange)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return ErrClosed
	}
	return p.apply(percent)
}

// apply moves to percent; p.mu is held.
func (p *SoftPWM) apply(percent float64) error {
	p.halt()
	if percent == 0 || percent == 100 {
		if err := p.pin.Out(gpio.Level(percent == 100)); err != nil {
			return fmt.Errorf("failed to set software PWM on %s to %v%% duty cycle at %v Hz: %w", p.pin, percent, p.hz, err)
		}
		p.dc = percent
		return nil
	}
	p.dc = percent
	w := &waveform{stop: make(chan struct{}), done: make(chan struct{})}
	p.run = w
	period := time.Duration(float64(time.Second) / p.hz)
	high := time.Duration(float64(period) * percent / 100)
	go p.toggle(w, period, high)
	return nil
}

// halt stops the waveform (the line is left where it was); p.mu is held.
func (p *SoftPWM) halt() {
	if p.run != nil {
		close(p.run.stop)
		<-p.run.done
		p.run = nil
	}
}

func (p *SoftPWM) toggle(w *waveform, period, high time.Duration) {
	defer close(w.done)
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	start := time.Now()
	for {
		for i, level := range []gpio.Level{gpio.High, gpio.Low} {
			if err := p.pin.Out(level); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
			at := start.Add(high)
			if i == 1 {
				at = start.Add(period)
			}
			t.Reset(time.Until(at))
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
		start = start.Add(period)
		if time.Since(start) > period {
			start = time.Now() // fell behind (a busy CPU): restart rather than race to catch up
		}
	}
}

// SetFrequency implements hal.FrequencyPWM: low while the period changes, then the same duty.
func (p *SoftPWM) SetFrequency(hz float64) error {
	if !(hz > 0 && hz <= 10_000) {
		return fmt.Errorf("software PWM at %v Hz: %w (want 0–10 kHz)", hz, ErrOutOfRange)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return ErrClosed
	}
	dc := p.dc
	if err := p.apply(0); err != nil {
		return err
	}
	p.hz = hz
	return p.apply(dc)
}

// Err is the last failure of the waveform goroutine, if any.
func (p *SoftPWM) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Release implements hal.Releaser: stop the waveform and drive the line low. If the low level
// cannot be set, the output keeps its last known duty and the error says so.
func (p *SoftPWM) Release() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return nil
	}
	p.halt()
	if err := p.pin.Out(gpio.Low); err != nil {
		return fmt.Errorf("release software PWM on %s: could not drive it low (last duty %v%%): %w", p.pin, p.dc, err)
	}
	p.dc, p.off = 0, true
	return nil
}

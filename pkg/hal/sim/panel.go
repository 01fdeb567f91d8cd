package sim

import (
	"context"
	"sync"
)

// panel is the simulated HAT's status LED and button, and the host computer's vitals.
type panel struct {
	mu      sync.Mutex
	ledOn   bool
	blinks  int // off→on transitions, for tests
	edges   chan bool
	diskGB  float64
	cpuTemp float64
}

func newPanel() *panel {
	return &panel{edges: make(chan bool, 16), diskGB: 24, cpuTemp: 45}
}

func (p *panel) Set(on bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on && !p.ledOn {
		p.blinks++
	}
	p.ledOn = on
	return nil
}

func (p *panel) Next(ctx context.Context) (bool, error) {
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case down := <-p.edges:
		return down, nil
	}
}

func (p *panel) DiskFreeGB() (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.diskGB, nil
}

func (p *panel) CPUCelsius() (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cpuTemp, nil
}

// PressButton presses (down) or releases the simulated button.
func (b *Bioreactor) PressButton(down bool) { b.panel.edges <- down }

// LEDBlinks counts how often the status LED was switched on.
func (b *Bioreactor) LEDBlinks() int {
	b.panel.mu.Lock()
	defer b.panel.mu.Unlock()
	return b.panel.blinks
}

// SetHost sets the simulated computer's free disk space and CPU temperature.
func (b *Bioreactor) SetHost(diskGB, cpuCelsius float64) {
	b.panel.mu.Lock()
	defer b.panel.mu.Unlock()
	b.panel.diskGB, b.panel.cpuTemp = diskGB, cpuCelsius
}

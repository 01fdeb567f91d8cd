package periph

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

func edgePin(n int) *gpiotest.Pin {
	return &gpiotest.Pin{N: "GPIO", Num: n, EdgesChan: make(chan gpio.Level, 16)}
}

func TestHallCountsFallingEdges(t *testing.T) {
	t.Parallel()
	pin := edgePin(21)
	h, err := NewHall(pin, newStepClock(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullUp {
		t.Fatalf("pull %v, want up", pin.P)
	}
	for range 3 {
		pin.EdgesChan <- gpio.Low
	}
	edges, err := h.Edges(bg, 200*time.Millisecond)
	if err != nil || len(edges) != 3 {
		t.Fatalf("Edges = %d edges, %v; want 3", len(edges), err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := h.Edges(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestRPM(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(0, 0)
	at := func(s ...float64) []time.Time {
		var out []time.Time
		for _, x := range s {
			out = append(out, t0.Add(time.Duration(x*float64(time.Second))))
		}
		return out
	}
	for _, tc := range []struct {
		edges []time.Time
		want  float64
	}{{nil, 0}, {at(1), 0}, {at(0, 0.1, 0.2, 0.3), 600}, {at(0, 0.07, 0.14), 857.1}} {
		if got := RPM(tc.edges); got != tc.want {
			t.Errorf("RPM(%v) = %v, want %v", tc.edges, got, tc.want)
		}
	}
}

func TestButton(t *testing.T) {
	t.Parallel()
	pin := edgePin(4)
	b, err := NewButton(pin)
	if err != nil {
		t.Fatal(err)
	}
	if pin.P != gpio.PullDown {
		t.Fatalf("pull %v", pin.P)
	}
	pin.EdgesChan <- gpio.High
	pin.EdgesChan <- gpio.Low
	for _, want := range []bool{true, false} {
		if down, err := b.Next(bg); err != nil || down != want {
			t.Fatalf("Next = %v, %v; want %v", down, err, want)
		}
	}
	ctx, cancel := context.WithTimeout(bg, 3*edgePoll)
	defer cancel()
	if _, err := b.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("no edge: %v", err)
	}
}

func TestStatusLED(t *testing.T) {
	t.Parallel()
	pin := &gpiotest.Pin{N: "GPIO23", L: gpio.High}
	led, err := NewStatusLED(pin)
	if err != nil || pin.L != gpio.Low {
		t.Fatalf("starts %v, %v; want low", pin.L, err)
	}
	for _, on := range []bool{true, false} {
		if err := led.Set(on); err != nil || pin.L != gpio.Level(on) {
			t.Fatalf("Set(%v): level %v, %v", on, pin.L, err)
		}
	}
}

func TestGuardedLinesNeverClaimSWD(t *testing.T) {
	t.Parallel()
	g := guardedLines{Lines: fakeLines{}, forbidden: swdPins, why: "SWD"}
	for _, n := range []int{24, 25} {
		if _, err := g.Line(n); err == nil {
			t.Errorf("GPIO %d handed out", n)
		}
	}
	if _, err := g.Line(23); err != nil {
		t.Fatal(err)
	}
}

type fakeLines struct{}

func (fakeLines) Line(n int) (gpio.PinIO, error) { return &gpiotest.Pin{Num: n}, nil }

// levels records every level written, to see the waveform.
type levels struct {
	gpiotest.Pin
	mu     sync.Mutex
	writes []gpio.Level
	fail   bool
}

func (l *levels) Out(v gpio.Level) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return errors.New("line gone")
	}
	l.writes = append(l.writes, v)
	return l.Pin.Out(v)
}

func (l *levels) count() (high, low int, last gpio.Level) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.writes {
		if w {
			high++
		} else {
			low++
		}
	}
	if n := len(l.writes); n > 0 {
		last = l.writes[n-1]
	}
	return
}

func TestSoftPWM(t *testing.T) {
	t.Parallel()
	pin := &levels{}
	p, err := NewSoftPWM(pin, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, last := pin.count(); last != gpio.Low {
		t.Fatal("not low at start")
	}
	if err := p.SetDutyCycle(100); err != nil {
		t.Fatal(err)
	}
	if _, _, last := pin.count(); last != gpio.High {
		t.Fatal("100 % is not steady high")
	}
	if err := p.SetDutyCycle(50); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for high, _, _ := pin.count(); high < 10 && time.Now().Before(deadline); high, _, _ = pin.count() {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.SetFrequency(500); err != nil {
		t.Fatal(err)
	}
	if err := p.SetDutyCycle(0); err != nil {
		t.Fatal(err)
	}
	high, low, last := pin.count()
	if high < 10 || low < 10 || last != gpio.Low {
		t.Fatalf("waveform: %d highs, %d lows, last %v", high, low, last)
	}
	for _, bad := range []float64{-1, 101} {
		if err := p.SetDutyCycle(bad); !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("%v %%: %v", bad, err)
		}
	}
	if err := p.SetDutyCycle(30); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if _, _, last := pin.count(); last != gpio.Low {
		t.Fatal("released high")
	}
	if err := p.SetDutyCycle(10); !errors.Is(err, ErrClosed) {
		t.Fatalf("after release: %v", err)
	}
}

func TestSoftPWMReleaseCannotDriveLow(t *testing.T) {
	t.Parallel()
	pin := &levels{}
	p, _ := NewSoftPWM(pin, 16)
	_ = p.SetDutyCycle(100)
	pin.mu.Lock()
	pin.fail = true
	pin.mu.Unlock()
	if err := p.Release(); err == nil {
		t.Fatal("a release that could not drive the line low says nothing")
	}
	if _, err := NewSoftPWM(&levels{}, 0); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("0 Hz: %v", err)
	}
}

// stepClock advances by step at every Now, so a hall window ends without wall time passing.
type stepClock struct {
	*fakeClock
	step time.Duration
}

func newStepClock(step time.Duration) *stepClock { return &stepClock{newFakeClock(), step} }

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

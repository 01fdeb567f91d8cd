package periph

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/pioreactor/pioreactord/pkg/clock"
	"github.com/pioreactor/pioreactord/pkg/hal"
)

// edgePoll bounds each wait for an edge, so a cancelled context is seen quickly. Always
// positive: gpioioctl reads 0 as "forever" and gpiotest reads -1 as "forever".
const edgePoll = 50 * time.Millisecond

// Hall is the heating PCB's hall sensor: one falling edge per stir-bar revolution.
type Hall struct {
	pin gpio.PinIn
	clk clock.Clock
}

var _ hal.HallSensor = (*Hall)(nil)

// NewHall configures the line as an input with pull-up, falling edges.
func NewHall(pin gpio.PinIn, clk clock.Clock) (*Hall, error) {
	if err := pin.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		return nil, fmt.Errorf("hall sensor on %s: %w", pin, err)
	}
	return &Hall{pin: pin, clk: clk}, nil
}

// Edges implements hal.HallSensor; edge times are taken when the kernel hands the edge over
// (its own time stamps are not passed on by gpioioctl), as the original does.
func (h *Hall) Edges(ctx context.Context, window time.Duration) ([]time.Time, error) {
	var edges []time.Time
	end := h.clk.Now().Add(window)
	for {
		left := end.Sub(h.clk.Now())
		if left <= 0 {
			return edges, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if h.pin.WaitForEdge(min(left, edgePoll)) {
			edges = append(edges, h.clk.Now())
		}
	}
}

// RPM is the original's estimate: round(count × 60 / Σ Δt, 1) over the edges' intervals.
func RPM(edges []time.Time) float64 {
	if len(edges) < 2 {
		return 0
	}
	sum := edges[len(edges)-1].Sub(edges[0]).Seconds()
	if sum <= 0 {
		return 0
	}
	return roundTo(float64(len(edges)-1)*60/sum, 0.1)
}

package sim

import (
	"context"
	"testing"
	"time"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// BenchmarkAdvance24h integrates one unit through a day in one call: growth, stirring and a
// heater toggled like the temperature job does (105 s off every 5 min), so the fine step is
// used after every switch. Reports ns per plant step.
func BenchmarkAdvance24h(b *testing.B) {
	for _, c := range []struct {
		name    string
		heating bool
	}{{"thermostat", true}, {"idle", false}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var steps int
			for b.Loop() {
				pl, err := newPlant(DefaultParams(), epoch, nil)
				if err != nil {
					b.Fatal(err)
				}
				pl.leds[0] = 80
				pl.setDuty(0, 30) // stirring
				for t := time.Duration(0); t < 24*time.Hour; t += 5 * time.Minute {
					if c.heating {
						pl.setDuty(4, 40)
					}
					pl.advance(epoch.Add(t + 195*time.Second))
					pl.setDuty(4, 0)
					pl.advance(epoch.Add(t + 5*time.Minute))
				}
				steps += pl.steps
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
			b.ReportMetric(float64(steps)/float64(b.N), "steps/day")
		})
	}
}

// BenchmarkDeviceDay drives one unit through the hal devices for a simulated day with the
// daemon's default cadence: an OD reading every 5 s (IR on, 0.85 s sampling, IR off), the
// temperature job's 5-minute cycle (6 reads, 105 s heater-off window with 21 samples), an RPM
// window every 23 s and a 1 s dose every 10 minutes.
func BenchmarkDeviceDay(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		clk := &manualClock{now: epoch}
		u, err := New(DefaultParams(), clk, nil)
		if err != nil {
			b.Fatal(err)
		}
		bd := u.Board()
		_ = bd.PWM["1"].SetDutyCycle(30)
		_ = bd.PWM["5"].SetDutyCycle(40)
		next := map[string]time.Time{"od": epoch, "temp": epoch, "rpm": epoch, "dose": epoch}
		for clk.now.Before(epoch.Add(24 * time.Hour)) {
			now := clk.now
			switch {
			case !now.Before(next["od"]):
				_ = bd.LEDs.SetIntensity("A", 80)
				if _, err := bd.Photodiodes.ReadVolts(ctx); err != nil {
					b.Fatal(err)
				}
				_ = bd.LEDs.SetIntensity("A", 0)
				next["od"] = next["od"].Add(5 * time.Second)
			case !now.Before(next["rpm"]):
				if _, err := bd.Hall.Edges(ctx, time.Second); err != nil {
					b.Fatal(err)
				}
				next["rpm"] = next["rpm"].Add(23 * time.Second)
			case !now.Before(next["dose"]):
				_ = bd.PWM["2"].SetDutyCycle(100)
				_ = bd.PWM["4"].SetDutyCycle(100)
				_ = clk.Sleep(ctx, time.Second)
				_ = bd.PWM["2"].SetDutyCycle(0)
				_ = bd.PWM["4"].SetDutyCycle(0)
				next["dose"] = next["dose"].Add(10 * time.Minute)
			case !now.Before(next["temp"]):
				_ = bd.PWM["5"].SetDutyCycle(0)
				for range 21 {
					_ = clk.Sleep(ctx, 5*time.Second)
					_, _ = bd.Thermometer.ReadCelsius(ctx)
				}
				_ = bd.PWM["5"].SetDutyCycle(40)
				next["temp"] = next["temp"].Add(5 * time.Minute)
			default:
				_ = clk.Sleep(ctx, 100*time.Millisecond)
			}
		}
	}
}

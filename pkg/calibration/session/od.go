package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// odProtocol reads the photodiode for standards of known OD600 (a blank among them) and fits
// voltage against OD600.
type odProtocol struct{}

func (odProtocol) name() string      { return "standards" }
func (odProtocol) devices() []string { return []string{"od135", "od45", "od90"} }
func (odProtocol) first() string     { return "intro" }

func (p odProtocol) info(device string) ProtocolInfo {
	return ProtocolInfo{ID: device + "_" + p.name(), TargetDevice: device, ProtocolName: p.name(), Priority: 1,
		Title:        "OD600 calibration with standards",
		Description:  "Reads the photodiode for vials of known OD600; the fit turns volts into OD600.",
		Requirements: []string{"3 or more vials of known OD600 spanning your range, one of them a blank", "od_reading not running"}}
}

func (odProtocol) step(s *Session) *Step {
	switch s.StepID {
	case "intro":
		return &Step{StepID: "intro", StepType: Form, Title: "Set up the OD calibration",
			Body: "Choose the photodiode channel of this angle and the IR LED intensity the readings will use (od_reading must use the same).",
			Fields: []Field{
				{Name: "pd_channel", Label: "Photodiode channel", FieldType: "choice", Default: "2", Options: []string{"1", "2", "3", "4"}},
				{Name: "ir_led_intensity", Label: "IR LED intensity (%)", FieldType: "float", Default: 80.0, Minimum: ptr(0), Maximum: ptr(100)},
			}, Metadata: map[string]any{}}
	case "standard":
		n := len(dataFloats(s.Data, "ods"))
		return &Step{StepID: "standard", StepType: Form, Title: fmt.Sprintf("Standard %d", n+1),
			Body: "Put the next standard in the unit, then give its OD600; the unit reads it. Say done once every standard was read (3 or more).",
			Fields: []Field{
				{Name: "od600", Label: "OD600 of the vial now in the unit", FieldType: "float", Minimum: ptr(0), Maximum: ptr(100)},
				{Name: "done", Label: "All standards were read", FieldType: "bool", Default: false},
			}, Metadata: map[string]any{"ods": dataFloats(s.Data, "ods"), "volts": dataFloats(s.Data, "volts")}}
	case "review", "complete":
		return reviewStep(s, "volts per OD600")
	}
	return nil
}

func (p odProtocol) advance(ctx context.Context, m *Manager, s *Session, in Inputs) error {
	switch s.StepID {
	case "intro":
		ch, err := in.String("pd_channel", "2")
		if err != nil {
			return err
		}
		if ch != "1" && ch != "2" && ch != "3" && ch != "4" {
			return fmt.Errorf("%w: pd_channel %q must be 1, 2, 3 or 4", ErrBadInput, ch)
		}
		ir, err := in.Float("ir_led_intensity", 80, 0, 100)
		if err != nil {
			return err
		}
		s.Data["pd_channel"], s.Data["ir_led_intensity"], s.Data["ods"], s.Data["volts"] = ch, ir, []float64{}, []float64{}
		s.StepID = "standard"
	case "standard":
		done, err := in.Bool("done", false)
		if err != nil {
			return err
		}
		if done {
			return p.fit(m, s)
		}
		od, err := in.Required("od600", 0, 100)
		if err != nil {
			return err
		}
		ch, _ := s.Data["pd_channel"].(string)
		v, err := m.rig.ODVolts(ctx, ch, dataFloat(s.Data, "ir_led_intensity"))
		if err != nil {
			return fmt.Errorf("read the photodiode: %w", err)
		}
		s.Data["ods"] = append(dataFloats(s.Data, "ods"), od)
		s.Data["volts"] = append(dataFloats(s.Data, "volts"), v)
	case "review":
		return m.save(s, s.TargetDevice, calibrationOf(s), in)
	}
	return nil
}

func (odProtocol) fit(m *Manager, s *Session) error {
	ods, volts := dataFloats(s.Data, "ods"), dataFloats(s.Data, "volts")
	if len(ods) < 3 {
		return fmt.Errorf("%w: read at least 3 standards first (%d so far)", ErrBadInput, len(ods))
	}
	coef, err := fitPoly(ods, volts, 3)
	if err != nil {
		return err
	}
	ch, _ := s.Data["pd_channel"].(string)
	c := calibration.Calibration{Type: calibration.TypeOD600, Name: s.TargetDevice + "-standards-" + m.now().UTC().Format("2006-01-02_15-04-05"),
		Unit: m.unit, CreatedAt: m.now().UTC(), Curve: calibration.PolyCurve(coef...), X: "OD600", Y: "Voltage",
		Recorded: calibration.Recorded{X: ods, Y: volts}, IRLEDIntensity: dataFloat(s.Data, "ir_led_intensity"),
		Angle: strings.TrimPrefix(s.TargetDevice, "od"), PDChannel: ch}
	if err := c.Validate(); err != nil {
		return err
	}
	review(s, c)
	return nil
}

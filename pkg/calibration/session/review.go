package session

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/calibration"
)

// review keeps the fitted calibration in the session and moves to the review step.
func review(s *Session, c calibration.Calibration) {
	b, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	s.Data["calibration"] = m
	s.Data["residuals"] = residuals(c)
	s.StepID = "review"
}

func calibrationOf(s *Session) calibration.Calibration {
	b, _ := json.Marshal(s.Data["calibration"])
	var c calibration.Calibration
	_ = json.Unmarshal(b, &c)
	return c
}

// reviewStep shows the fit with its residuals, and asks whether to save it.
func reviewStep(s *Session, slopeName string) *Step {
	c := calibrationOf(s)
	res, _ := s.Data["residuals"].([]float64)
	if res == nil {
		res = dataFloats(s.Data, "residuals")
	}
	var rows []string
	for i, x := range c.Recorded.X {
		r := 0.0
		if i < len(res) {
			r = res[i]
		}
		rows = append(rows, fmt.Sprintf("%g → %g (residual %+.4g)", x, c.Recorded.Y[i], r))
	}
	body := fmt.Sprintf("Fitted %s = %s of %s (coefficients %v, %s).\n%s",
		c.Y, "a polynomial", c.X, c.Curve.Coefficients, slopeName, strings.Join(rows, "\n"))
	if s.Status == Complete {
		return &Step{StepID: "complete", StepType: Result, Title: "Calibration " + c.Name, Body: body, Fields: []Field{},
			Metadata: map[string]any{"calibration": s.Data["calibration"], "residuals": res, "saved": s.Data["saved"]}}
	}
	return &Step{StepID: "review", StepType: Result, Title: "Review the fit", Body: body,
		Fields: []Field{
			{Name: "save", Label: "Save this calibration", FieldType: "bool", Default: true},
			{Name: "set_active", Label: "Make it the active one", FieldType: "bool", Default: true},
			{Name: "calibration_name", Label: "Name", FieldType: "string", Default: c.Name},
		},
		Metadata: map[string]any{"calibration": s.Data["calibration"], "residuals": res}}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pioreactor/pioreactord/pkg/calibration/session"
)

const calibrationsHelp = `Usage: pio calibrations run --device DEVICE [--protocol-name NAME] [-y] [--FIELD VALUE]...
       pio calibrations protocols

  run walks through a guided calibration on this unit: each step says what to do and asks for
  its fields (press enter for the default shown in brackets; --FIELD VALUE answers a field
  ahead, -y takes every default). The last step shows the fit and its residuals and saves
  the calibration (and makes it active) unless you say no. Ctrl-C or an empty answer to a
  required field aborts the session; nothing is saved then.
  protocols lists the protocols with their devices.`

// calibrations is `pio calibrations …`.
func (a *app) calibrations(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(a.stdout, calibrationsHelp)
		return nil
	}
	switch args[0] {
	case "protocols":
		b, err := a.unitCall(ctx, http.MethodGet, "/unit_api/calibration_protocols", nil)
		if err != nil {
			return err
		}
		var ps []session.ProtocolInfo
		if err := json.Unmarshal(b, &ps); err != nil {
			return err
		}
		for _, p := range ps {
			fmt.Fprintf(a.stdout, "%-16s %-16s %s\n", p.TargetDevice, p.ProtocolName, p.Title)
		}
		return nil
	case "run":
		return a.calibrationRun(ctx, args[1:])
	}
	return usageErr(calibrationsHelp, "No such command '%s'.", args[0])
}

// defaultProtocols name the protocol of each device when --protocol-name is not given.
var defaultProtocols = map[string]string{"media_pump": "duration_based", "alt_media_pump": "duration_based",
	"waste_pump": "duration_based", "stirring": "dc_based", "od45": "standards", "od90": "standards", "od135": "standards"}

func (a *app) calibrationRun(ctx context.Context, args []string) error {
	_, opts := passThrough(args)
	yes := false
	for _, t := range args {
		yes = yes || t == "-y" || t == "--yes"
	}
	device, _ := opts["device"].(string)
	if device == "" {
		return usageErr(calibrationsHelp, "Missing option '--device'.")
	}
	protocol, _ := opts["protocol_name"].(string)
	if protocol == "" {
		protocol = defaultProtocols[device]
	}
	delete(opts, "device")
	delete(opts, "protocol_name")
	delete(opts, "yes")
	b, err := a.unitCall(ctx, http.MethodPost, "/unit_api/calibrations/sessions", map[string]string{"target_device": device, "protocol_name": protocol})
	if err != nil {
		return err
	}
	var v session.View
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	id := v.Session.SessionID
	in := bufio.NewReader(a.stdin)
	abort := func(why string) error {
		_, _ = a.unitCall(context.WithoutCancel(ctx), http.MethodPost, "/unit_api/calibrations/sessions/"+id+"/abort", map[string]any{})
		return fmt.Errorf("calibration aborted: %s", why)
	}
	refused := 0
	for v.Session.Status == session.InProgress && v.Step != nil {
		st := v.Step
		fmt.Fprintf(a.stdout, "\n== %s\n%s\n", st.Title, st.Body)
		answers := map[string]any{}
		for _, f := range st.Fields {
			val, err := a.fieldValue(f, opts, yes, in)
			if err != nil {
				return abort(err.Error())
			}
			if val != nil {
				answers[f.Name] = val
			}
		}
		if st.StepType == session.Action && !yes {
			fmt.Fprint(a.stdout, "Press enter to run it.")
			if _, err := in.ReadString('\n'); err != nil {
				return abort("no answer")
			}
		}
		b, err := a.unitCall(ctx, http.MethodPost, "/unit_api/calibrations/sessions/"+id+"/inputs", map[string]any{"inputs": answers})
		if err != nil {
			if ctx.Err() != nil {
				return abort("interrupted")
			}
			fmt.Fprintln(a.stdout, "Refused:", err)
			if refused++; refused == 3 || yes {
				return abort(err.Error())
			}
			continue // the session is unchanged: ask again
		}
		refused = 0
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
	}
	switch v.Session.Status {
	case session.Complete:
		if v.Step != nil {
			fmt.Fprintf(a.stdout, "\n%s\n", v.Step.Body)
		}
		if v.Session.Data["saved"] == true {
			fmt.Fprintf(a.stdout, "Saved calibration for %s (active: %v).\n", device, v.Session.Data["active"])
		} else {
			fmt.Fprintln(a.stdout, "Not saved.")
		}
		return nil
	case session.Failed:
		return fmt.Errorf("calibration failed: %s", v.Session.Error)
	}
	return fmt.Errorf("calibration ended %s", v.Session.Status)
}

// fieldValue answers one field: from --FIELD, the default under -y, else a prompt.
func (a *app) fieldValue(f session.Field, opts map[string]any, yes bool, in *bufio.Reader) (any, error) {
	text, given := opts[f.Name].(string)
	if !given && yes {
		if f.Required && f.Default == nil {
			return nil, fmt.Errorf("%s has no default: give --%s", f.Label, f.Name)
		}
		return f.Default, nil
	}
	if !given {
		def := ""
		if f.Default != nil {
			d, _ := json.Marshal(f.Default)
			def = " [" + string(d) + "]"
		}
		fmt.Fprintf(a.stdout, "%s%s: ", f.Label, def)
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return nil, fmt.Errorf("no answer for %s", f.Label)
		}
		text = strings.TrimSpace(line)
		if text == "" {
			if f.Required && f.Default == nil {
				return nil, fmt.Errorf("%s is required", f.Label)
			}
			return f.Default, nil
		}
	}
	switch f.FieldType {
	case "float", "int":
		x, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", f.Label, text)
		}
		return x, nil
	case "bool":
		switch strings.ToLower(text) {
		case "y", "yes", "true", "1":
			return true, nil
		case "n", "no", "false", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%s: answer yes or no", f.Label)
	case "float_list":
		var out []float64
		for _, part := range strings.FieldsFunc(strings.Trim(text, "[]"), func(r rune) bool { return r == ',' || r == ' ' }) {
			x, err := strconv.ParseFloat(part, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a number", f.Label, part)
			}
			out = append(out, x)
		}
		return out, nil
	}
	return text, nil
}

package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/pioreactor/pioreactord/pkg/contract"
)

// runBody is the run-job body as it arrives (docs/http.md, "Run requests"). config_overrides is read
// as lists of any length: decoded straight into [3]string, encoding/json would pad
// [["a"]] with empty strings and cut a fourth element off, and the job would start
// with an override nobody asked for.
type runBody struct {
	Args            []string          `json:"args"`
	Options         map[string]any    `json:"options"`
	Env             map[string]string `json:"env"`
	ConfigOverrides [][]string        `json:"config_overrides"`
}

// decodeRunRequest decodes and checks a run-job body: every override a
// [section, key, value] triple with a non-empty section and key, option names usable as
// command-line flags. Absent fields stay nil (normalise gives them their defaults).
func decodeRunRequest(c echo.Context) (contract.RunRequest, error) {
	var b runBody
	if err := decodeBody(c, &b, decodeOpts{unknownOK: true, emptyOK: true}); err != nil {
		return contract.RunRequest{}, err
	}
	return b.request()
}

func (b runBody) request() (contract.RunRequest, error) {
	r := contract.RunRequest{Args: b.Args, Options: b.Options, Env: b.Env}
	if b.ConfigOverrides != nil {
		r.ConfigOverrides = make([][3]string, len(b.ConfigOverrides))
	}
	for i, o := range b.ConfigOverrides {
		if len(o) != 3 {
			return contract.RunRequest{}, badRun(fmt.Sprintf("Expected `array` of length 3, got %d - at `$.config_overrides[%d]`", len(o), i),
				`Send each override as ["section", "key", "value"].`)
		}
		for j, part := range o[:2] {
			if strings.TrimSpace(part) == "" || !printable(part) || (j == 0 && strings.ContainsAny(part, "[]")) {
				return contract.RunRequest{}, badRun(fmt.Sprintf("config_overrides[%d] has an invalid %s %q", i, [2]string{"section", "key"}[j], part),
					"Sections and keys are non-empty names of printable characters.")
			}
		}
		r.ConfigOverrides[i] = [3]string{o[0], o[1], o[2]}
	}
	for name := range b.Options {
		if name == "" || !printable(name) || strings.ContainsFunc(name, unicode.IsSpace) {
			return contract.RunRequest{}, badRun(fmt.Sprintf("option name %q is not usable as a flag", name),
				"Option names are words without spaces or control characters.")
		}
	}
	return r, nil
}

// printable reports UTF-8 text without control characters.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

func badRun(cause, remedy string) *Error {
	return httpError(http.StatusBadRequest, "Invalid request body.", cause, remedy)
}

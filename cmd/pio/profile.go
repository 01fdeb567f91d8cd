package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pioreactor/pioreactord/pkg/contract"
	"github.com/pioreactor/pioreactord/pkg/profile"
)

const profileHelp = `Usage: pio run experiment_profile execute FILE EXPERIMENT [--dry-run]
       pio run experiment_profile verify FILE

  execute runs the profile FILE (a file of the leader's experiment_profiles folder) on the
  leader, against the workers of EXPERIMENT; --dry-run logs what it would do and touches
  nothing. verify checks FILE (a path here, else the leader's file) and prints every problem
  with its line.`

// profileRun is `pio run experiment_profile …` and `pios run experiment_profile …`: the
// profile job runs on the leader whichever unit asks.
func (a *app) profileRun(ctx context.Context, rest []string) error {
	args, opts := passThrough(rest)
	if len(args) == 0 || opts["help"] == true || opts["h"] == true {
		fmt.Fprintln(a.stdout, profileHelp)
		return nil
	}
	pa, err := profile.ParseArgs(args, opts)
	if err != nil {
		return usageErr(profileHelp, "%s", err.Error())
	}
	if pa.Command == "verify" {
		return a.profileVerify(ctx, pa.File)
	}
	req := contract.RunRequest{Args: args, Options: opts, Env: map[string]string{}, ConfigOverrides: [][3]string{}}
	if _, err := a.http.call(ctx, a.leader, http.MethodPatch, "/unit_api/jobs/run/job_name/"+profile.JobName, req); err != nil {
		return err
	}
	what := "Started"
	if pa.DryRun {
		what = "Started a dry run of"
	}
	fmt.Fprintf(a.stdout, "%s profile %s on the leader for experiment %s.\n", what, pa.File, pa.Experiment)
	return nil
}

// profileVerify decodes and validates a profile, checking its units against the inventory.
func (a *app) profileVerify(ctx context.Context, file string) error {
	src, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		var raw json.RawMessage
		raw, err = a.http.call(ctx, a.leader, http.MethodGet, "/api/experiment_profiles/"+url.PathEscape(filepath.Base(file)), nil)
		src = raw
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	known := profile.Known{}
	if b, err := a.leaderCall(ctx, http.MethodGet, "/api/units", nil); err == nil {
		var units []struct {
			Unit string `json:"pioreactor_unit"`
		}
		if json.Unmarshal(b, &units) == nil {
			known.Units = []string{}
			for _, u := range units {
				known.Units = append(known.Units, u.Unit)
			}
		}
	}
	p, diags := profile.Verify(src, known)
	for _, d := range diags {
		fmt.Fprintln(a.stdout, d.String())
	}
	if err := diags.Err(); err != nil {
		return fmt.Errorf("%s: %d error(s)", file, len(diags.Errors()))
	}
	fmt.Fprintf(a.stdout, "%s is valid (%d warning(s)). Plan:\n", file, len(diags.Warnings()))
	for _, st := range profile.Plan(p) {
		fmt.Fprintln(a.stdout, "  "+st.String())
	}
	return nil
}

package main

import (
	"github.com/pioreactor/pioreactord/pkg/config"
	"github.com/pioreactor/pioreactord/pkg/jobs"
)

// checkSavedConfig is what the config routes run, beyond config.Validate, on the config a
// save would give: the jobs' own checks (pkg/api may not import pkg/jobs), so that a value
// a job would refuse at its start is refused on save.
func checkSavedConfig(c *config.Config) error { return jobs.CheckConfig(c) }

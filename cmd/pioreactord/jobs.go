package main

import (
	"github.com/pioreactor/pioreactord/pkg/jobs"
	"github.com/pioreactor/pioreactord/pkg/supervisor"
)

// jobTable is every job a unit can run.
var jobTable = []supervisor.Spec{
	jobs.StirringSpec,
	jobs.ODReadingSpec,
}

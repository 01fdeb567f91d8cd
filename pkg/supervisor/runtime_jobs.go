package supervisor

import "fmt"

// JobIsRunning reports whether a job of that name is running on this unit, under any
// experiment (the reference's is_pio_job_running): actions such as od_blank and self_test
// refuse to run beside the jobs they would disturb.
func (rt *Runtime) JobIsRunning(job string) (bool, error) {
	rows, err := rt.registry.Running()
	if err != nil {
		return false, fmt.Errorf("is %s running: %w", job, err)
	}
	for _, r := range rows {
		if r.JobName == job && r.Unit == rt.unit {
			return true, nil
		}
	}
	return false, nil
}

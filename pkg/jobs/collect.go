package jobs

import "errors"

// collect gathers the errors of many option and config reads, so New reports them together.
type collect struct{ errs []error }

func (c *collect) float(v float64, err error) float64 {
	c.errs = append(c.errs, err)
	return v
}

func (c *collect) bool(v bool, err error) bool {
	c.errs = append(c.errs, err)
	return v
}

func (c *collect) err() error { return errors.Join(c.errs...) }

package promsli

import "time"

// WithStep returns a copy of c whose "minutes" are step long and whose
// range queries ask for at most maxSteps points, so that tests can run a
// real Prometheus for seconds instead of minutes and exercise the
// splitting of long ranges.
func (c *Client) WithStep(step time.Duration, maxSteps int) *Client {
	d := *c
	d.step, d.maxSteps = step, maxSteps
	return &d
}

package nightjar

import "time"

// Change is something done to a service, recorded so that a responder
// paged about it sees what changed just before it broke: a deploy, a
// configuration change, a feature flag flipped. Deploy scripts and CI
// send them (PagerDuty-style change events with an integration key, or
// the API with a key); an incident's notifications list the service's
// last ones. A change belongs to a service by name, as alerts do.
type Change struct {
	ID        string            `json:"id"`
	ProjectID string            `json:"project_id"`
	Service   string            `json:"service"`
	Summary   string            `json:"summary"`
	Source    string            `json:"source,omitempty"`
	At        time.Time         `json:"at"`
	Links     []Link            `json:"links,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
	CreatedAt time.Time         `json:"created_at,omitzero"`
}

// MaxChangeSummaryLength is the longest change summary, PagerDuty's limit.
const MaxChangeSummaryLength = 1024

// Validate returns every problem with the change at once, the first
// one's field reported as the field at fault.
func (c *Change) Validate() error {
	var p Problems
	p.Text("service", c.Service, MaxServiceLength, true)
	p.Text("summary", c.Summary, MaxChangeSummaryLength, true)
	p.Text("source", c.Source, MaxChangeSummaryLength, false)
	if c.At.IsZero() {
		p.Add("at", "is required: when the change was made, in RFC 3339")
	}
	return p.Err()
}

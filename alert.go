package nightjar

import "time"

// Severity says how urgently a human must react to an alert.
type Severity string

// Severities, from most to least urgent.
const (
	SeverityPage   Severity = "page"
	SeverityTicket Severity = "ticket"
	SeverityInfo   Severity = "info"
)

// AlertStatus is whether the condition behind an alert holds now.
type AlertStatus string

// Alert statuses.
const (
	AlertFiring   AlertStatus = "firing"
	AlertResolved AlertStatus = "resolved"
)

// Alert is the one shape every source of trouble produces (checks now,
// probes, SLOs and external systems later). Later stages only ever see
// alerts, so a new source only has to emit them.
//
// Labels and Links are what external systems (Alertmanager, PagerDuty
// clients) say about an alert beyond its summary: labels are what routes
// and silences match on, links take a responder to the runbook or the
// graph. Both are left out of the JSON when empty, so alerts from checks
// look as they always did.
type Alert struct {
	ProjectID string            `json:"project_id"`
	DedupKey  string            `json:"dedup_key"`
	Source    string            `json:"source"`
	SourceID  string            `json:"source_id"`
	Service   string            `json:"service"`
	Severity  Severity          `json:"severity"`
	Summary   string            `json:"summary"`
	Details   map[string]string `json:"details,omitempty"`
	Status    AlertStatus       `json:"status"`
	StartsAt  time.Time         `json:"starts_at"`
	EndsAt    time.Time         `json:"ends_at,omitzero"`
	Labels    map[string]string `json:"labels,omitempty"`
	Links     []Link            `json:"links,omitempty"`
	// AcknowledgedAt is when a sender last acknowledged the alert while it
	// fired (PagerDuty's acknowledge event); zero when nobody has. A new
	// firing after a resolve clears it. The stage records it and tells the
	// routes that want to know (alerting.Acknowledger), which is where an
	// incident acknowledges itself.
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
}

// Link is a web page about an alert: a runbook, the graph that fired it,
// the monitoring tool's own page. Image is set when the link is a picture
// to show inline (PagerDuty's images); Href is then where clicking it leads.
type Link struct {
	Href  string `json:"href"`
	Text  string `json:"text,omitempty"`
	Image string `json:"image,omitempty"`
}

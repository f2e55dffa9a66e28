package nightjar

import "time"

// IncidentRef is what a notification says about the incident it is about,
// beside the alert that caused it: which incident, how bad, since when,
// where the runbook is, and the signed links that acknowledge or resolve
// it with one click. It travels in the outbox message, so a retry says the
// same as the first attempt.
type IncidentRef struct {
	ID      string   `json:"id"`
	Number  int64    `json:"number"`
	Title   string   `json:"title"`
	Service string   `json:"service,omitempty"`
	Urgency Severity `json:"urgency"`
	// Status is the incident's status when the message was written.
	Status string    `json:"status"`
	Since  time.Time `json:"since"`
	// Step and Round say which escalation step sent a page, from 1.
	Step       int    `json:"step,omitempty"`
	Round      int    `json:"round,omitempty"`
	RunbookURL string `json:"runbook_url,omitempty"`
	// AckToken and ResolveToken are signed link tokens, made for the
	// message's recipient; a link is the console's URL, "/ack/" and the
	// token. Empty when the message offers no such action.
	AckToken     string `json:"ack_token,omitempty"`
	ResolveToken string `json:"resolve_token,omitempty"`
	// Changes are the service's last changes made in the day before the
	// incident opened, newest first: what a responder looks at first.
	Changes []ChangeRef `json:"changes,omitempty"`
}

// ChangeRef is what a notification says about a recent change.
type ChangeRef struct {
	At      time.Time `json:"at"`
	Summary string    `json:"summary"`
	Source  string    `json:"source,omitempty"`
	Links   []Link    `json:"links,omitempty"`
}

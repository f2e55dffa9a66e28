package incident

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// This file holds the objects people configure around incidents besides
// policies, routes, silences and maintenance: services, teams, and each
// person's contact methods and notification rules. Like the rest of the
// package they only say what is valid; the incidents area stores them.

// Limits on configuration objects.
const (
	MaxServiceLabels = 50
	MaxLabelLength   = 200
	MaxDescLength    = 1000
	MaxURLLength     = 2000
	MaxTeamMembers   = 200
	MaxContactValue  = 2000
	MaxNotifyDelay   = 24 * time.Hour
	maxServiceTier   = 20
)

// Service is a thing that can break, named as a check's (or a probe's, an
// SLO's, an external alert's) service field names it: the alerts of one
// service group into its incidents and page its owning team.
type Service struct {
	ID   string
	Name string
	// Team is the id of the owning team, whose default policy pages for
	// the service's incidents when no route picks another; "" for none.
	Team        string
	Tier        string
	Labels      map[string]string
	RunbookURL  string
	Description string
	Config      ServiceConfig
}

// Validate returns a field error naming the first problem of the service.
func (s *Service) Validate() error {
	if err := checkText("name", s.Name, nightjar.MaxServiceLength, true); err != nil {
		return err
	}
	if err := checkText("team", s.Team, maxIDLength, false); err != nil {
		return err
	}
	if err := checkText("tier", s.Tier, maxServiceTier, false); err != nil {
		return err
	}
	if len(s.Labels) > MaxServiceLabels {
		return nightjar.FieldError("labels", "must have at most %d labels", MaxServiceLabels)
	}
	for _, k := range sortedKeys(s.Labels) {
		if k == "" || len(k) > MaxLabelLength || !nightjar.ValidText(k) {
			return nightjar.FieldError("labels", "names must be 1-%d characters of valid text", MaxLabelLength)
		}
		if err := checkText("labels."+k, s.Labels[k], MaxLabelLength, false); err != nil {
			return err
		}
	}
	if err := checkURL("runbook_url", s.RunbookURL, false); err != nil {
		return err
	}
	if err := checkText("description", s.Description, MaxDescLength, false); err != nil {
		return err
	}
	return s.Config.Validate()
}

// Team is a group of people who own services, with the escalation policy
// that pages them by default.
type Team struct {
	ID   string
	Name string
	// Members are user ids.
	Members []string
	// Policy is the id of the team's default escalation policy, or "".
	Policy string
}

// Validate returns a field error naming the first problem of the team.
func (t *Team) Validate() error {
	if err := checkText("name", t.Name, MaxNameLength, true); err != nil {
		return err
	}
	if len(t.Members) > MaxTeamMembers {
		return nightjar.FieldError("members", "must have at most %d members", MaxTeamMembers)
	}
	for i, m := range t.Members {
		f := fmt.Sprintf("members[%d]", i)
		if err := checkText(f, m, maxIDLength, true); err != nil {
			return err
		}
		if slices.Index(t.Members, m) < i {
			return nightjar.FieldError(f, "lists %s twice", m)
		}
	}
	return checkText("policy", t.Policy, maxIDLength, false)
}

// ContactKind is how a contact method reaches its person.
type ContactKind string

// Contact method kinds. Email goes to an address; the others post to a
// URL: a webhook of the person's own, an ntfy topic, or a Slack incoming
// webhook that posts to the person's direct messages.
const (
	ContactEmail        ContactKind = "email"
	ContactWebhook      ContactKind = "webhook"
	ContactNtfy         ContactKind = "ntfy"
	ContactSlackWebhook ContactKind = "slack-webhook"
)

// ContactKinds lists every contact method kind.
var ContactKinds = []ContactKind{ContactEmail, ContactWebhook, ContactNtfy, ContactSlackWebhook}

// ContactMethod is one way to reach a person. Nightjar pages a method
// only once it is verified: its owner has entered the code sent to it.
type ContactMethod struct {
	ID     string
	UserID string
	Kind   ContactKind
	Name   string
	// Value is the email address or the URL.
	Value    string
	Verified bool
}

// Validate returns a field error naming the first problem of the method.
func (c *ContactMethod) Validate() error {
	if err := checkText("user_id", c.UserID, maxIDLength, true); err != nil {
		return err
	}
	if err := checkText("name", c.Name, MaxNameLength, false); err != nil {
		return err
	}
	if err := checkText("value", c.Value, MaxContactValue, true); err != nil {
		return err
	}
	switch c.Kind {
	case ContactEmail:
		a, err := mail.ParseAddress(c.Value)
		if err != nil || a.Address != c.Value {
			return nightjar.FieldError("value", "must be an email address such as ops@example.com")
		}
		return nil
	case ContactWebhook, ContactNtfy, ContactSlackWebhook:
		return checkURL("value", c.Value, true)
	}
	names := make([]string, len(ContactKinds))
	for i, k := range ContactKinds {
		names[i] = string(k)
	}
	return nightjar.FieldError("kind", "must be one of %s", strings.Join(names, ", "))
}

// NotificationRule says when a person hears of a page through one of
// their contact methods: Delay after the page reaches them. A person with
// no rules is paged through every verified method at once.
type NotificationRule struct {
	ID     string
	UserID string
	// Method is the contact method's id.
	Method string
	Delay  time.Duration
}

// Validate returns a field error naming the first problem of the rule.
func (r *NotificationRule) Validate() error {
	if err := checkText("user_id", r.UserID, maxIDLength, true); err != nil {
		return err
	}
	if err := checkText("method", r.Method, maxIDLength, true); err != nil {
		return err
	}
	if r.Delay < 0 || r.Delay > MaxNotifyDelay || r.Delay%time.Second != 0 {
		return nightjar.FieldError("delay", "must be whole seconds between 0 and %d", int(MaxNotifyDelay.Seconds()))
	}
	return nil
}

// checkURL returns a field error for a value that is not an http or https
// URL with a host (empty is fine unless required).
func checkURL(field, s string, required bool) error {
	if err := checkText(field, s, MaxURLLength, required); err != nil || s == "" {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nightjar.FieldError(field, "must be an http or https URL")
	}
	return nil
}

// sortedKeys returns a map's keys in order, so that errors are stable.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

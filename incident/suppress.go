package incident

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// Silence mutes the alerts its matchers select from StartsAt until
// EndsAt, as an Alertmanager silence does: someone knows about the trouble
// and says so, with a comment.
type Silence struct {
	ID        string
	Matchers  Matchers
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedBy string
	Comment   string
}

// Maintenance suppresses the alerts its matchers select (every alert of
// the project when it has none) while its window is active: planned work
// whose alerts nobody needs to hear about.
type Maintenance struct {
	ID       string
	Name     string
	Matchers Matchers
	Window   Window
}

// Limits on suppression text, in characters.
const (
	MaxCommentLength = 1000
	MaxNameLength    = 100
)

// Validate returns a field error for a silence Alertmanager would refuse:
// it needs a creator, a comment, an end after its start, and at least one
// matcher that does not match the empty string, so that a silence can
// never mute every alert by accident.
func (s *Silence) Validate() error {
	switch {
	case len(s.Matchers) == 0:
		return nightjar.FieldError("matchers", "must have at least one matcher")
	case !anyNeedsValue(s.Matchers):
		return nightjar.FieldError("matchers", "must have at least one matcher that does not match the empty string, so the silence cannot mute every alert")
	case s.StartsAt.IsZero() || s.EndsAt.IsZero():
		return nightjar.FieldError("ends_at", "a silence needs a start and an end")
	case !s.EndsAt.After(s.StartsAt):
		return nightjar.FieldError("ends_at", "must be after starts_at")
	}
	if err := checkText("created_by", s.CreatedBy, maxIDLength, true); err != nil {
		return err
	}
	return checkText("comment", s.Comment, MaxCommentLength, true)
}

// Validate returns a field error for a maintenance window that cannot be
// evaluated.
func (m *Maintenance) Validate() error {
	if err := checkText("name", m.Name, MaxNameLength, false); err != nil {
		return err
	}
	return m.Window.Validate("window")
}

// checkText returns a field error for text that is not valid, too long,
// or empty when required.
func checkText(field, s string, max int, required bool) error {
	switch {
	case !nightjar.ValidText(s):
		return nightjar.TextFieldError(field)
	case required && s == "":
		return nightjar.FieldError(field, "is required")
	case utf8.RuneCountInString(s) > max:
		return nightjar.FieldError(field, "must be at most %d characters", max)
	}
	return nil
}

func anyNeedsValue(ms Matchers) bool {
	for _, m := range ms {
		if !m.matchesEmpty() {
			return true
		}
	}
	return false
}

// Suppression says what keeps an alert from paging anyone.
type Suppression struct {
	// Kind is "silence" or "maintenance"; ID is the silence's or the
	// maintenance's.
	Kind string
	ID   string
	// Until is when the suppression ends at the earliest; the alert stage
	// looks again then, so an alert still firing is heard.
	Until  time.Time
	Reason string
}

// Suppression kinds.
const (
	SuppressedBySilence     = "silence"
	SuppressedByMaintenance = "maintenance"
)

// Suppressed decides whether a firing alert is suppressed at t, and by
// what: of every silence and maintenance window that holds, the one that
// lasts longest (a silence on a tie). It returns nil when nothing holds.
// Resolved alerts are never suppressed, so that an incident still hears
// that its alert is over.
func Suppressed(a *nightjar.Alert, t time.Time, silences []Silence, windows []Maintenance) *Suppression {
	if a.Status == nightjar.AlertResolved {
		return nil
	}
	var best *Suppression
	consider := func(s *Suppression) {
		if best == nil || s.Until.After(best.Until) {
			best = s
		}
	}
	for i := range silences {
		s := &silences[i]
		if t.Before(s.StartsAt) || !t.Before(s.EndsAt) || len(s.Matchers) == 0 || !s.Matchers.Matches(a) {
			continue
		}
		consider(&Suppression{Kind: SuppressedBySilence, ID: s.ID, Until: s.EndsAt,
			Reason: fmt.Sprintf("silenced by %s until %s: %s", who(s.CreatedBy), s.EndsAt.UTC().Format(time.RFC3339), s.Comment)})
	}
	for i := range windows {
		m := &windows[i]
		if !m.Matchers.Matches(a) {
			continue
		}
		if ok, until := m.Window.ActiveAt(t); ok {
			name := m.Name
			if name == "" {
				name = m.ID
			}
			consider(&Suppression{Kind: SuppressedByMaintenance, ID: m.ID, Until: until,
				Reason: fmt.Sprintf("in maintenance %q until %s", name, until.UTC().Format(time.RFC3339))})
		}
	}
	return best
}

package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/store"
)

// The actions people take on an incident, from the console, the API or a
// signed link. Each reads the incident locked, lets the incident package
// decide, and stores the outcome with its timeline entries (naming actor,
// the user who acted) and its messages in one transaction. The caller has
// made sure actor may act in the project.

// act runs one action on a locked incident and stores its outcome.
func (s *Store) act(ctx context.Context, projectID, id string, now time.Time,
	fn func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error)) (*incident.Incident, error) {
	var out *incident.Incident
	err := s.write(ctx, func(tx *store.Tx) error {
		inc, err := getIncident(ctx, tx, projectID, id, true)
		if err != nil {
			return err
		}
		o, err := fn(tx, inc)
		if err != nil {
			return err
		}
		o.Incident = inc
		if err := s.apply(ctx, tx, o, nil, now); err != nil {
			return err
		}
		out = inc
		return nil
	})
	return out, err
}

// Acknowledge records that actor is working on the incident, which stops
// its escalation and the pages still held back by notification rules.
// Only a triggered incident can be acknowledged (ECONFLICT otherwise).
func (s *Store) Acknowledge(ctx context.Context, projectID, id, actor string, now time.Time) (*incident.Incident, error) {
	return s.stop(ctx, projectID, id, actor, now, incident.Acknowledge)
}

// Resolve records that the incident is over (ECONFLICT when it already
// is), and tells everyone who was paged.
func (s *Store) Resolve(ctx context.Context, projectID, id, actor string, now time.Time) (*incident.Incident, error) {
	return s.stop(ctx, projectID, id, actor, now, incident.Resolve)
}

// stop runs an action that ends the incident's paging.
func (s *Store) stop(ctx context.Context, projectID, id, actor string, now time.Time,
	decide func(*incident.Incident, string, time.Time) (incident.Outcome, error)) (*incident.Incident, error) {
	return s.act(ctx, projectID, id, now, func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error) {
		o, err := decide(inc, actor, now)
		if err != nil {
			return o, err
		}
		return o, cancelPages(ctx, tx, inc, now)
	})
}

// Escalate pages the next step of the incident's policy now (see
// incident.Escalate); ECONFLICT when the incident has no policy.
func (s *Store) Escalate(ctx context.Context, projectID, id, actor string, now time.Time) (*incident.Incident, error) {
	return s.act(ctx, projectID, id, now, func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error) {
		p, err := policyOf(ctx, tx, inc)
		if err != nil {
			return incident.Outcome{}, err
		}
		if p == nil {
			return incident.Outcome{}, nightjar.Errorf(nightjar.ECONFLICT, "incident #%d has no escalation policy to escalate along", inc.Number)
		}
		o, err := incident.Escalate(inc, p, actor, now)
		if err != nil {
			return o, err
		}
		// The page is sent now, not at the escalation module's next look.
		o.Incident = inc
		if err := s.apply(ctx, tx, o, nil, now); err != nil {
			return o, err
		}
		return incident.Outcome{}, s.tick(ctx, tx, inc, nil, now)
	})
}

// Reassign makes user the incident's assignee ("" unassigns). The user
// must be a member of the project.
func (s *Store) Reassign(ctx context.Context, projectID, id, user, actor string, now time.Time) (*incident.Incident, error) {
	return s.act(ctx, projectID, id, now, func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error) {
		if user != "" {
			if err := member(ctx, tx, "assignee", projectID, user); err != nil {
				return incident.Outcome{}, err
			}
		}
		return incident.Assign(inc, user, actor, now), nil
	})
}

// SetCommander makes user the incident's commander ("" for none). The
// user must be a member of the project.
func (s *Store) SetCommander(ctx context.Context, projectID, id, user, actor string, now time.Time) (*incident.Incident, error) {
	return s.act(ctx, projectID, id, now, func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error) {
		if user != "" {
			if err := member(ctx, tx, "commander", projectID, user); err != nil {
				return incident.Outcome{}, err
			}
		}
		return incident.SetCommander(inc, user, actor, now), nil
	})
}

// checkBody refuses an empty or overlong text.
func checkBody(field, text string, max int) error {
	switch {
	case !nightjar.ValidText(text):
		return nightjar.TextFieldError(field)
	case strings.TrimSpace(text) == "":
		return nightjar.FieldError(field, "is required")
	case utf8.RuneCountInString(text) > max:
		return nightjar.FieldError(field, "must be at most %d characters", max)
	}
	return nil
}

// AddNote adds actor's note to the incident's timeline.
func (s *Store) AddNote(ctx context.Context, projectID, id, actor, text string, now time.Time) error {
	if err := checkBody("text", text, MaxNoteLength); err != nil {
		return err
	}
	_, err := s.act(ctx, projectID, id, now, func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error) {
		return incident.Outcome{Entries: []incident.Entry{{At: now, Kind: EntryNote, Actor: actor, Text: text}}}, nil
	})
	return err
}

// MaxPostmortemLength is the longest postmortem, in characters.
const MaxPostmortemLength = 200000

// Postmortem is an incident's postmortem: the stored text once someone
// has saved one, else a draft made from the timeline now.
type Postmortem struct {
	Text string
	// Saved tells a stored text from a fresh draft; UpdatedAt and
	// UpdatedBy say when and by whom it was last saved.
	Saved     bool
	UpdatedAt time.Time
	UpdatedBy string
}

// Postmortem returns the incident's postmortem, drafting it (times shown
// in loc) when nobody has saved one yet.
func (s *Store) Postmortem(ctx context.Context, projectID, id string, loc *time.Location, now time.Time) (*Postmortem, error) {
	inc, err := getIncident(ctx, s.read(), projectID, id, false)
	if err != nil {
		return nil, err
	}
	var pm Postmortem
	var at int64
	if err := s.read().QueryRow(ctx, `SELECT postmortem, postmortem_updated_at, postmortem_updated_by FROM incidents WHERE id = $1`, id).
		Scan(&pm.Text, &at, &pm.UpdatedBy); err != nil {
		return nil, fmt.Errorf("read postmortem: %w", err)
	}
	if at != 0 {
		pm.Saved, pm.UpdatedAt = true, store.Time(at)
		return &pm, nil
	}
	tl, err := timeline(ctx, s.read(), id)
	if err != nil {
		return nil, err
	}
	changes, err := s.RecentChanges(ctx, projectID, inc.Service, inc.CreatedAt)
	if err != nil {
		return nil, err
	}
	pm.Text = incident.Postmortem(inc, entries(tl), changes, loc, now)
	return &pm, nil
}

// SavePostmortem stores the incident's postmortem as actor edited it.
func (s *Store) SavePostmortem(ctx context.Context, projectID, id, actor, text string, now time.Time) error {
	if err := checkBody("text", text, MaxPostmortemLength); err != nil {
		return err
	}
	_, err := s.act(ctx, projectID, id, now, func(tx *store.Tx, inc *incident.Incident) (incident.Outcome, error) {
		if _, err := tx.Exec(ctx, `UPDATE incidents SET postmortem = $2, postmortem_updated_at = $3, postmortem_updated_by = $4 WHERE id = $1`,
			id, text, store.Millis(now), actor); err != nil {
			return incident.Outcome{}, fmt.Errorf("save postmortem: %w", err)
		}
		return incident.Outcome{Entries: []incident.Entry{{At: now, Kind: EntryPostmortem, Actor: actor, Text: "Postmortem edited by " + who(actor)}}}, nil
	})
	return err
}

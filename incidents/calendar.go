package incidents

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Calendar feeds: a schedule's shifts, or one member's shifts across the
// project's schedules, at a secret URL that calendar programs poll
// without an API key. The token names its feed and carries a random
// secret of which only the hash is kept; making a new one stops the old.
//
// The hashes are kept in server_secrets, one row per feed, so that feeds
// need no table of their own.

// Calendar feed kinds.
const (
	CalendarSchedule = "schedule"
	CalendarUser     = "user"
)

// CalendarFeed is what a feed's token names.
type CalendarFeed struct {
	// Kind is CalendarSchedule or CalendarUser; ID the schedule's or the
	// user's id.
	Kind, ProjectID, ID string
}

func (f CalendarFeed) secretName() string {
	return "calendar:" + f.Kind + ":" + f.ProjectID + ":" + f.ID
}

// NewCalendarToken makes the feed a new token, which stops the old one
// working, and returns it. The schedule must be the project's, or the
// user a member of it.
func (s *Store) NewCalendarToken(ctx context.Context, f CalendarFeed, now time.Time) (string, error) {
	secret := store.NewSecret(20)
	err := s.write(ctx, func(tx *store.Tx) error {
		switch f.Kind {
		case CalendarSchedule:
			if _, err := schedules.get(ctx, tx, f.ProjectID, f.ID); err != nil {
				return err
			}
		case CalendarUser:
			if err := member(ctx, tx, "user", f.ProjectID, f.ID); err != nil {
				return nightjar.Errorf(nightjar.ENOTFOUND, "the project has no member %s", f.ID)
			}
		default:
			return fmt.Errorf("calendar feed of kind %q", f.Kind)
		}
		_, err := tx.Exec(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at`,
			f.secretName(), store.HashSecret(secret), store.Millis(now))
		if err != nil {
			return fmt.Errorf("store calendar token: %w", err)
		}
		return nil
	})
	return f.Kind + "." + f.ProjectID + "." + f.ID + "." + secret, err
}

// CalendarFeedOf returns the feed a token names; ENOTFOUND for a token
// that is not a feed's current one.
func (s *Store) CalendarFeedOf(ctx context.Context, token string) (CalendarFeed, error) {
	notFound := nightjar.Errorf(nightjar.ENOTFOUND, "no calendar feed has this address; make a new one")
	parts := strings.Split(token, ".")
	if len(parts) != 4 || (parts[0] != CalendarSchedule && parts[0] != CalendarUser) || !nightjar.ValidText(token) {
		return CalendarFeed{}, notFound
	}
	f := CalendarFeed{Kind: parts[0], ProjectID: parts[1], ID: parts[2]}
	var hash string
	err := s.read().QueryRow(ctx, `SELECT value FROM server_secrets WHERE name = $1`, f.secretName()).Scan(&hash)
	if err := store.ScanError(err, "calendar feed"); err != nil {
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			return CalendarFeed{}, notFound
		}
		return CalendarFeed{}, err
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(store.HashSecret(parts[3]))) != 1 {
		return CalendarFeed{}, notFound
	}
	return f, nil
}

// MemberEmails returns the email address of each member of the project,
// by user id: how calendars and answers name people.
func (s *Store) MemberEmails(ctx context.Context, projectID string) (map[string]string, error) {
	type pair struct{ id, email string }
	rows, err := store.QueryAll(ctx, s.read(), "list member emails", `SELECT u.id, u.email FROM users u JOIN project_members m ON m.user_id = u.id WHERE m.project_id = $1`,
		func(row store.Row) (pair, error) {
			var p pair
			return p, row.Scan(&p.id, &p.email)
		}, projectID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, p := range rows {
		out[p.id] = p.email
	}
	return out, nil
}

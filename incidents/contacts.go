package incidents

import (
	"context"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

// Contact methods and notification rules belong to a person, not to a
// project: one phone wakes its owner for every project they are on call
// in. The caller (the API, the console) makes sure a person only changes
// their own.

// VerificationTTL is how long a contact method's verification code works.
const VerificationTTL = 15 * time.Minute

const methodColumns = `id, user_id, kind, name, value, verified`

func scanMethod(row store.Row) (*incident.ContactMethod, error) {
	var m incident.ContactMethod
	var kind string
	if err := row.Scan(&m.ID, &m.UserID, &kind, &m.Name, &m.Value, &m.Verified); err != nil {
		return nil, err
	}
	m.Kind = incident.ContactKind(kind)
	return &m, nil
}

// CreateContactMethod stores a new, unverified contact method.
func (s *Store) CreateContactMethod(ctx context.Context, m *incident.ContactMethod, now time.Time) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := checkText("id", m.ID); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = store.NewID()
	}
	m.Verified = false
	return s.write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO contact_methods (`+methodColumns+`, code_hash, code_expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, '', 0, $7)`,
			m.ID, m.UserID, string(m.Kind), m.Name, m.Value, false, store.Millis(now))
		if store.IsUniqueViolation(err) {
			return nightjar.Errorf(nightjar.ECONFLICT, "contact method %s exists", m.ID)
		} else if err != nil {
			return fmt.Errorf("insert contact method: %w", err)
		}
		return nil
	})
}

// UpdateContactMethod changes a person's contact method. A new value
// needs verifying again; a new name does not.
func (s *Store) UpdateContactMethod(ctx context.Context, m *incident.ContactMethod) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return s.write(ctx, func(tx *store.Tx) error {
		old, err := s.InTx(tx).ContactMethod(ctx, m.UserID, m.ID)
		if err != nil {
			return err
		}
		m.Verified = old.Verified && old.Kind == m.Kind && old.Value == m.Value
		_, err = tx.Exec(ctx, `UPDATE contact_methods SET kind = $3, name = $4, value = $5, verified = $6 WHERE id = $1 AND user_id = $2`,
			m.ID, m.UserID, string(m.Kind), m.Name, m.Value, m.Verified)
		if err != nil {
			return fmt.Errorf("update contact method: %w", err)
		}
		return nil
	})
}

// DeleteContactMethod removes a person's contact method and its rules, in
// one transaction. Nothing is sent to a method once it is gone: a message
// to it still queued is cancelled when its time comes, and its result (and
// the incident's timeline) says why.
func (s *Store) DeleteContactMethod(ctx context.Context, userID, id string) error {
	return s.write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM contact_methods WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return fmt.Errorf("delete contact method: %w", err)
		}
		return store.MustAffect(res, "contact method")
	})
}

// ContactMethod returns one of a person's contact methods.
func (s *Store) ContactMethod(ctx context.Context, userID, id string) (*incident.ContactMethod, error) {
	m, err := scanMethod(s.read().QueryRow(ctx, `SELECT `+methodColumns+` FROM contact_methods WHERE id = $1 AND user_id = $2`, id, userID))
	if err := store.ScanError(err, "contact method"); err != nil {
		return nil, err
	}
	return m, nil
}

// ContactMethods lists a person's contact methods, oldest first.
func (s *Store) ContactMethods(ctx context.Context, userID string) ([]*incident.ContactMethod, error) {
	return store.QueryAll(ctx, s.read(), "list contact methods", `SELECT `+methodColumns+` FROM contact_methods WHERE user_id = $1 ORDER BY created_at, id`, scanMethod, userID)
}

// VerificationPrefix starts the summary of a verification message; the
// code follows it.
const VerificationPrefix = "Nightjar verification code: "

// SendVerificationCode gives a person's contact method a new verification
// code, valid for VerificationTTL, and queues it to the method through
// the outbox of projectID, a project the person is a member of. Only the
// code's hash is kept with the method; an earlier code stops working. A
// method gets at most one code a minute (ERATELIMIT).
func (s *Store) SendVerificationCode(ctx context.Context, projectID, userID, id string, now time.Time) error {
	code := store.NewSecret(5)
	return s.write(ctx, func(tx *store.Tx) error {
		if err := member(ctx, tx, "project_id", projectID, userID); err != nil {
			return err
		}
		var expires int64
		err := tx.QueryRow(ctx, `SELECT code_expires_at FROM contact_methods WHERE id = $1 AND user_id = $2`+tx.Dialect().ForUpdate(), id, userID).Scan(&expires)
		if err := store.ScanError(err, "contact method"); err != nil {
			return err
		}
		if expires != 0 && now.Before(store.Time(expires).Add(-VerificationTTL+time.Minute)) {
			return nightjar.Errorf(nightjar.ERATELIMIT, "a code was sent less than a minute ago; wait for it, or try again in a minute")
		}
		if _, err := tx.Exec(ctx, `UPDATE contact_methods SET code_hash = $3, code_expires_at = $4 WHERE id = $1 AND user_id = $2`,
			id, userID, store.HashSecret(code), store.Millis(now.Add(VerificationTTL))); err != nil {
			return fmt.Errorf("set verification code: %w", err)
		}
		a := nightjar.Alert{ProjectID: projectID, DedupKey: "verify:" + id, Source: "contact", Severity: nightjar.SeverityInfo,
			Summary: VerificationPrefix + code, Status: nightjar.AlertFiring, StartsAt: now,
			Details: map[string]string{"expires": now.Add(VerificationTTL).UTC().Format(time.RFC3339)}}
		_, err = outbox.Enqueue(ctx, tx, now, outbox.Message{ProjectID: projectID, To: outbox.Destination{Kind: outbox.ToContact, ID: id},
			Event: notify.EventContactVerify, Alert: a})
		return err
	})
}

// Verify marks a person's contact method verified when code is its
// current, unexpired verification code, which then stops working. A wrong
// or expired code is EINVALID naming the field "code".
func (s *Store) Verify(ctx context.Context, userID, id, code string, now time.Time) error {
	return s.write(ctx, func(tx *store.Tx) error {
		var hash string
		var expires int64
		err := tx.QueryRow(ctx, `SELECT code_hash, code_expires_at FROM contact_methods WHERE id = $1 AND user_id = $2`+tx.Dialect().ForUpdate(), id, userID).Scan(&hash, &expires)
		if err := store.ScanError(err, "contact method"); err != nil {
			return err
		}
		if hash == "" || !now.Before(store.Time(expires)) {
			return nightjar.FieldError("code", "has expired; ask for a new code")
		}
		if subtle.ConstantTimeCompare([]byte(hash), []byte(store.HashSecret(code))) != 1 {
			return nightjar.FieldError("code", "is not the code that was sent")
		}
		_, err = tx.Exec(ctx, `UPDATE contact_methods SET verified = $3, code_hash = '', code_expires_at = 0 WHERE id = $1 AND user_id = $2`, id, userID, true)
		if err != nil {
			return fmt.Errorf("verify contact method: %w", err)
		}
		return nil
	})
}

func scanRule(row store.Row) (*incident.NotificationRule, error) {
	var r incident.NotificationRule
	var delay int64
	if err := row.Scan(&r.ID, &r.UserID, &r.Method, &delay); err != nil {
		return nil, err
	}
	r.Delay = store.Duration(delay)
	return &r, nil
}

// CreateNotificationRule stores a new rule for one of the person's own
// contact methods.
func (s *Store) CreateNotificationRule(ctx context.Context, r *incident.NotificationRule, now time.Time) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := checkText("id", r.ID); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = store.NewID()
	}
	return s.write(ctx, func(tx *store.Tx) error {
		if err := exists(ctx, tx, "method", "contact method", `SELECT 1 FROM contact_methods WHERE id = $1 AND user_id = $2`, r.Method, r.UserID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO notification_rules (id, user_id, method_id, delay, created_at) VALUES ($1, $2, $3, $4, $5)`,
			r.ID, r.UserID, r.Method, store.DurationMillis(r.Delay), store.Millis(now))
		if store.IsUniqueViolation(err) {
			return nightjar.Errorf(nightjar.ECONFLICT, "notification rule %s exists", r.ID)
		} else if err != nil {
			return fmt.Errorf("insert notification rule: %w", err)
		}
		return nil
	})
}

// DeleteNotificationRule removes one of a person's notification rules.
func (s *Store) DeleteNotificationRule(ctx context.Context, userID, id string) error {
	return s.write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM notification_rules WHERE id = $1 AND user_id = $2`, id, userID)
		if err != nil {
			return fmt.Errorf("delete notification rule: %w", err)
		}
		return store.MustAffect(res, "notification rule")
	})
}

// NotificationRules lists a person's notification rules by delay.
func (s *Store) NotificationRules(ctx context.Context, userID string) ([]*incident.NotificationRule, error) {
	return store.QueryAll(ctx, s.read(), "list notification rules", `SELECT id, user_id, method_id, delay FROM notification_rules WHERE user_id = $1 ORDER BY delay, created_at, id`, scanRule, userID)
}

// ContactMethodByID returns a contact method whoever it belongs to, for
// the delivery of messages addressed to it.
func (s *Store) ContactMethodByID(ctx context.Context, id string) (*incident.ContactMethod, error) {
	m, err := scanMethod(s.read().QueryRow(ctx, `SELECT `+methodColumns+` FROM contact_methods WHERE id = $1`, id))
	if err := store.ScanError(err, "contact method"); err != nil {
		return nil, err
	}
	return m, nil
}

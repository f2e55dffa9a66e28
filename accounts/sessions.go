package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Session is a logged-in browser.
type Session struct {
	// ID is the hash of the cookie token; the token itself is not kept.
	ID        string
	UserID    string
	CSRFToken string
	// ProjectID is the project the browser looks at.
	ProjectID string
	CreatedAt time.Time
	ExpiresAt time.Time
	LastSeen  time.Time
}

// sessionWrites is how often a session in use is written: sliding its
// expiry on every page would turn every read into a write.
const sessionWrites = time.Minute

// CreateSession starts a session and returns the cookie token, which is
// shown only this once; the database keeps its hash.
func (s *Store) CreateSession(ctx context.Context, userID, projectID string, now time.Time, ttl time.Duration) (string, *Session, error) {
	token := store.NewSecret(32)
	sess := &Session{ID: store.HashSecret(token), UserID: userID, CSRFToken: store.NewSecret(20), ProjectID: projectID,
		CreatedAt: now, ExpiresAt: now.Add(ttl), LastSeen: now}
	_, err := s.db.Exec(ctx, `INSERT INTO sessions (id, user_id, csrf_token, project_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sess.ID, sess.UserID, sess.CSRFToken, sess.ProjectID, store.Millis(now), store.Millis(sess.ExpiresAt), store.Millis(now))
	if err != nil {
		return "", nil, fmt.Errorf("insert session: %w", err)
	}
	return token, sess, nil
}

// SessionByToken returns the live session of a cookie token.
func (s *Store) SessionByToken(ctx context.Context, token string, now time.Time) (*Session, error) {
	var sess Session
	var created, expires, seen int64
	err := s.db.QueryRow(ctx, `SELECT id, user_id, csrf_token, project_id, created_at, expires_at, last_seen_at FROM sessions WHERE id = $1`,
		store.HashSecret(token)).Scan(&sess.ID, &sess.UserID, &sess.CSRFToken, &sess.ProjectID, &created, &expires, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "not logged in")
	} else if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt, sess.LastSeen = store.Time(created), store.Time(expires), store.Time(seen)
	if !now.Before(sess.ExpiresAt) {
		return nil, nightjar.Errorf(nightjar.EUNAUTHORIZED, "session expired")
	}
	return &sess, nil
}

// ExtendSession slides a session's expiry; it writes at most once a
// minute per session.
func (s *Store) ExtendSession(ctx context.Context, sess *Session, now time.Time, ttl time.Duration) error {
	if now.Sub(sess.LastSeen) < sessionWrites {
		return nil
	}
	if _, err := s.db.Exec(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1`, sess.ID, store.Millis(now), store.Millis(now.Add(ttl))); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// SetSessionProject switches the project a session looks at.
func (s *Store) SetSessionProject(ctx context.Context, sess *Session, projectID string) error {
	if _, err := s.db.Exec(ctx, `UPDATE sessions SET project_id = $2 WHERE id = $1`, sess.ID, projectID); err != nil {
		return fmt.Errorf("switch session project: %w", err)
	}
	return nil
}

// DeleteSession logs a session out.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, store.HashSecret(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

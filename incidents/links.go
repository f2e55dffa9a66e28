package incidents

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Signed links let a responder acknowledge or resolve an incident with one
// click from a notification, without signing in: a token names one
// incident, one action and the person it was sent to, expires, works once,
// and is signed with a key Nightjar makes at its first start and keeps in
// the database, so that every replica accepts every other's links.

// Link actions.
const (
	ActionAcknowledge = "ack"
	ActionResolve     = "resolve"
)

// DefaultLinkTTL is how long a link in a notification works.
const DefaultLinkTTL = 7 * 24 * time.Hour

// linkKeyName is the signing key's name among the server's secrets.
const linkKeyName = "incident_link_key"

// Link is what a valid token says.
type Link struct {
	ProjectID  string
	IncidentID string
	Action     string
	// User is who the link was sent to, "" for a channel's link.
	User    string
	Expires time.Time
}

// keys caches the signing key once read; it never changes.
type keys struct {
	mu  sync.Mutex
	key []byte
}

// linkKey returns the signing key, making it the first time.
func (s *Store) linkKey(ctx context.Context, q store.Conn) ([]byte, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.key != nil {
		return s.keys.key, nil
	}
	if _, err := q.Exec(ctx, `INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING`,
		linkKeyName, store.NewKey()+store.NewKey()); err != nil {
		return nil, fmt.Errorf("make link key: %w", err)
	}
	var v string
	if err := q.QueryRow(ctx, `SELECT value FROM server_secrets WHERE name = $1`, linkKeyName).Scan(&v); err != nil {
		return nil, fmt.Errorf("read link key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("decode link key: %w", err)
	}
	s.keys.key = key
	return key, nil
}

// sign makes a token for the link.
func sign(key []byte, l Link) string {
	body := strings.Join([]string{l.ProjectID, l.IncidentID, l.Action, l.User, strconv.FormatInt(l.Expires.Unix(), 10)}, "\n")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(body))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(body)) + "." + enc.EncodeToString(mac.Sum(nil))
}

// parseToken checks a token's signature and reads it; expiry is the
// caller's to judge.
func parseToken(key []byte, token string) (Link, error) {
	bad := nightjar.Errorf(nightjar.ENOTFOUND, "this link is not valid")
	enc := base64.RawURLEncoding
	b64body, b64mac, ok := strings.Cut(token, ".")
	if !ok || len(token) > 1000 {
		return Link{}, bad
	}
	body, err1 := enc.DecodeString(b64body)
	got, err2 := enc.DecodeString(b64mac)
	if err1 != nil || err2 != nil {
		return Link{}, bad
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return Link{}, bad
	}
	parts := strings.Split(string(body), "\n")
	if len(parts) != 5 {
		return Link{}, bad
	}
	exp, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil {
		return Link{}, bad
	}
	return Link{ProjectID: parts[0], IncidentID: parts[1], Action: parts[2], User: parts[3], Expires: time.Unix(exp, 0).UTC()}, nil
}

// LinkState is what a link can still do.
type LinkState string

// Link states.
const (
	LinkUsable  LinkState = "usable"
	LinkUsed    LinkState = "used"
	LinkExpired LinkState = "expired"
)

// CheckLink reads a token without using it: the page a link opens shows
// the incident and a button, and says whether the link still works. A
// token that is not one of Nightjar's is ENOTFOUND.
func (s *Store) CheckLink(ctx context.Context, token string, now time.Time) (Link, LinkState, error) {
	key, err := s.linkKey(ctx, s.conn())
	if err != nil {
		return Link{}, "", err
	}
	l, err := parseToken(key, token)
	if err != nil {
		return Link{}, "", err
	}
	var one int
	err = s.read().QueryRow(ctx, `SELECT 1 FROM incident_links_used WHERE token_hash = $1`, store.HashSecret(token)).Scan(&one)
	switch {
	case err == nil:
		return l, LinkUsed, nil
	case nightjar.ErrorCode(store.ScanError(err, "link")) != nightjar.ENOTFOUND:
		return Link{}, "", fmt.Errorf("read link use: %w", err)
	case !now.Before(l.Expires):
		return l, LinkExpired, nil
	}
	return l, LinkUsable, nil
}

// UseLink does what a token says, once: it acknowledges or resolves the
// incident as the person the link was sent to. A used link is ECONFLICT,
// an expired one EFORBIDDEN; an incident already past the action (someone
// else acknowledged it) is the action's own ECONFLICT, and the link stays
// usable for nothing else.
func (s *Store) UseLink(ctx context.Context, token string, now time.Time) (Link, error) {
	l, state, err := s.CheckLink(ctx, token, now)
	if err != nil {
		return l, err
	}
	switch state {
	case LinkUsed:
		return l, nightjar.Errorf(nightjar.ECONFLICT, "this link has been used already")
	case LinkExpired:
		return l, nightjar.Errorf(nightjar.EFORBIDDEN, "this link has expired")
	}
	actor := l.User
	if actor == "" {
		actor = "link"
	}
	err = s.write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO incident_links_used (token_hash, used_at) VALUES ($1, $2)`, store.HashSecret(token), store.Millis(now))
		if store.IsUniqueViolation(err) {
			return nightjar.Errorf(nightjar.ECONFLICT, "this link has been used already")
		} else if err != nil {
			return fmt.Errorf("record link use: %w", err)
		}
		if l.User != "" {
			if err := member(ctx, tx, "user", l.ProjectID, l.User); err != nil {
				return nightjar.Errorf(nightjar.EFORBIDDEN, "this link was sent to someone who is no longer a member of the project")
			}
		}
		in := s.InTx(tx)
		switch l.Action {
		case ActionAcknowledge:
			_, err = in.Acknowledge(ctx, l.ProjectID, l.IncidentID, actor, now)
		case ActionResolve:
			_, err = in.Resolve(ctx, l.ProjectID, l.IncidentID, actor, now)
		default:
			err = nightjar.Errorf(nightjar.ENOTFOUND, "this link is not valid")
		}
		return err
	})
	return l, err
}

// pruneLinks forgets used links that have expired anyway.
func pruneLinks(ctx context.Context, q store.Conn, now time.Time) (int64, error) {
	res, err := q.Exec(ctx, `DELETE FROM incident_links_used WHERE used_at < $1`, store.Millis(now.Add(-DefaultLinkTTL-time.Hour)))
	if err != nil {
		return 0, fmt.Errorf("prune used links: %w", err)
	}
	return res.RowsAffected()
}

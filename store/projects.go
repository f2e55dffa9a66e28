package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nightjar-dev/nightjar"
)

// NewID returns a new random identifier (a lowercase UUID, as Healthchecks
// uses for checks).
func NewID() string { return uuid.NewString() }

// NewKey returns 32 random hex digits: an unguessable public name, such as
// a check's badge key.
func NewKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// randomToken returns n random bytes encoded as lowercase base32 without
// padding: URL-safe and easy to copy.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// NewSecret returns a random secret of n bytes as lowercase base32 text,
// for generated passwords and tokens.
func NewSecret(n int) string { return randomToken(n) }

// HashAPIKey returns the stored form of an API key. Keys are long random
// strings, so a fast hash is enough; a slow KDF is for passwords.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateProject stores a new project, giving it an id and a ping key.
func (db *DB) CreateProject(ctx context.Context, p *nightjar.Project, now time.Time) error {
	return createProject(ctx, db.w, p, now)
}

// CreateProject stores a new project inside the transaction.
func (tx *Tx) CreateProject(ctx context.Context, p *nightjar.Project, now time.Time) error {
	return createProject(ctx, tx, p, now)
}

func createProject(ctx context.Context, q conn, p *nightjar.Project, now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = NewID()
	}
	if p.PingKey == "" {
		p.PingKey = randomToken(15)
	}
	p.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.ExecContext(ctx, `INSERT INTO projects (id, name, ping_key, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Name, p.PingKey, ms(p.CreatedAt))
	if IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "a project with this id or ping key exists")
	} else if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	return nil
}

// Project returns a project by id.
func (db *DB) Project(ctx context.Context, id string) (*nightjar.Project, error) {
	return scanProject(db.r.QueryRowContext(ctx, `SELECT id, name, ping_key, created_at FROM projects WHERE id = $1`, id))
}

// ProjectByName returns a project by its name.
func (db *DB) ProjectByName(ctx context.Context, name string) (*nightjar.Project, error) {
	return projectByName(ctx, db.r, name)
}

// ProjectByName returns a project by its name, as the transaction sees it.
func (tx *Tx) ProjectByName(ctx context.Context, name string) (*nightjar.Project, error) {
	return projectByName(ctx, tx, name)
}

func projectByName(ctx context.Context, q conn, name string) (*nightjar.Project, error) {
	return scanProject(q.QueryRowContext(ctx, `SELECT id, name, ping_key, created_at FROM projects WHERE name = $1 ORDER BY created_at LIMIT 1`, name))
}

// Projects lists all projects, oldest first.
func (db *DB) Projects(ctx context.Context) ([]*nightjar.Project, error) {
	return queryAll(ctx, db.r, "list projects", `SELECT id, name, ping_key, created_at FROM projects ORDER BY created_at, id`, scanProject)
}

// UpdateProject changes a project's name.
func (db *DB) UpdateProject(ctx context.Context, p *nightjar.Project) error {
	if err := p.Validate(); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE projects SET name = $1 WHERE id = $2`, p.Name, p.ID)
	if err != nil {
		return fmt.Errorf("update project: %w", err)
	}
	return mustAffect(res, "project")
}

type rowScanner interface{ Scan(dest ...any) error }

func scanProject(row rowScanner) (*nightjar.Project, error) {
	var p nightjar.Project
	var created int64
	if err := row.Scan(&p.ID, &p.Name, &p.PingKey, &created); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "project not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan project: %w", err)
	}
	p.CreatedAt = tm(created)
	return &p, nil
}

func mustAffect(res sql.Result, what string) error { return MustAffect(res, what) }

// CreateAPIKey stores a key. If secret is empty a new random one is made.
// The secret is returned once and only its hash is kept.
func (db *DB) CreateAPIKey(ctx context.Context, k *nightjar.APIKey, secret string, now time.Time) (string, error) {
	return createAPIKey(ctx, db.w, k, secret, now)
}

func createAPIKey(ctx context.Context, q conn, k *nightjar.APIKey, secret string, now time.Time) (string, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	if secret == "" {
		secret = "nj_" + randomToken(20)
	}
	if len(secret) < 16 {
		return "", nightjar.FieldError("key", "must be at least 16 characters")
	}
	if k.ID == "" {
		k.ID = NewID()
	}
	k.Hash = HashAPIKey(secret)
	k.Prefix = secret[:min(len(secret), 7)]
	k.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.ExecContext(ctx, `INSERT INTO api_keys (id, project_id, name, scope, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.ProjectID, k.Name, string(k.Scope), k.Prefix, k.Hash, ms(k.CreatedAt))
	if IsUniqueViolation(err) {
		return "", nightjar.Errorf(nightjar.ECONFLICT, "this API key exists already")
	} else if err != nil {
		return "", fmt.Errorf("insert api key: %w", err)
	}
	return secret, nil
}

// APIKeyBySecret finds the live key whose hash matches secret.
func (db *DB) APIKeyBySecret(ctx context.Context, secret string) (*nightjar.APIKey, error) {
	return apiKeyBySecret(ctx, db.r, secret)
}

// APIKeyBySecret finds the live key whose hash matches secret, as the
// transaction sees it.
func (tx *Tx) APIKeyBySecret(ctx context.Context, secret string) (*nightjar.APIKey, error) {
	return apiKeyBySecret(ctx, tx, secret)
}

func apiKeyBySecret(ctx context.Context, q conn, secret string) (*nightjar.APIKey, error) {
	var k nightjar.APIKey
	var scope string
	var created, used int64
	err := q.QueryRowContext(ctx, `SELECT id, project_id, name, scope, prefix, hash, created_at, last_used_at FROM api_keys WHERE hash = $1 AND revoked_at = 0`,
		HashAPIKey(secret)).Scan(&k.ID, &k.ProjectID, &k.Name, &scope, &k.Prefix, &k.Hash, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "api key not found")
	} else if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	k.Scope, k.CreatedAt, k.LastUsedAt = nightjar.Scope(scope), tm(created), tm(used)
	return &k, nil
}

// APIKeys lists a project's live keys.
func (db *DB) APIKeys(ctx context.Context, projectID string) ([]*nightjar.APIKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, project_id, name, scope, prefix, created_at, last_used_at FROM api_keys WHERE project_id = $1 AND revoked_at = 0 ORDER BY created_at, id`, projectID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []*nightjar.APIKey
	for rows.Next() {
		var k nightjar.APIKey
		var scope string
		var created, used int64
		if err := rows.Scan(&k.ID, &k.ProjectID, &k.Name, &scope, &k.Prefix, &created, &used); err != nil {
			return nil, fmt.Errorf("scan api key: %w", err)
		}
		k.Scope, k.CreatedAt, k.LastUsedAt = nightjar.Scope(scope), tm(created), tm(used)
		out = append(out, &k)
	}
	return out, rows.Err()
}

// TouchAPIKey records that a key was used. It writes at most once a minute
// per key so busy API clients do not turn reads into writes.
func (db *DB) TouchAPIKey(ctx context.Context, k *nightjar.APIKey, now time.Time) error {
	if now.Sub(k.LastUsedAt) < time.Minute {
		return nil
	}
	_, err := db.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ms(now), k.ID)
	return err
}

// RevokeAPIKey revokes a project's key.
func (db *DB) RevokeAPIKey(ctx context.Context, projectID, id string, now time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND project_id = $3 AND revoked_at = 0`, ms(now), id, projectID)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return mustAffect(res, "api key")
}

// EnsureAPIKey makes sure the project has a live key with this secret and
// scope; config files and NIGHTJAR_BOOTSTRAP_API_KEY use it. It reports
// whether a key was created.
func (db *DB) EnsureAPIKey(ctx context.Context, projectID, name string, scope nightjar.Scope, secret string, now time.Time) (bool, error) {
	var created bool
	err := db.WithTx(ctx, func(tx *Tx) error {
		var err error
		created, err = tx.EnsureAPIKey(ctx, projectID, name, scope, secret, now)
		return err
	})
	return created, err
}

// EnsureAPIKey is DB.EnsureAPIKey inside the transaction.
func (tx *Tx) EnsureAPIKey(ctx context.Context, projectID, name string, scope nightjar.Scope, secret string, now time.Time) (bool, error) {
	if err := (&nightjar.APIKey{Name: name, Scope: scope}).Validate(); err != nil {
		return false, err
	}
	k, err := tx.APIKeyBySecret(ctx, secret)
	if err == nil {
		if k.ProjectID != projectID {
			return false, nightjar.Errorf(nightjar.ECONFLICT, "api key %q belongs to another project", name)
		}
		if k.Scope != scope || k.Name != name {
			if _, err := tx.exec(ctx, `UPDATE api_keys SET scope = $1, name = $2 WHERE id = $3`, string(scope), name, k.ID); err != nil {
				return false, fmt.Errorf("update api key: %w", err)
			}
		}
		return false, nil
	} else if nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
		return false, err
	}
	_, err = createAPIKey(ctx, tx, &nightjar.APIKey{ProjectID: projectID, Name: name, Scope: scope}, secret, now)
	return err == nil, err
}

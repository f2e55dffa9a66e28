package projects

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// MinKeyLength is the shortest API key secret accepted; made-up keys are
// much longer.
const MinKeyLength = 16

// CreateKey stores a key for k.ProjectID. If secret is empty a new random
// one is made. The secret is returned once; only its hash is kept.
func (s *Store) CreateKey(ctx context.Context, k *nightjar.APIKey, secret string, now time.Time) (string, error) {
	return createKey(ctx, s.db, k, secret, now)
}

func createKey(ctx context.Context, q store.Conn, k *nightjar.APIKey, secret string, now time.Time) (string, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	if secret == "" {
		secret = "nj_" + store.NewSecret(20)
	}
	if len(secret) < MinKeyLength {
		return "", nightjar.FieldError("key", "must be at least %d characters", MinKeyLength)
	}
	if k.ID == "" {
		k.ID = store.NewID()
	}
	k.Hash = store.HashSecret(secret)
	k.Prefix = secret[:min(len(secret), 7)]
	k.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.Exec(ctx, `INSERT INTO api_keys (id, project_id, name, scope, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.ProjectID, k.Name, string(k.Scope), k.Prefix, k.Hash, store.Millis(k.CreatedAt))
	if store.IsUniqueViolation(err) {
		return "", nightjar.Errorf(nightjar.ECONFLICT, "this API key exists already")
	} else if err != nil {
		return "", fmt.Errorf("insert api key: %w", err)
	}
	return secret, nil
}

const keyColumns = `id, project_id, name, scope, prefix, hash, created_at, last_used_at`

func scanKey(row store.Row) (*nightjar.APIKey, error) {
	var k nightjar.APIKey
	var scope string
	var created, used int64
	if err := row.Scan(&k.ID, &k.ProjectID, &k.Name, &scope, &k.Prefix, &k.Hash, &created, &used); err != nil {
		return nil, store.ScanError(err, "api key")
	}
	k.Scope, k.CreatedAt, k.LastUsedAt = nightjar.Scope(scope), store.Time(created), store.Time(used)
	return &k, nil
}

// KeyBySecret finds the live key whose hash matches secret.
func (s *Store) KeyBySecret(ctx context.Context, secret string) (*nightjar.APIKey, error) {
	return keyBySecret(ctx, s.db, secret)
}

// KeyBySecretTx is KeyBySecret as the caller's transaction sees it.
func (s *Store) KeyBySecretTx(ctx context.Context, tx *store.Tx, secret string) (*nightjar.APIKey, error) {
	return keyBySecret(ctx, tx, secret)
}

func keyBySecret(ctx context.Context, q store.Querier, secret string) (*nightjar.APIKey, error) {
	return scanKey(q.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1 AND revoked_at = 0`, store.HashSecret(secret)))
}

// Keys lists a project's live keys, oldest first.
func (s *Store) Keys(ctx context.Context, projectID string) ([]*nightjar.APIKey, error) {
	return store.QueryAll(ctx, s.db, "list api keys", `SELECT `+keyColumns+` FROM api_keys
		WHERE project_id = $1 AND revoked_at = 0 ORDER BY created_at, id`, scanKey, projectID)
}

// TouchKey records that a key was used. It writes at most once a minute
// per key so busy API clients do not turn reads into writes.
func (s *Store) TouchKey(ctx context.Context, k *nightjar.APIKey, now time.Time) error {
	if now.Sub(k.LastUsedAt) < time.Minute {
		return nil
	}
	if _, err := s.db.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, store.Millis(now), k.ID); err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// RevokeKey revokes a project's key; another project's key is not found.
func (s *Store) RevokeKey(ctx context.Context, projectID, id string, now time.Time) error {
	res, err := s.db.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND project_id = $3 AND revoked_at = 0`, store.Millis(now), id, projectID)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return store.MustAffect(res, "api key")
}

// EnsureKey makes sure the project has a live key with this secret, name
// and scope; configuration files and NIGHTJAR_BOOTSTRAP_API_KEY use it. It
// reports whether a key was created. A secret that is another project's
// key is a conflict.
func (s *Store) EnsureKey(ctx context.Context, projectID, name string, scope nightjar.Scope, secret string, now time.Time) (bool, error) {
	var created bool
	err := s.db.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		created, err = s.EnsureKeyTx(ctx, tx, projectID, name, scope, secret, now)
		return err
	})
	return created, err
}

// EnsureKeyTx is EnsureKey inside the caller's transaction.
func (s *Store) EnsureKeyTx(ctx context.Context, tx *store.Tx, projectID, name string, scope nightjar.Scope, secret string, now time.Time) (bool, error) {
	if err := (&nightjar.APIKey{Name: name, Scope: scope}).Validate(); err != nil {
		return false, err
	}
	k, err := keyBySecret(ctx, tx, secret)
	if err == nil {
		if k.ProjectID != projectID {
			return false, nightjar.Errorf(nightjar.ECONFLICT, "api key %q belongs to another project", name)
		}
		if k.Scope != scope || k.Name != name {
			if _, err := tx.Exec(ctx, `UPDATE api_keys SET scope = $1, name = $2 WHERE id = $3`, string(scope), name, k.ID); err != nil {
				return false, fmt.Errorf("update api key: %w", err)
			}
		}
		return false, nil
	} else if nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
		return false, err
	}
	_, err = createKey(ctx, tx, &nightjar.APIKey{ProjectID: projectID, Name: name, Scope: scope}, secret, now)
	return err == nil, err
}

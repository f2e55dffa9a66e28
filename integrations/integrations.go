// Package integrations is the area of integration keys and of the alerts
// other monitoring systems send with them: Alertmanager's webhook and
// PagerDuty-style Events API v2 events. It sits at the signals end of the
// flow (signals → evaluation → alerts → incidents → delivery): it finds the
// key a request names, has alertin decode the payload into alert changes,
// and hands them all to the alert stage in one transaction, so a sender is
// told its alerts were accepted only once they are durable, and a batch is
// recorded whole or not at all.
//
// It owns the integration_keys table. A key's secret is made here, shown
// once, and stored as a hash (store.HashSecret, as API keys are).
package integrations

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alertin"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/store"
)

// Service stores integration keys and takes in the alerts sent with them.
type Service struct {
	db     *store.DB
	alerts *alerting.Stage
	commit *groupCommit
}

// New returns the integrations area of db, handing alerts to the stage.
func New(db *store.DB, alerts *alerting.Stage) *Service {
	return &Service{db: db, alerts: alerts, commit: newGroupCommit(db, alerts)}
}

// secretBytes is how much randomness a key holds: 160 bits, which base32
// writes in exactly the 32 characters of a PagerDuty routing key.
const secretBytes = 20

// prefixLength is how much of a secret is kept in the clear, to tell keys
// apart in lists; 35 bits of 160 give nothing useful away.
const prefixLength = 7

const columns = `id, project_id, name, service, prefix, hash, created_at, last_used_at`

func scanKey(row store.Row) (*nightjar.IntegrationKey, error) {
	var k nightjar.IntegrationKey
	var created, used int64
	if err := row.Scan(&k.ID, &k.ProjectID, &k.Name, &k.Service, &k.Prefix, &k.Hash, &created, &used); err != nil {
		return nil, store.ScanError(err, "integration key")
	}
	k.CreatedAt, k.LastUsedAt = store.Time(created), store.Time(used)
	return &k, nil
}

// Create stores a new key for k.ProjectID and returns its secret, which is
// not kept and cannot be shown again.
func (s *Service) Create(ctx context.Context, k *nightjar.IntegrationKey, now time.Time) (string, error) {
	if err := k.Validate(); err != nil {
		return "", err
	}
	secret := store.NewSecret(secretBytes)
	k.ID = store.NewID()
	k.Hash = store.HashSecret(secret)
	k.Prefix = secret[:prefixLength]
	k.CreatedAt = now.UTC().Truncate(time.Millisecond)
	k.LastUsedAt = time.Time{}
	if _, err := s.db.Exec(ctx, `INSERT INTO integration_keys (id, project_id, name, service, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.ProjectID, k.Name, k.Service, k.Prefix, k.Hash, store.Millis(k.CreatedAt)); err != nil {
		return "", fmt.Errorf("insert integration key: %w", err)
	}
	return secret, nil
}

// List returns a project's live keys, oldest first.
func (s *Service) List(ctx context.Context, projectID string) ([]*nightjar.IntegrationKey, error) {
	return store.QueryAll(ctx, s.db, "list integration keys", `SELECT `+columns+` FROM integration_keys
		WHERE project_id = $1 AND revoked_at = 0 ORDER BY created_at, id`, scanKey, projectID)
}

// Get returns a project's live key by id; another project's key, or a
// revoked one, is not found.
func (s *Service) Get(ctx context.Context, projectID, id string) (*nightjar.IntegrationKey, error) {
	return scanKey(s.db.QueryRow(ctx, `SELECT `+columns+` FROM integration_keys
		WHERE id = $1 AND project_id = $2 AND revoked_at = 0`, id, projectID))
}

// Revoke revokes a project's key: alerts sent with it are refused from
// now on. The alerts it brought in stay as they are.
func (s *Service) Revoke(ctx context.Context, projectID, id string, now time.Time) error {
	res, err := s.db.Exec(ctx, `UPDATE integration_keys SET revoked_at = $1 WHERE id = $2 AND project_id = $3 AND revoked_at = 0`,
		store.Millis(now), id, projectID)
	if err != nil {
		return fmt.Errorf("revoke integration key: %w", err)
	}
	return store.MustAffect(res, "integration key")
}

// Lookup finds the live key whose secret this is. An unknown key and a
// revoked one are both just not found, so a caller learns nothing about
// keys it does not hold.
func (s *Service) Lookup(ctx context.Context, secret string) (*nightjar.IntegrationKey, error) {
	k, err := scanKey(s.db.QueryRow(ctx, `SELECT `+columns+` FROM integration_keys WHERE hash = $1 AND revoked_at = 0`, store.HashSecret(secret)))
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "no integration has this key")
	}
	return k, err
}

// target is where the alerts a key brings in belong.
func target(k *nightjar.IntegrationKey) alertin.Target {
	return alertin.Target{ProjectID: k.ProjectID, Service: k.Service, Integration: k.ID}
}

// touchEvery is how often a key's last use is written at most, so a busy
// sender does not add a write to every batch.
const touchEvery = time.Minute

// ingest hands changes to the alert stage and runs fn (either may be
// empty) in one transaction with the key's last use, and returns once
// they are committed. The transaction may be shared with other requests'
// (group commit); what one request brings commits all together or not at
// all.
func (s *Service) ingest(ctx context.Context, k *nightjar.IntegrationKey, now time.Time, changes []alerting.Change, fn func(tx *store.Tx) error) error {
	return s.commit.doAlerts(ctx, k.ProjectID, changes, func(tx *store.Tx) error {
		if fn != nil {
			if err := fn(tx); err != nil {
				return err
			}
		}
		if now.Sub(k.LastUsedAt) < touchEvery {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE integration_keys SET last_used_at = $1 WHERE id = $2`, store.Millis(now), k.ID); err != nil {
			return fmt.Errorf("touch integration key: %w", err)
		}
		return nil
	})
}

// Alertmanager takes in one Alertmanager webhook notification sent with
// the key secret: every alert of the batch is handed to the alert stage,
// all in one transaction, and the batch is returned once committed. An
// alert Alertmanager sends again unchanged (it resends whole groups) is
// recorded but tells nobody again. The key is looked up first: with an
// unknown key the payload is not even read.
func (s *Service) Alertmanager(ctx context.Context, secret string, body []byte, now time.Time) (*alertin.AlertmanagerBatch, error) {
	k, err := s.Lookup(ctx, secret)
	if err != nil {
		return nil, err
	}
	b, err := alertin.DecodeAlertmanager(body, target(k))
	if err != nil {
		return nil, err
	}
	changes := make([]alerting.Change, len(b.Alerts))
	for i := range b.Alerts {
		changes[i] = alerting.Change{Alert: &b.Alerts[i], At: now, Resent: true}
	}
	err = s.ingest(ctx, k, now, changes, nil)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// PagerDuty takes in one Events API v2 event, whose routing_key is the
// key secret, and returns it once committed: a trigger fires the alert
// named by its dedup key (generated when absent; firing an alert that
// fires already changes its details and tells nobody again), a resolve
// resolves it, and an acknowledge records the acknowledgement on the
// alert and tells the stage's Acknowledger routes. An unknown routing key
// is a field error, as PagerDuty answers it.
func (s *Service) PagerDuty(ctx context.Context, body []byte, now time.Time) (*alertin.PagerDutyEvent, error) {
	e, err := alertin.DecodePagerDuty(body, store.NewKey)
	if err != nil {
		return nil, err
	}
	k, err := s.Lookup(ctx, e.RoutingKey)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return nil, nightjar.FieldError("routing_key", "is not the key of an integration: create one with POST /api/v1/integration-keys")
	} else if err != nil {
		return nil, err
	}
	to := target(k)
	err = s.ingest(ctx, k, now, nil, func(tx *store.Tx) error {
		switch e.Action {
		case alertin.PagerDutyAcknowledge:
			_, err := s.alerts.Acknowledge(ctx, tx, to.ProjectID, e.AlertKey(to), now)
			return err
		case alertin.PagerDutyResolve:
			// The resolve carries no summary or details: the alert keeps
			// what its trigger said.
			return s.alerts.Resolve(ctx, tx, to.ProjectID, e.AlertKey(to), nil, now)
		}
		return s.alerts.Handle(ctx, tx, alerting.Change{Alert: e.Alert(to, now), At: now, Resent: true})
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

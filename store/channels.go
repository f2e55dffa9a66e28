package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
)

const (
	channelColumns = `id, project_id, kind, name, config, created_at`
	qUpdateChannel = `UPDATE channels SET kind = $3, name = $4, config = $5 WHERE id = $1 AND project_id = $2`
)

// CreateChannel stores a notification channel.
func (db *DB) CreateChannel(ctx context.Context, ch *nightjar.Channel, now time.Time) error {
	return createChannel(ctx, db.w, ch, now)
}

// CreateChannel stores a notification channel inside the transaction.
func (tx *Tx) CreateChannel(ctx context.Context, ch *nightjar.Channel, now time.Time) error {
	return createChannel(ctx, tx, ch, now)
}

func createChannel(ctx context.Context, q conn, ch *nightjar.Channel, now time.Time) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	if ch.ID == "" {
		ch.ID = NewID()
	}
	ch.CreatedAt = now.UTC().Truncate(time.Millisecond)
	_, err := q.ExecContext(ctx, `INSERT INTO channels (id, project_id, kind, name, config, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		ch.ID, ch.ProjectID, ch.Kind, ch.Name, jsonText(ch.Config), ms(ch.CreatedAt))
	if IsUniqueViolation(err) {
		return nightjar.Errorf(nightjar.ECONFLICT, "channel %s exists", ch.ID)
	} else if err != nil {
		return fmt.Errorf("insert channel: %w", err)
	}
	return nil
}

// UpdateChannel replaces a channel's name and settings with ones stated in
// full (as a configuration file does).
func (db *DB) UpdateChannel(ctx context.Context, ch *nightjar.Channel) error {
	return updateChannel(ctx, db.w, ch)
}

// UpdateChannel is DB.UpdateChannel inside the transaction.
func (tx *Tx) UpdateChannel(ctx context.Context, ch *nightjar.Channel) error {
	return updateChannel(ctx, tx, ch)
}

func updateChannel(ctx context.Context, q conn, ch *nightjar.Channel) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	res, err := q.ExecContext(ctx, qUpdateChannel, ch.ID, ch.ProjectID, ch.Kind, ch.Name, jsonText(ch.Config))
	if err != nil {
		return fmt.Errorf("update channel: %w", err)
	}
	return mustAffect(res, "channel")
}

// EditChannel changes one of a project's channels with edit, typically a
// nightjar.Channel.Apply, and saves the result if it is valid. The channel
// is read and written in one transaction, so two edits cannot each undo
// the other's change.
func (db *DB) EditChannel(ctx context.Context, projectID, id string, edit func(ch *nightjar.Channel) error) (*nightjar.Channel, error) {
	var out *nightjar.Channel
	err := db.WithTx(ctx, func(tx *Tx) error {
		ch, err := scanChannel(tx.queryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE id = $1 AND project_id = $2`+db.dialect.forUpdate, id, projectID))
		if err != nil {
			return err
		}
		before := *ch
		if err := edit(ch); err != nil {
			return err
		}
		ch.ID, ch.ProjectID, ch.CreatedAt = before.ID, before.ProjectID, before.CreatedAt
		if err := ch.Validate(); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, qUpdateChannel, ch.ID, ch.ProjectID, ch.Kind, ch.Name, jsonText(ch.Config)); err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		out = ch
		return nil
	})
	return out, err
}

// DeleteChannel removes a channel and its pending notifications.
func (db *DB) DeleteChannel(ctx context.Context, projectID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM channels WHERE id = $1 AND project_id = $2`, id, projectID)
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	return mustAffect(res, "channel")
}

// Channels lists a project's channels.
func (db *DB) Channels(ctx context.Context, projectID string) ([]*nightjar.Channel, error) {
	return channels(ctx, db.r, projectID)
}

// Channels lists a project's channels as the transaction sees them.
func (tx *Tx) Channels(ctx context.Context, projectID string) ([]*nightjar.Channel, error) {
	return channels(ctx, tx, projectID)
}

func channels(ctx context.Context, q querier, projectID string) ([]*nightjar.Channel, error) {
	return queryAll(ctx, q, "list channels", `SELECT `+channelColumns+` FROM channels WHERE project_id = $1 ORDER BY created_at, id`, scanChannel, projectID)
}

// Channel returns one of a project's channels.
func (db *DB) Channel(ctx context.Context, projectID, id string) (*nightjar.Channel, error) {
	return scanChannel(db.r.QueryRowContext(ctx, `SELECT `+channelColumns+` FROM channels WHERE id = $1 AND project_id = $2`, id, projectID))
}

func scanChannel(row rowScanner) (*nightjar.Channel, error) {
	var ch nightjar.Channel
	var cfg string
	var created int64
	if err := row.Scan(&ch.ID, &ch.ProjectID, &ch.Kind, &ch.Name, &cfg, &created); errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "channel not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan channel: %w", err)
	}
	if err := json.Unmarshal([]byte(cfg), &ch.Config); err != nil {
		return nil, fmt.Errorf("decode channel config: %w", err)
	}
	ch.CreatedAt = tm(created)
	return &ch, nil
}

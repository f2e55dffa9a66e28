package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/heartbeat"
	"github.com/nightjar-dev/nightjar/notify"
)

// recordOutcome writes what a heartbeat transition produced: the flip, the
// alert's new state, and one outbox row per channel for a notification.
func (tx *Tx) recordOutcome(ctx context.Context, c *nightjar.Check, o heartbeat.Outcome, now time.Time) error {
	if f := o.Flip; f != nil {
		if _, err := tx.exec(ctx, qInsertFlip,
			f.CheckID, ms(f.CreatedAt), f.From, f.To, f.Reason); err != nil {
			return fmt.Errorf("insert flip: %w", err)
		}
	}
	if o.Alert != nil {
		return tx.emitAlert(ctx, o.Alert, now, c.Channels)
	}
	return nil
}

// EmitAlert records an alert's state and queues a notification for every
// channel of its project. Until incidents exist, every alert change is
// delivered straight to the project's channels. A resolve for an alert that
// is not firing is dropped, so nobody is told about a problem they never
// heard of.
func (tx *Tx) EmitAlert(ctx context.Context, a *nightjar.Alert, now time.Time) error {
	return tx.emitAlert(ctx, a, now, nil)
}

// emitAlert is EmitAlert for a source that picked its channels: only is
// the list of channel ids to notify, nil meaning all of them.
func (tx *Tx) emitAlert(ctx context.Context, a *nightjar.Alert, now time.Time, only []string) error {
	var status string
	err := tx.queryRow(ctx, qAlertStatus+tx.db.dialect.forUpdate,
		a.ProjectID, a.DedupKey).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		status = ""
	} else if err != nil {
		return fmt.Errorf("load alert: %w", err)
	}
	if a.Status == nightjar.AlertResolved && status != string(nightjar.AlertFiring) {
		return nil
	}
	details := jsonText(a.Details)
	if status == "" {
		_, err = tx.exec(ctx, qInsertAlert,
			a.ProjectID, a.DedupKey, a.Source, a.SourceID, a.Service, string(a.Severity), a.Summary, details,
			string(a.Status), ms(a.StartsAt), ms(a.EndsAt), ms(now))
	} else {
		_, err = tx.exec(ctx, qUpdateAlert,
			a.ProjectID, a.DedupKey, a.Source, a.SourceID, a.Service, string(a.Severity), a.Summary, details,
			string(a.Status), ms(a.StartsAt), ms(a.EndsAt), ms(now))
	}
	if err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	return tx.enqueue(ctx, a, now, only)
}

// resolveAlert resolves a firing alert without any other change, telling
// the channels in only (nil: all).
func (tx *Tx) resolveAlert(ctx context.Context, projectID, dedupKey string, now time.Time, only []string) error {
	a, err := tx.alert(ctx, projectID, dedupKey)
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	a.Status, a.EndsAt = nightjar.AlertResolved, now
	a.Summary = "Resolved: " + a.Summary
	return tx.emitAlert(ctx, a, now, only)
}

// enqueue writes a notification of the alert's change for each of the
// project's channels, or only those in only when it is not nil, in the
// outbox's format (see package outbox). The alert stage takes this over,
// writing its messages with outbox.Enqueue; until then the two must agree.
func (tx *Tx) enqueue(ctx context.Context, a *nightjar.Alert, now time.Time, only []string) error {
	ids, err := queryAll(ctx, tx, "list channels", qChannelIDs, scanString, a.ProjectID)
	if err != nil {
		return err
	}
	payload := jsonText(struct {
		Alert *nightjar.Alert `json:"alert"`
	}{a})
	event := notify.AlertEvent(a.Status)
	for _, ch := range ids {
		if only != nil && !slices.Contains(only, ch) {
			continue
		}
		id := NewID()
		if _, err := tx.exec(ctx, qInsertOutbox, id, a.ProjectID, "channel", ch, id, event, payload, "pending", ms(now)); err != nil {
			return fmt.Errorf("insert outbox message: %w", err)
		}
	}
	return nil
}

func (tx *Tx) alert(ctx context.Context, projectID, dedupKey string) (*nightjar.Alert, error) {
	return scanAlert(tx.queryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 AND dedup_key = $2`, projectID, dedupKey))
}

const alertColumns = `project_id, dedup_key, source, source_id, service, severity, summary, details, status, starts_at, ends_at`

func scanAlert(row rowScanner) (*nightjar.Alert, error) {
	var a nightjar.Alert
	var sev, status, details string
	var starts, ends int64
	err := row.Scan(&a.ProjectID, &a.DedupKey, &a.Source, &a.SourceID, &a.Service, &sev, &a.Summary, &details, &status, &starts, &ends)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "alert not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan alert: %w", err)
	}
	a.Severity, a.Status, a.StartsAt, a.EndsAt = nightjar.Severity(sev), nightjar.AlertStatus(status), tm(starts), tm(ends)
	if err := json.Unmarshal([]byte(details), &a.Details); err != nil {
		return nil, fmt.Errorf("decode alert details: %w", err)
	}
	return &a, nil
}

// Alerts lists a project's alerts, firing first, newest first.
func (db *DB) Alerts(ctx context.Context, projectID string) ([]*nightjar.Alert, error) {
	return queryAll(ctx, db.r, "list alerts", `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 ORDER BY status, starts_at DESC`, scanAlert, projectID)
}

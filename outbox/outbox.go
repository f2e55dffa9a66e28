// Package outbox is the general outbox between the alert stage and
// delivery: a message to one destination (a channel today, a person's
// contact method next), with its event, its payload and an idempotency
// key, written in the same transaction as the state change that caused it
// and delivered later by the outbox engine module, with retries. Nothing
// but the outbox delivers.
package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
)

// Destination kinds.
const (
	// ToChannel is one of a project's channels.
	ToChannel = "channel"
)

// Destination is where a message goes.
type Destination struct {
	Kind string
	ID   string
}

// Message is one notification for one destination.
type Message struct {
	ProjectID string
	To        Destination
	// Event is one of notify's Event constants.
	Event string
	// Alert is what the message is about.
	Alert nightjar.Alert
	// IdempotencyKey travels with every attempt so a receiver can drop a
	// retry's duplicate; empty means the message's own id.
	IdempotencyKey string
}

// Message statuses.
const (
	Pending = "pending"
)

var qInsert = store.Hot(func(store.Dialect) string {
	return `INSERT INTO outbox (id, project_id, channel_id, event, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, '', $7, 0)`
})

// Enqueue writes messages in the caller's transaction and returns their
// ids, in order.
func Enqueue(ctx context.Context, tx *store.Tx, now time.Time, msgs ...Message) ([]string, error) {
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		if m.To.Kind != ToChannel {
			return nil, fmt.Errorf("enqueue: unknown destination kind %q", m.To.Kind)
		}
		id := store.NewID()
		if _, err := tx.ExecStmt(ctx, qInsert, id, m.ProjectID, m.To.ID, m.Event, store.JSON(m.Alert), Pending, store.Millis(now)); err != nil {
			return nil, fmt.Errorf("insert outbox row: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

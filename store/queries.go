package store

// qInsertOutbox is the insert of the store's remaining outbox code (test
// notifications). Hot statements are declared with Hot by the areas that
// run them, beside their SQL.
const qInsertOutbox = `INSERT INTO outbox (id, project_id, channel_id, event, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, '', $7, 0)`

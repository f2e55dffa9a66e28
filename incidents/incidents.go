package incidents

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

// Timeline entry kinds the area adds to the incident package's: each
// message sent for a notice, what suppressed a page, a person's note, and
// an edit of the postmortem.
const (
	EntryNotification incident.EntryKind = "notification"
	EntrySuppressed   incident.EntryKind = "suppressed"
	EntryNote         incident.EntryKind = "note"
	EntryPostmortem   incident.EntryKind = "postmortem"
)

// MaxNoteLength is the longest note, in characters.
const MaxNoteLength = 10000

const incidentColumns = `id, project_id, number, title, service, urgency, status, policy_id, assignee, commander,
	responders, channels, created_at, acked_at, resolved_at, esc_since, esc_fired, esc_next`

func scanIncident(row store.Row) (*incident.Incident, error) {
	var inc incident.Incident
	var urgency, status, responders, channels string
	var created, acked, resolved, since, next int64
	err := row.Scan(&inc.ID, &inc.ProjectID, &inc.Number, &inc.Title, &inc.Service, &urgency, &status, &inc.Policy, &inc.Assignee, &inc.Commander,
		&responders, &channels, &created, &acked, &resolved, &since, &inc.Escalation.Fired, &next)
	if err := store.ScanError(err, "incident"); err != nil {
		return nil, err
	}
	inc.Urgency, inc.Status = nightjar.Severity(urgency), incident.Status(status)
	inc.CreatedAt, inc.AckedAt, inc.ResolvedAt = store.Time(created), store.Time(acked), store.Time(resolved)
	inc.Escalation.Since, inc.Escalation.Next = store.Time(since), store.Time(next)
	if err := decode(responders, "responders", &inc.Responders); err != nil {
		return nil, err
	}
	return &inc, decode(channels, "channels", &inc.Channels)
}

// loadAlerts fills in the incidents' alerts.
func loadAlerts(ctx context.Context, q store.Querier, incs ...*incident.Incident) error {
	for _, inc := range incs {
		refs, err := store.QueryAll(ctx, q, "list incident alerts", `SELECT dedup_key, summary, severity, firing, fired_at, resolved_at
			FROM incident_alerts WHERE incident_id = $1 ORDER BY position`, func(row store.Row) (incident.AlertRef, error) {
			var r incident.AlertRef
			var sev string
			var fired, resolved int64
			err := row.Scan(&r.DedupKey, &r.Summary, &sev, &r.Firing, &fired, &resolved)
			r.Severity, r.FiredAt, r.ResolvedAt = nightjar.Severity(sev), store.Time(fired), store.Time(resolved)
			return r, err
		}, inc.ID)
		if err != nil {
			return err
		}
		inc.Alerts = refs
	}
	return nil
}

// getIncident reads one incident with its alerts; lock locks its row for
// the rest of the transaction.
func getIncident(ctx context.Context, q store.Querier, projectID, id string, lock bool) (*incident.Incident, error) {
	query := `SELECT ` + incidentColumns + ` FROM incidents WHERE id = $1 AND project_id = $2`
	if lock {
		query += q.Dialect().ForUpdate()
	}
	inc, err := scanIncident(q.QueryRow(ctx, query, id, projectID))
	if err != nil {
		return nil, err
	}
	return inc, loadAlerts(ctx, q, inc)
}

// Incident returns one of a project's incidents with its alerts.
func (s *Store) Incident(ctx context.Context, projectID, id string) (*incident.Incident, error) {
	return getIncident(ctx, s.read(), projectID, id, false)
}

// IncidentByNumber returns the project's incident with the number people
// know it by.
func (s *Store) IncidentByNumber(ctx context.Context, projectID string, number int64) (*incident.Incident, error) {
	var id string
	err := s.read().QueryRow(ctx, `SELECT id FROM incidents WHERE project_id = $1 AND number = $2`, projectID, number).Scan(&id)
	if err := store.ScanError(err, "incident"); err != nil {
		return nil, err
	}
	return s.Incident(ctx, projectID, id)
}

// IncidentFilter selects incidents to list.
type IncidentFilter struct {
	// Open lists only incidents that are not resolved.
	Open bool
	// Status and Service, when set, list only incidents with that status
	// or of that service.
	Status  incident.Status
	Service string
	// Limit is how many to list at most; zero is 100.
	Limit int
}

// Incidents lists a project's incidents, open ones first, newest first.
func (s *Store) Incidents(ctx context.Context, projectID string, f IncidentFilter) ([]*incident.Incident, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	where := ""
	args := []any{projectID, f.Limit}
	if f.Open {
		where = ` AND status <> 'resolved'`
	}
	if f.Status != "" {
		args = append(args, string(f.Status))
		where += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Service != "" {
		args = append(args, f.Service)
		where += fmt.Sprintf(` AND service = $%d`, len(args))
	}
	incs, err := store.QueryAll(ctx, s.read(), "list incidents", `SELECT `+incidentColumns+` FROM incidents WHERE project_id = $1`+where+`
		ORDER BY CASE WHEN status = 'resolved' THEN 1 ELSE 0 END, number DESC LIMIT $2`, scanIncident, args...)
	if err != nil {
		return nil, err
	}
	return incs, loadAlerts(ctx, s.read(), incs...)
}

// findForAlert returns the incidents ApplyAlert needs for an alert, locked:
// the open incidents of its service, and the newest one holding its key.
func findForAlert(ctx context.Context, tx *store.Tx, a *nightjar.Alert) ([]*incident.Incident, error) {
	lock := tx.Dialect().ForUpdate()
	found, err := store.QueryAll(ctx, tx, "find open incidents", `SELECT `+incidentColumns+` FROM incidents
		WHERE project_id = $1 AND service = $2 AND status <> 'resolved' ORDER BY created_at`+lock, scanIncident, a.ProjectID, a.Service)
	if err != nil {
		return nil, err
	}
	holder, err := alertHolder(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	for _, h := range holder {
		if !containsIncident(found, h.ID) {
			found = append(found, h)
		}
	}
	return found, loadAlerts(ctx, tx, found...)
}

// alertHolder returns the newest incident holding the alert, locked, if
// there is one.
func alertHolder(ctx context.Context, tx *store.Tx, a *nightjar.Alert) ([]*incident.Incident, error) {
	return store.QueryAll(ctx, tx, "find incident of alert", `SELECT `+incidentColumns+` FROM incidents WHERE id = (
		SELECT incident_id FROM incident_alerts WHERE project_id = $1 AND dedup_key = $2 ORDER BY fired_at DESC LIMIT 1)`+tx.Dialect().ForUpdate(),
		scanIncident, a.ProjectID, a.DedupKey)
}

func containsIncident(incs []*incident.Incident, id string) bool {
	for _, inc := range incs {
		if inc.ID == id {
			return true
		}
	}
	return false
}

// saveIncident writes an incident: a new one gets an id and the next
// number of its project.
func saveIncident(ctx context.Context, tx *store.Tx, inc *incident.Incident, opened bool) error {
	if opened {
		inc.ID = store.NewID()
		err := tx.QueryRow(ctx, `INSERT INTO incident_numbers (project_id, last) VALUES ($1, 1)
			ON CONFLICT (project_id) DO UPDATE SET last = incident_numbers.last + 1 RETURNING last`, inc.ProjectID).Scan(&inc.Number)
		if err != nil {
			return fmt.Errorf("number incident: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO incidents (id, project_id, number, title, service, urgency, status, policy_id, assignee, commander,
			responders, channels, created_at, acked_at, resolved_at, esc_since, esc_fired, esc_next)
			VALUES ($1, $2, $3, '', '', '', '', '', '', '', '[]', '[]', $4, 0, 0, 0, 0, 0)`, inc.ID, inc.ProjectID, inc.Number, store.Millis(inc.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert incident: %w", err)
		}
	}
	title := nightjar.CleanText(inc.Title, 500)
	_, err := tx.Exec(ctx, `UPDATE incidents SET title = $2, service = $3, urgency = $4, status = $5, policy_id = $6, assignee = $7, commander = $8,
		responders = $9, channels = $10, acked_at = $11, resolved_at = $12, esc_since = $13, esc_fired = $14, esc_next = $15 WHERE id = $1`,
		inc.ID, title, inc.Service, string(inc.Urgency), string(inc.Status), inc.Policy, inc.Assignee, inc.Commander,
		store.JSON(orEmpty(inc.Responders)), store.JSON(orEmpty(inc.Channels)), store.Millis(inc.AckedAt), store.Millis(inc.ResolvedAt),
		store.Millis(inc.Escalation.Since), inc.Escalation.Fired, store.Millis(inc.Escalation.Next))
	if err != nil {
		return fmt.Errorf("update incident: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM incident_alerts WHERE incident_id = $1`, inc.ID); err != nil {
		return fmt.Errorf("replace incident alerts: %w", err)
	}
	for i, r := range inc.Alerts {
		if _, err := tx.Exec(ctx, `INSERT INTO incident_alerts (incident_id, project_id, position, dedup_key, summary, severity, firing, fired_at, resolved_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, inc.ID, inc.ProjectID, i, r.DedupKey, nightjar.CleanText(r.Summary, 500), string(r.Severity),
			r.Firing, store.Millis(r.FiredAt), store.Millis(r.ResolvedAt)); err != nil {
			return fmt.Errorf("insert incident alert: %w", err)
		}
	}
	return nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// addEntry writes one timeline entry; outboxID names the message of a
// notification entry, whose delivery starts pending.
func addEntry(ctx context.Context, tx *store.Tx, incidentID string, e incident.Entry, outboxID string) error {
	status := ""
	if outboxID != "" {
		status = outbox.Pending
	}
	_, err := tx.Exec(ctx, `INSERT INTO incident_timeline (incident_id, at, kind, actor, text, dedup_key, users, channels, outbox_id,
			delivery_status, delivery_attempts, delivery_error, delivery_sent_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, '', 0)`, incidentID, store.Millis(e.At), string(e.Kind), e.Actor, nightjar.CleanText(e.Text, MaxNoteLength),
		e.DedupKey, store.JSON(orEmpty(e.Users)), store.JSON(orEmpty(e.Channels)), outboxID, status)
	if err != nil {
		return fmt.Errorf("insert timeline entry: %w", err)
	}
	return nil
}

// RecordDelivery implements outbox.Recorder: the timeline entry of a
// notification keeps how its message fared, written with each result the
// outbox records, so the timeline and the postmortem still show it once
// the outbox has pruned the message. A message no entry names (a
// channel's alert) changes nothing.
func (s *Store) RecordDelivery(ctx context.Context, tx *store.Tx, outboxID string, r outbox.Result) error {
	return recordDelivery(ctx, tx, outboxID, r)
}

func recordDelivery(ctx context.Context, tx *store.Tx, outboxID string, r outbox.Result) error {
	if _, err := tx.ExecStmt(ctx, qRecordDelivery, outboxID, r.Status, r.Attempts, r.LastError, store.Millis(r.SentAt), r.Bundled); err != nil {
		return fmt.Errorf("record delivery in timeline: %w", err)
	}
	return nil
}

// qRecordDelivery runs for every attempt the outbox records.
var qRecordDelivery = store.Hot(func(store.Dialect) string {
	return `UPDATE incident_timeline SET delivery_status = $2, delivery_attempts = $3, delivery_error = $4, delivery_sent_at = $5, delivery_bundled = $6
		WHERE outbox_id = $1 AND outbox_id <> ''`
})

// Delivery is how a notification entry's message fared: pending, sent,
// failed or cancelled, after how many attempts, with the last error (for
// a cancelled message, why it was not sent). It is nil for other entries.
type Delivery struct {
	Status    string
	Attempts  int
	LastError string
	SentAt    time.Time
	// Bundled is how many notifications went out in one message with
	// this one, itself included, when it was bundled with others for the
	// same contact method (see outbox.Bundling); 0 when it went alone.
	Bundled int
}

// TimelineEntry is one stored entry of an incident's timeline.
type TimelineEntry struct {
	ID int64
	incident.Entry
	Delivery *Delivery
}

// Timeline returns an incident's timeline, oldest first, with each
// notification's delivery result.
func (s *Store) Timeline(ctx context.Context, projectID, incidentID string) ([]TimelineEntry, error) {
	if _, err := s.Incident(ctx, projectID, incidentID); err != nil {
		return nil, err
	}
	return timeline(ctx, s.read(), incidentID)
}

// timeline reads an incident's entries. A notification still pending
// whose message the outbox no longer has (the outbox prunes only messages
// that are done) went with its destination, a deleted channel, and was
// never sent.
func timeline(ctx context.Context, q store.Querier, incidentID string) ([]TimelineEntry, error) {
	return store.QueryAll(ctx, q, "list timeline", `SELECT t.id, t.at, t.kind, t.actor, t.text, t.dedup_key, t.users, t.channels,
			t.delivery_status, t.delivery_attempts, t.delivery_error, t.delivery_sent_at, t.delivery_bundled, CASE WHEN o.id IS NULL THEN 1 ELSE 0 END
		FROM incident_timeline t LEFT JOIN outbox o ON t.delivery_status = '`+outbox.Pending+`' AND o.id = t.outbox_id
		WHERE t.incident_id = $1 ORDER BY t.at, t.id`, func(row store.Row) (TimelineEntry, error) {
		var e TimelineEntry
		var at, sent int64
		var kind, users, channels string
		var d Delivery
		var gone bool
		if err := row.Scan(&e.ID, &at, &kind, &e.Actor, &e.Text, &e.DedupKey, &users, &channels, &d.Status, &d.Attempts, &d.LastError, &sent, &d.Bundled, &gone); err != nil {
			return e, err
		}
		e.At, e.Kind = store.Time(at), incident.EntryKind(kind)
		if d.Status == outbox.Pending && gone {
			d.Status, d.LastError = outbox.Cancelled, "not sent: the message was deleted with its destination"
		}
		if d.Status != "" {
			d.SentAt = store.Time(sent)
			e.Delivery = &d
		}
		if err := decode(users, "entry users", &e.Users); err != nil {
			return e, err
		}
		return e, decode(channels, "entry channels", &e.Channels)
	}, incidentID)
}

// entries returns the plain entries of a timeline, for the postmortem: a
// notification's text says how it fared.
func entries(tl []TimelineEntry) []incident.Entry {
	out := make([]incident.Entry, len(tl))
	for i, e := range tl {
		out[i] = e.Entry
		if d := e.Delivery; d != nil {
			out[i].Text += ": " + d.String()
		}
	}
	return out
}

// String says how a notification fared, for people: "sent", "sent after 3
// attempts", "failed after 12 attempts (503 Service Unavailable)",
// "cancelled (not sent: …)", "pending".
func (d *Delivery) String() string {
	s := d.Status
	if d.Attempts > 1 {
		s += fmt.Sprintf(" after %d attempts", d.Attempts)
	}
	if d.LastError != "" {
		s += " (" + d.LastError + ")"
	}
	return s
}

// who names an actor in timeline text.
func who(actor string) string {
	if actor == "" {
		return "Nightjar"
	}
	return actor
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// EscalateDue runs the escalation of incidents whose next look is due at
// now, at most limit of them, and reports how many it handled. Each
// incident is claimed and handled in a transaction of its own that locks
// it, skipping those another replica holds (on PostgreSQL), and commits
// its new escalation state with its messages: two replicas divide the due
// incidents between them, never page for the same step twice, and a crash
// before the commit leaves the step due.
func (s *Store) EscalateDue(ctx context.Context, now time.Time, limit int) (int, error) {
	// A read first, so that an idle look takes no write lock (SQLite has
	// one writer, which pings share).
	var one int
	err := s.db.QueryRow(ctx, `SELECT 1 FROM incidents WHERE esc_next > 0 AND esc_next <= $1 LIMIT 1`, store.Millis(now)).Scan(&one)
	if err := store.ScanError(err, "due incident"); nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for n := 0; n < limit; n++ {
		var id string
		err := s.db.WithTx(ctx, func(tx *store.Tx) error {
			inc, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE esc_next > 0 AND esc_next <= $1
				ORDER BY esc_next LIMIT 1`+tx.Dialect().SkipLocked(), store.Millis(now)))
			if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
				id = ""
				return nil
			} else if err != nil {
				return err
			}
			id = inc.ID
			if seen[id] {
				// Its escalation did not move past now: leave it for
				// the next look rather than loop on it.
				return nil
			}
			if err := loadAlerts(ctx, tx, inc); err != nil {
				return err
			}
			return s.InTx(tx).due(ctx, tx, inc, now)
		})
		if err != nil {
			return n, fmt.Errorf("escalate incident %s: %w", id, err)
		}
		if id == "" || seen[id] {
			return n, nil
		}
		seen[id] = true
	}
	return limit, nil
}

// Prune forgets what the area no longer needs: used links past their
// expiry, and changes recorded more than KeepChanges ago or beyond a
// service's MaxChangesPerService.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	n, err := pruneLinks(ctx, s.db, now)
	if err != nil {
		return n, err
	}
	m, err := pruneChanges(ctx, s.db, now, MaxChangesPerService)
	return n + m, err
}

// Package alerting is the alert stage of Nightjar's flow (signals →
// evaluation → alerts → incidents → delivery). Every source of trouble —
// checks today; probes, SLOs and external alerts next — hands its alert
// changes to one Stage, inside the transaction of the state change that
// caused them, so a change and what it makes people hear commit together.
//
// The stage owns the alerts table. It deduplicates per project and dedup
// key, drops the resolve of an alert that is not firing (nobody is told a
// problem ended that they never heard of), records the alert, and then
// routes it: an ordered list of routes decides who hears about the change
// and writes their messages to the outbox in the same transaction. Today
// the only route is the default one, the source's chosen channels; routing
// rules, grouping into incidents and escalation are routes placed in front
// of it.
package alerting

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
)

// Change is one alert change a source hands to the stage.
type Change struct {
	// Alert is the alert's new state.
	Alert *nightjar.Alert
	// Channels are the ids of the channels the source chose for its
	// alerts; nil means it chose none, so every channel of the project
	// hears (a check's "*"). An empty, non-nil list means no channel.
	Channels []string
	// At is when the change happened: the alert's update time and its
	// messages' creation time.
	At time.Time
	// Resent says the source repeats an alert's state without meaning
	// anything new by it: Alertmanager sends a whole group again when one
	// alert joins it and at every repeat interval, and a PagerDuty sender
	// triggers an open alert again to deduplicate. A firing change for an
	// alert that fires already is then recorded (its summary, labels and
	// links may have changed) but routed to nobody. A check's re-alert
	// ("still down") is a reminder it chose to send, so it is not resent.
	Resent bool
}

// Recorded is a change as the stage recorded it, as routes see it.
type Recorded struct {
	Change
	// Was is the alert's status before the change; "" for a new alert.
	Was nightjar.AlertStatus
	// Batch is shared by the changes handed over together (HandleAll),
	// for routes to read what they read for every change once; nil for a
	// change handed over alone.
	Batch *Batch
}

// Batch keeps, for the changes of one HandleAll call, what routes read
// once for all of them, such as a project's channels. It holds only reads
// of what handling alert changes never writes, and lives no longer than
// the call, so it cannot go stale.
type Batch struct {
	reads map[string]any
}

// Remember returns what load returns, loading it once per batch and key:
// later calls with the same key get the first result. With a nil batch
// it just loads.
func Remember[T any](b *Batch, key string, load func() (T, error)) (T, error) {
	if b == nil {
		return load()
	}
	if v, ok := b.reads[key]; ok {
		return v.(T), nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	if b.reads == nil {
		b.reads = map[string]any{}
	}
	b.reads[key] = v
	return v, nil
}

// Route is one rule of who hears about an alert change. The stage asks its
// routes in order, and the first that settles a change ends the asking:
// a route for one service's alerts, say, settles those and leaves the rest
// to the routes after it.
type Route interface {
	// Route returns the messages this route sends for a recorded change,
	// and whether it settles the change. It runs in the change's
	// transaction and may read (or, for incidents and escalation, write)
	// through tx.
	Route(ctx context.Context, tx *store.Tx, r Recorded) (msgs []outbox.Message, settled bool, err error)
}

// Stage is the alert stage: the one place sources hand alert changes to.
type Stage struct {
	db     *store.DB
	routes []Route
}

// New returns the stage with routes asked in the order given and the
// DefaultRoute last, so every change is routed somewhere.
func New(db *store.DB, routes ...Route) *Stage {
	return &Stage{db: db, routes: append(slices.Clip(routes), DefaultRoute{})}
}

// The statements every alert change runs.
var (
	qAlertStatus = store.Hot(func(d store.Dialect) string {
		return `SELECT status, content_hash FROM alerts WHERE project_id = $1 AND dedup_key = $2` + d.ForUpdate()
	})
	// The rows of many of a project's alerts, whose keys $2 holds as a
	// JSON array, in one query; on PostgreSQL locked in key order, so two
	// transactions locking some of the same rows cannot deadlock.
	qAlertStatuses = store.Hot(func(d store.Dialect) string {
		return `SELECT dedup_key, status, content_hash FROM alerts
			WHERE project_id = $1 AND ` + d.InJSONArray("dedup_key", "$2") + ` ORDER BY dedup_key` + d.ForUpdate()
	})
	qInsertAlert = store.Hot(func(store.Dialect) string {
		return insertAlertsPrefix + `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	})
	// An alert that fires again after it resolved is a new episode, which
	// nobody has acknowledged yet.
	qUpdateAlert = store.Hot(func(store.Dialect) string {
		return `UPDATE alerts SET source = $3, source_id = $4, service = $5, severity = $6, summary = $7,
			details = $8, status = $9, starts_at = $10, ends_at = $11, updated_at = $12, labels = $13, links = $14, content_hash = $15,
			acknowledged_at = CASE WHEN status = 'firing' THEN acknowledged_at ELSE 0 END
			WHERE project_id = $1 AND dedup_key = $2`
	})
)

const insertAlertsPrefix = `INSERT INTO alerts (project_id, dedup_key, source, source_id, service, severity, summary, details, status,
	starts_at, ends_at, updated_at, labels, links, content_hash) VALUES `

// row is what the stage reads of an alert's row before changing it: its
// status ("" when there is no row) and the hash of what it says.
type row struct {
	status, hash string
}

// Handle records an alert change and routes it, in the caller's
// transaction. A resolve of an alert that is not firing is dropped:
// nothing is recorded and nobody is told. A resent firing alert that
// says exactly what the recorded one says is not written again either.
func (s *Stage) Handle(ctx context.Context, tx *store.Tx, ch Change) error {
	a := ch.Alert
	var r row
	err := tx.QueryRowStmt(ctx, qAlertStatus, a.ProjectID, a.DedupKey).Scan(&r.status, &r.hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("load alert: %w", err)
	}
	d := decide(ch, r)
	if !d.write {
		return nil
	}
	if err := d.save(ctx, tx); err != nil {
		return err
	}
	if !d.tell {
		return nil
	}
	return s.route(ctx, tx, Recorded{Change: ch, Was: nightjar.AlertStatus(d.was)})
}

// maxKeys bounds the alerts HandleAll reads with one query.
const maxKeys = 500

// HandleAll does what Handle does for each change in turn, but reads the
// rows of all their alerts first, with one query per project (and per
// maxKeys alerts) instead of one per change. Changes of one alert later
// in the list see what the earlier ones recorded.
func (s *Stage) HandleAll(ctx context.Context, tx *store.Tx, chs []Change) error {
	if len(chs) == 1 {
		return s.Handle(ctx, tx, chs[0])
	}
	type key struct{ project, dedup string }
	rows := make(map[key]row, len(chs))
	keys := map[string][]string{}
	for _, ch := range chs {
		k := key{ch.Alert.ProjectID, ch.Alert.DedupKey}
		if _, ok := rows[k]; !ok {
			rows[k] = row{}
			keys[k.project] = append(keys[k.project], k.dedup)
		}
	}
	// Projects, and keys within each, in order: on PostgreSQL the rows are
	// locked in that order.
	for _, project := range slices.Sorted(maps.Keys(keys)) {
		dedup := keys[project]
		slices.Sort(dedup)
		for len(dedup) > 0 {
			n := min(len(dedup), maxKeys)
			list, err := json.Marshal(dedup[:n])
			if err != nil {
				return fmt.Errorf("load alerts: %w", err)
			}
			found, err := tx.QueryStmt(ctx, qAlertStatuses, project, string(list))
			if err != nil {
				return fmt.Errorf("load alerts: %w", err)
			}
			for found.Next() {
				var k string
				var r row
				if err := found.Scan(&k, &r.status, &r.hash); err != nil {
					found.Close()
					return fmt.Errorf("load alerts: %w", err)
				}
				rows[key{project, k}] = r
			}
			if err := errors.Join(found.Err(), found.Close()); err != nil {
				return fmt.Errorf("load alerts: %w", err)
			}
			dedup = dedup[n:]
		}
	}
	// Decide each change in turn, then write the rows, then route: routes
	// never read the alerts table, so they see what they saw when each
	// change was written and routed before the next. New alerts are
	// inserted first, which keeps each alert's writes in order: its
	// insert is its first.
	var inserts, updates []*decision
	var tell []Recorded
	batch := &Batch{}
	for _, ch := range chs {
		k := key{ch.Alert.ProjectID, ch.Alert.DedupKey}
		d := decide(ch, rows[k])
		rows[k] = d.now
		switch {
		case !d.write:
			continue
		case d.was == "":
			inserts = append(inserts, &d)
		default:
			updates = append(updates, &d)
		}
		if d.tell {
			tell = append(tell, Recorded{Change: ch, Was: nightjar.AlertStatus(d.was), Batch: batch})
		}
	}
	if err := insertAlerts(ctx, tx, inserts); err != nil {
		return err
	}
	for _, d := range updates {
		if err := d.save(ctx, tx); err != nil {
			return err
		}
	}
	for _, r := range tell {
		if err := s.route(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// decision is what the stage does with one change, given the row its
// alert had.
type decision struct {
	// was is the alert's status before the change; now its row after.
	was string
	now row
	// write says the row is written with args (the columns of
	// qInsertAlert and qUpdateAlert), tell that the change is routed.
	write, tell bool
	args        []any
}

// decide decides a change of the alert whose row was r: a resolve of an
// alert that is not firing is dropped, a resent firing alert that says
// what it said is not written again, and a resent one is told nobody.
func decide(ch Change, r row) decision {
	a := ch.Alert
	d := decision{was: r.status, now: r}
	if a.Status == nightjar.AlertResolved && d.was != string(nightjar.AlertFiring) {
		return d
	}
	resent := ch.Resent && d.was == string(nightjar.AlertFiring) && a.Status == nightjar.AlertFiring
	hash := contentHash(a)
	if resent && hash == r.hash {
		return d
	}
	details, labels, links := store.JSON(a.Details), store.JSON(a.Labels), store.JSON(a.Links)
	d.now = row{status: string(a.Status), hash: hash}
	d.write, d.tell = true, !resent
	d.args = []any{a.ProjectID, a.DedupKey, a.Source, a.SourceID, a.Service, string(a.Severity), a.Summary,
		details, string(a.Status), store.Millis(a.StartsAt), store.Millis(a.EndsAt), store.Millis(ch.At),
		labels, links, hash}
	return d
}

// save writes a decided change's row.
func (d *decision) save(ctx context.Context, tx *store.Tx) error {
	q := qUpdateAlert
	if d.was == "" {
		q = qInsertAlert
	}
	if _, err := tx.ExecStmt(ctx, q, d.args...); err != nil {
		return fmt.Errorf("save alert: %w", err)
	}
	return nil
}

// alertWidth is the number of columns of an alert row written.
const alertWidth = 15

// maxInsertRows bounds the rows of one multi-row insert, well under
// PostgreSQL's limit of parameters.
const maxInsertRows = 200

// insertAlerts inserts new alerts' rows: where the dialect writes batches
// with one statement, in as few statements as fit; else one by one.
func insertAlerts(ctx context.Context, tx *store.Tx, ds []*decision) error {
	if !tx.Dialect().MultiRow() || len(ds) == 1 {
		for _, d := range ds {
			if err := d.save(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	}
	for len(ds) > 0 {
		n := min(len(ds), maxInsertRows)
		args := make([]any, 0, n*alertWidth)
		for _, d := range ds[:n] {
			args = append(args, d.args...)
		}
		if _, err := tx.Exec(ctx, insertAlertsPrefix+store.Tuples(1, n, alertWidth, nil), args...); err != nil {
			return fmt.Errorf("save alerts: %w", err)
		}
		ds = ds[n:]
	}
	return nil
}

// contentHash sums what an alert says, as stored: the same alert sent
// again sums the same. It reads the alert's fields, not their stored
// JSON, so a resend that says nothing new costs no encoding; each text is
// summed with its length, so no two alerts' texts run together alike.
func contentHash(a *nightjar.Alert) string {
	h := sha256.New()
	var buf []byte
	put := func(s string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(s)))
		buf = append(buf, s...)
		h.Write(buf)
	}
	putMap := func(m map[string]string) {
		put(strconv.Itoa(len(m)))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			put(k)
			put(m[k])
		}
	}
	for _, s := range []string{a.Source, a.SourceID, a.Service, string(a.Severity), a.Summary, string(a.Status),
		strconv.FormatInt(store.Millis(a.StartsAt), 10), strconv.FormatInt(store.Millis(a.EndsAt), 10)} {
		put(s)
	}
	putMap(a.Details)
	putMap(a.Labels)
	put(strconv.Itoa(len(a.Links)))
	for _, l := range a.Links {
		put(l.Href)
		put(l.Text)
		put(l.Image)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// route asks the routes in order and queues what they send.
func (s *Stage) route(ctx context.Context, tx *store.Tx, r Recorded) error {
	for _, route := range s.routes {
		msgs, settled, err := route.Route(ctx, tx, r)
		if err != nil {
			return fmt.Errorf("route alert %s: %w", r.Alert.DedupKey, err)
		}
		if len(msgs) > 0 {
			if _, err := outbox.Enqueue(ctx, tx, r.At, msgs...); err != nil {
				return err
			}
		}
		if settled {
			return nil
		}
	}
	return nil
}

// Resolve resolves a firing alert whose source is going away (a deleted
// check) without any other change, telling the channels given as Handle
// would. An alert that is not firing, or does not exist, is left alone.
func (s *Stage) Resolve(ctx context.Context, tx *store.Tx, projectID, dedupKey string, channels []string, at time.Time) error {
	a, err := scanAlert(tx.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 AND dedup_key = $2`, projectID, dedupKey))
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	a.Status, a.EndsAt = nightjar.AlertResolved, at
	a.Summary = "Resolved: " + a.Summary
	return s.Handle(ctx, tx, Change{Alert: a, Channels: channels, At: at})
}

// List returns a project's alerts, firing first, newest first.
func (s *Stage) List(ctx context.Context, projectID string) ([]*nightjar.Alert, error) {
	return store.QueryAll(ctx, s.db, "list alerts", `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 ORDER BY status, starts_at DESC`, scanAlert, projectID)
}

const alertColumns = `project_id, dedup_key, source, source_id, service, severity, summary, details, status, starts_at, ends_at,
	labels, links, acknowledged_at`

func scanAlert(row store.Row) (*nightjar.Alert, error) {
	var a nightjar.Alert
	var sev, status, details, labels, links string
	var starts, ends, acked int64
	err := row.Scan(&a.ProjectID, &a.DedupKey, &a.Source, &a.SourceID, &a.Service, &sev, &a.Summary, &details, &status, &starts, &ends,
		&labels, &links, &acked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nightjar.Errorf(nightjar.ENOTFOUND, "alert not found")
	} else if err != nil {
		return nil, fmt.Errorf("scan alert: %w", err)
	}
	a.Severity, a.Status, a.StartsAt, a.EndsAt = nightjar.Severity(sev), nightjar.AlertStatus(status), store.Time(starts), store.Time(ends)
	a.AcknowledgedAt = store.Time(acked)
	for _, part := range []struct {
		name, json string
		into       any
	}{{"details", details, &a.Details}, {"labels", labels, &a.Labels}, {"links", links, &a.Links}} {
		if err := json.Unmarshal([]byte(part.json), part.into); err != nil {
			return nil, fmt.Errorf("decode alert %s: %w", part.name, err)
		}
	}
	return &a, nil
}

// Get returns one of a project's alerts by its dedup key.
func (s *Stage) Get(ctx context.Context, projectID, dedupKey string) (*nightjar.Alert, error) {
	return scanAlert(s.db.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 AND dedup_key = $2`, projectID, dedupKey))
}

// Alerts returns a project's alerts with the given dedup keys, in the order
// of keys, leaving out keys that name no alert. It reads through q, so a
// later stage (incidents) can carry, in its own transaction, the alerts as
// their sources last sent them: their labels, details and links.
func Alerts(ctx context.Context, q store.Querier, projectID string, keys ...string) ([]*nightjar.Alert, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := []any{projectID}
	for _, k := range keys {
		args = append(args, k)
	}
	found, err := store.QueryAll(ctx, q, "read alerts", `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 AND dedup_key IN (`+
		store.Placeholders(2, len(keys))+`)`, scanAlert, args...)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*nightjar.Alert, len(found))
	for _, a := range found {
		byKey[a.DedupKey] = a
	}
	out := make([]*nightjar.Alert, 0, len(found))
	for _, k := range keys {
		if a := byKey[k]; a != nil {
			out = append(out, a)
			delete(byKey, k)
		}
	}
	return out, nil
}

// Acknowledger is a route that wants to hear when a sender acknowledges
// an alert (a PagerDuty-style acknowledge event): the incident route
// acknowledges the incident holding the alert, which stops its
// escalation. The stage tells every route that is one, in order.
type Acknowledger interface {
	// Acknowledge runs in the acknowledging transaction with the alert
	// as it is now, AcknowledgedAt set.
	Acknowledge(ctx context.Context, tx *store.Tx, a *nightjar.Alert) error
}

// Acknowledge records, in the caller's transaction, that a sender
// acknowledged a firing alert, and tells the routes that are
// Acknowledgers. Only the first acknowledgement of a firing alert counts;
// one of an alert that is not firing, not there, or acknowledged already
// changes nothing, as PagerDuty ignores it. It reports whether the alert
// was acknowledged now.
func (s *Stage) Acknowledge(ctx context.Context, tx *store.Tx, projectID, dedupKey string, at time.Time) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE alerts SET acknowledged_at = $3, updated_at = $3
		WHERE project_id = $1 AND dedup_key = $2 AND status = 'firing' AND acknowledged_at = 0`, projectID, dedupKey, store.Millis(at))
	if err != nil {
		return false, fmt.Errorf("acknowledge alert: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	a, err := scanAlert(tx.QueryRow(ctx, `SELECT `+alertColumns+` FROM alerts WHERE project_id = $1 AND dedup_key = $2`, projectID, dedupKey))
	if err != nil {
		return false, err
	}
	for _, r := range s.routes {
		if ack, ok := r.(Acknowledger); ok {
			if err := ack.Acknowledge(ctx, tx, a); err != nil {
				return false, fmt.Errorf("acknowledge alert %s: %w", dedupKey, err)
			}
		}
	}
	return true, nil
}

// DefaultRoute is today's rule, and the last route of every stage: an
// alert change goes to the channels its source chose, or to every channel
// of the project when the source chose none. It settles every change.
type DefaultRoute struct{}

// Route implements Route.
func (DefaultRoute) Route(ctx context.Context, tx *store.Tx, r Recorded) ([]outbox.Message, bool, error) {
	a := r.Alert
	ids, err := Remember(r.Batch, "channels "+a.ProjectID, func() ([]string, error) { return channels.IDsTx(ctx, tx, a.ProjectID) })
	if err != nil {
		return nil, false, err
	}
	event := notify.AlertEvent(a.Status)
	var msgs []outbox.Message
	for _, id := range ids {
		if r.Channels != nil && !slices.Contains(r.Channels, id) {
			continue
		}
		msgs = append(msgs, outbox.Message{ProjectID: a.ProjectID, To: outbox.Destination{Kind: outbox.ToChannel, ID: id},
			Event: event, Alert: *a})
	}
	return msgs, true, nil
}

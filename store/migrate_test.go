package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Notifications written before the outbox was general read back after its
// migration as messages to their channel, with their id as their
// idempotency key, their alert as it was and their delivery state kept;
// and deleting the channel still deletes them.
func TestOutboxMigrationKeepsOldNotifications(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			alert := nightjar.Alert{ProjectID: "p1", DedupKey: "check:c1", Source: "check", SourceID: "c1", Service: "billing",
				Severity: nightjar.SeverityPage, Summary: "nightly is down", Details: map[string]string{"check": "nightly"},
				Status: nightjar.AlertResolved, StartsAt: t0, EndsAt: t0.Add(time.Hour)}
			payload, _ := json.Marshal(alert)
			dsn := olderDatabase(t, dialect, 5,
				oldRow{`INSERT INTO projects (id, name, ping_key, created_at) VALUES ('p1', 'P', 'pk', $1)`, []any{oldMillis(0)}},
				oldRow{`INSERT INTO channels (id, project_id, kind, name, config, created_at) VALUES ('ch1', 'p1', 'webhook', 'hook', '{"url":"https://h.example/"}', $1)`, []any{oldMillis(0)}},
				oldRow{`INSERT INTO outbox (id, project_id, channel_id, event, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at, leased_until)
					VALUES ('waiting', 'p1', 'ch1', 'alert.resolved', $1, 'pending', 2, $2, '503 busy', $3, 0, 0)`, []any{string(payload), oldMillis(5 * time.Minute), oldMillis(time.Minute)}},
				oldRow{`INSERT INTO outbox (id, project_id, channel_id, event, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at, leased_until)
					VALUES ('sent', 'p1', 'ch1', 'alert.resolved', $1, 'sent', 1, $2, '', $2, $3, 0)`, []any{string(payload), oldMillis(0), oldMillis(time.Second)}})

			db, err := store.Open(ctx, dsn, store.Options{Synchronous: "NORMAL"})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ob := outbox.New(db)
			want := outbox.Message{ProjectID: "p1", To: outbox.Destination{Kind: outbox.ToChannel, ID: "ch1"}, Event: "alert.resolved", Alert: alert}
			for _, w := range []struct {
				id, status, lastError string
				attempts              int
				next, sent            time.Time
			}{
				{"waiting", outbox.Pending, "503 busy", 2, t0.Add(5 * time.Minute), time.Time{}},
				{"sent", outbox.Sent, "", 1, t0, t0.Add(time.Second)},
			} {
				it, err := ob.Entry(ctx, "p1", w.id)
				if err != nil {
					t.Fatal(err)
				}
				want.IdempotencyKey = w.id
				if !reflect.DeepEqual(it.Message, want) {
					t.Errorf("%s read back as\n%+v\nwant\n%+v", w.id, it.Message, want)
				}
				if it.Status != w.status || it.LastError != w.lastError || it.Attempts != w.attempts ||
					!it.NextAttemptAt.Equal(w.next) || !it.SentAt.Equal(w.sent) {
					t.Errorf("%s: delivery state %+v", w.id, it)
				}
			}
			items, err := ob.Claim(ctx, t0.Add(5*time.Minute), outbox.Claim{Limit: 5, Lease: time.Minute, PerDestination: 1, PerProject: 1})
			if err != nil || len(items) != 1 || items[0].ID != "waiting" || items[0].Attempts != 3 {
				t.Fatalf("claim after the migration: %+v %v", items, err)
			}
			if err := channels.New(db).Delete(ctx, "p1", "ch1"); err != nil {
				t.Fatal(err)
			}
			if left, err := ob.ByProject(ctx, "p1", 10); err != nil || len(left) != 0 {
				t.Fatalf("messages of the deleted channel: %+v %v", left, err)
			}
		})
	}
}

// Notification entries written before timeline entries kept their own
// delivery results take them from their messages when migrated, and keep
// them once the outbox prunes the messages.
func TestTimelineDeliveryMigration(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			dsn := olderDatabase(t, dialect, 10,
				oldRow{`INSERT INTO projects (id, name, ping_key, created_at) VALUES ('p1', 'P', 'pk', $1)`, []any{oldMillis(0)}},
				oldRow{`INSERT INTO incidents (id, project_id, number, title, service, urgency, status, policy_id, assignee, commander,
					responders, channels, created_at, acked_at, resolved_at, esc_since, esc_fired, esc_next)
					VALUES ('i1', 'p1', 1, 'db is down', 'checkout', 'page', 'resolved', '', '', '', '[]', '[]', $1, 0, $2, $1, 1, 0)`, []any{oldMillis(0), oldMillis(time.Hour)}},
				oldRow{`INSERT INTO outbox (id, project_id, destination_kind, destination_id, idempotency_key, event, payload, status, attempts,
					next_attempt_at, leased_until, last_error, created_at, sent_at)
					VALUES ('m1', 'p1', 'contact', 'c1', 'm1', 'incident.page', '{}', 'sent', 2, $1, 0, '', $1, $2)`, []any{oldMillis(0), oldMillis(time.Minute)}},
				oldRow{`INSERT INTO incident_timeline (incident_id, at, kind, actor, text, dedup_key, users, channels, outbox_id)
					VALUES ('i1', $1, 'notification', '', 'page to u1 by webhook', '', '["u1"]', '[]', 'm1')`, []any{oldMillis(0)}},
				oldRow{`INSERT INTO incident_timeline (incident_id, at, kind, actor, text, dedup_key, users, channels, outbox_id)
					VALUES ('i1', $1, 'note', 'u1', 'looking', '', '[]', '[]', '')`, []any{oldMillis(time.Minute)}})

			db, err := store.Open(ctx, dsn, store.Options{Synchronous: "NORMAL"})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := outbox.New(db).Prune(ctx, t0.Add(60*24*time.Hour), 30*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			tl, err := incidents.New(db).Timeline(ctx, "p1", "i1")
			if err != nil {
				t.Fatal(err)
			}
			if len(tl) != 2 || tl[1].Delivery != nil {
				t.Fatalf("timeline = %+v", tl)
			}
			if d := tl[0].Delivery; d == nil || d.Status != outbox.Sent || d.Attempts != 2 || !d.SentAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("notification's delivery after the migration and a prune: %+v", d)
			}
		})
	}
}

// oldRow is one statement an older Nightjar ran, with its arguments.
type oldRow struct {
	sql  string
	args []any
}

// olderDatabase makes a database migrated up to version only, writes rows
// into it as the Nightjar of that version would have, and returns its dsn
// for Open to take the rest of the way.
func olderDatabase(t *testing.T, dialect string, version int64, rows ...oldRow) string {
	t.Helper()
	ctx := context.Background()
	dsn, driver := storetest.SQLitePath(t), "sqlite"
	source := "file:" + dsn
	if dialect == "postgres" {
		dsn = storetest.PostgresURL(t)
		driver, source = "pgx", dsn
	}
	if err := store.MigrateTo(ctx, dsn, version); err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	for _, q := range rows {
		if _, err := old.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%.60s: %v", strings.TrimSpace(q.sql), err)
		}
	}
	return dsn
}

// oldMillis is t0 moved by d, in the milliseconds rows hold.
func oldMillis(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

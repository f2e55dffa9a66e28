package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// alertTo is a firing alert's message in p to a channel named by id.
func alertTo(p *nightjar.Project, channelID, dedupKey string) outbox.Message {
	return outbox.Message{ProjectID: p.ID, To: outbox.Destination{Kind: outbox.ToChannel, ID: channelID}, Event: notify.EventAlertFiring,
		Alert: nightjar.Alert{ProjectID: p.ID, DedupKey: dedupKey, Source: "check", Severity: nightjar.SeverityPage,
			Summary: dedupKey + " is down", Status: nightjar.AlertFiring, StartsAt: t0}}
}

// enqueue writes msgs at the given time.
func enqueue(t *testing.T, db *store.DB, at time.Time, msgs ...outbox.Message) []string {
	t.Helper()
	ids, err := outbox.New(db).Enqueue(context.Background(), at, msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// alerts queues n firing alerts in p for one channel.
func alerts(t *testing.T, db *store.DB, p *nightjar.Project, channelID string, n int, at time.Time) {
	t.Helper()
	var msgs []outbox.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, alertTo(p, channelID, fmt.Sprintf("check:%s-%d", channelID, i)))
	}
	enqueue(t, db, at, msgs...)
}

func byDestination(items []*outbox.Item) map[string]int {
	n := map[string]int{}
	for _, it := range items {
		n[it.To.ID]++
	}
	return n
}

// A message keeps what it was written with: its destination, event, alert
// and idempotency key, which is its own id unless its producer chose one.
func TestEnqueueKeepsTheMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		plain := alertTo(p, "ch-1", "check:a")
		plain.Alert.Details = map[string]string{"check": "a"}
		keyed := alertTo(p, "ch-2", "check:b")
		keyed.Event, keyed.Alert.Status, keyed.Alert.EndsAt = notify.EventAlertResolved, nightjar.AlertResolved, t0.Add(time.Hour)
		keyed.IdempotencyKey = "alert:check:b:resolved"
		ids := enqueue(t, db, t0, plain, keyed)
		if len(ids) != 2 || ids[0] == ids[1] {
			t.Fatalf("ids %v", ids)
		}
		ob := outbox.New(db)
		for i, want := range []outbox.Message{plain, keyed} {
			it, err := ob.Entry(ctx, p.ID, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			if want.IdempotencyKey == "" {
				want.IdempotencyKey = ids[i]
			}
			if !reflect.DeepEqual(it.Message, want) {
				t.Errorf("message %d read back as\n%+v\nwant\n%+v", i, it.Message, want)
			}
			if it.Status != outbox.Pending || it.Attempts != 0 || !it.CreatedAt.Equal(t0) || !it.NextAttemptAt.Equal(t0) {
				t.Errorf("message %d: %+v", i, it)
			}
		}
	})
}

// A message's destination need not be a channel: a person's contact
// method is no row of the channels table, and its messages are written,
// claimed, listed and delivered the same.
func TestDestinationsOtherThanChannels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		page := alertTo(p, "", "check:a")
		page.To = outbox.Destination{Kind: outbox.ToContact, ID: "contact-1"}
		id := enqueue(t, db, t0, page)[0]
		ob := outbox.New(db)
		items, err := ob.Claim(ctx, t0, outbox.Claim{Limit: 5, Lease: time.Minute, PerDestination: 1, PerProject: 5})
		if err != nil || len(items) != 1 || items[0].ID != id || items[0].To != page.To {
			t.Fatalf("claim: %+v %v", items, err)
		}
		if err := ob.Finish(ctx, items[0], t0, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		listed, err := ob.ByProject(ctx, p.ID, 10)
		if err != nil || len(listed) != 1 || listed[0].Status != outbox.Sent || listed[0].To.String() != "contact:contact-1" {
			t.Fatalf("listing: %+v %v", listed, err)
		}
	})
}

// A malformed message is refused before anything is written.
func TestEnqueueRefusesMalformedMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		for name, mod := range map[string]func(m *outbox.Message){
			"unknown kind":   func(m *outbox.Message) { m.To.Kind = "pager" },
			"no destination": func(m *outbox.Message) { m.To.ID = "" },
			"no project":     func(m *outbox.Message) { m.ProjectID = "" },
			"no event":       func(m *outbox.Message) { m.Event = "" },
		} {
			good, bad := alertTo(p, "ch", "check:a"), alertTo(p, "ch", "check:b")
			mod(&bad)
			if _, err := outbox.New(db).Enqueue(ctx, t0, good, bad); err == nil {
				t.Errorf("%s: enqueued", name)
			}
		}
		if n, err := outbox.New(db).Depth(ctx); err != nil || n != 0 {
			t.Fatalf("depth %d, %v after refused messages", n, err)
		}
	})
}

// Enqueue is on the hot path (an alert raised by a ping writes its
// messages in the ping's transaction), so on SQLite it runs a statement
// prepared when the database opened.
func TestEnqueueRunsPreparedStatements(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	p := storetest.NewProject(t, db, "P", t0)
	before := db.UnpreparedStatements()
	enqueue(t, db, t0, alertTo(p, "ch", "check:a"), alertTo(p, "ch", "check:b"))
	if n := db.UnpreparedStatements() - before; n != 0 {
		t.Fatalf("Enqueue ran %d statements that were not prepared; declare them with store.Hot", n)
	}
}

// A destination's backlog does not hold back another destination's
// message, nor one project's destinations another project's: each
// destination and project has at most its share of the attempts in
// flight, counted over every sender sharing the database.
func TestClaimIsFair(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := outbox.New(db)
		busy := storetest.NewProject(t, db, "Busy", t0)
		alerts(t, db, busy, "slow", 60, t0.Add(61*time.Minute)) // 60 alerts for the slow channel, all due at once
		quiet := storetest.NewProject(t, db, "Quiet", t0)
		alerts(t, db, quiet, "healthy", 1, t0.Add(61*time.Minute))
		// Busy's second channel gets one message, newer than the rest.
		test := alertTo(busy, "other", "test:other")
		test.Event = notify.EventTest
		enqueue(t, db, t0.Add(61*time.Minute+30*time.Second), test)

		now := t0.Add(62 * time.Minute)
		limits := outbox.Claim{Limit: 10, Lease: 2 * time.Minute, PerDestination: 2, PerProject: 3}
		first, err := ob.Claim(ctx, now, limits)
		if err != nil {
			t.Fatal(err)
		}
		got := byDestination(first)
		if got["slow"] != 2 || got["healthy"] != 1 || got["slow"]+got["other"] != 3 || len(first) != 4 {
			t.Fatalf("first claim took %v, want 2 of slow, 1 of other and the healthy one", got)
		}
		// Another sender on the same database: busy is at its share, and
		// the healthy channel has nothing more; nothing to take.
		if again, err := ob.Claim(ctx, now.Add(time.Second), limits); err != nil || len(again) != 0 {
			t.Fatalf("second claim while the first's leases hold: %v %v", byDestination(again), err)
		}
		// One slow attempt ends: its channel gets one more turn, no more.
		for _, it := range first {
			if it.To.ID == "slow" {
				if err := ob.Finish(ctx, it, now.Add(30*time.Second), fmt.Errorf("timed out"), now.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		next, err := ob.Claim(ctx, now.Add(31*time.Second), limits)
		if err != nil || len(next) != 1 || next[0].To.ID != "slow" {
			t.Fatalf("after one attempt ended: %v %v", byDestination(next), err)
		}
	})
}

// Destinations are told apart by kind as well as id: a contact and a
// channel that happen to share an id each get their own share.
func TestClaimSharesAreByDestinationKindAndID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		page := alertTo(p, "", "check:a")
		page.To = outbox.Destination{Kind: outbox.ToContact, ID: "same"}
		enqueue(t, db, t0, alertTo(p, "same", "check:a"), alertTo(p, "same", "check:b"), page)
		items, err := outbox.New(db).Claim(ctx, t0, outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 1, PerProject: 10})
		if err != nil || len(items) != 2 || items[0].To.Kind == items[1].To.Kind {
			t.Fatalf("claim: %+v %v, want one message to the channel and one to the contact", items, err)
		}
	})
}

// A leased message is not claimed again until its lease runs out; a
// sender that lost its lease cannot record its late result over the next
// sender's; a retry waits for its time.
func TestLeaseFenceAndRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := outbox.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		id := enqueue(t, db, t0.Add(70*time.Minute), alertTo(p, "hook", "check:a"))[0]
		claim := func(at time.Duration) []*outbox.Item {
			t.Helper()
			items, err := ob.Claim(ctx, t0.Add(at), outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 2, PerProject: 2})
			if err != nil {
				t.Fatal(err)
			}
			return items
		}
		items := claim(71 * time.Minute)
		if len(items) != 1 || items[0].ID != id || items[0].Attempts != 1 {
			t.Fatalf("claim = %+v", items)
		}
		if again := claim(71 * time.Minute); len(again) != 0 {
			t.Fatal("a leased message was claimed twice")
		}
		// The lease runs out (the sender died): it is claimed again.
		again := claim(73 * time.Minute)
		if len(again) != 1 || again[0].Attempts != 2 {
			t.Fatalf("after lease expiry: %+v", again)
		}
		// The first sender's late result is not recorded over the second's.
		if err := ob.Finish(ctx, items[0], t0.Add(73*time.Minute), nil, time.Time{}); nightjar.ErrorCode(err) != nightjar.ECONFLICT {
			t.Fatalf("finish after losing the lease: %v", err)
		}
		if err := ob.Finish(ctx, again[0], t0.Add(73*time.Minute), fmt.Errorf("503"), t0.Add(80*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, _ := ob.Depth(ctx); n != 1 {
			t.Fatalf("outbox depth %d, want 1", n)
		}
		if items := claim(79 * time.Minute); len(items) != 0 {
			t.Fatal("claimed before its retry time")
		}
		items = claim(80 * time.Minute)
		if len(items) != 1 {
			t.Fatal("not claimed at its retry time")
		}
		if err := ob.Finish(ctx, items[0], t0.Add(80*time.Minute), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		entry, err := ob.Entry(ctx, p.ID, id)
		if err != nil || entry.Status != outbox.Sent || entry.Attempts != 3 || !entry.SentAt.Equal(t0.Add(80*time.Minute)) || entry.LastError != "" {
			t.Fatalf("entry = %+v, %v", entry, err)
		}
		if n, _ := ob.Depth(ctx); n != 0 {
			t.Fatalf("outbox depth %d after delivery", n)
		}
	})
}

// Two workers claiming at once never get the same message.
func TestConcurrentClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := outbox.New(db)
		const n = 40
		for i := 0; i < n; i++ {
			p := storetest.NewProject(t, db, fmt.Sprintf("P%d", i), t0)
			alerts(t, db, p, "hook-"+p.ID, 1, t0)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					items, err := ob.Claim(ctx, t0, outbox.Claim{Limit: 3, Lease: time.Hour, PerDestination: 1, PerProject: 1})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, it := range items {
						seen[it.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("message %s claimed %d times", id, n)
			}
		}
		// Whatever the workers skipped while others held it is claimed now.
		rest, err := ob.Claim(ctx, t0, outbox.Claim{Limit: n, Lease: time.Hour, PerDestination: 1, PerProject: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range rest {
			if seen[it.ID] > 0 {
				t.Fatalf("message %s claimed again while leased", it.ID)
			}
			seen[it.ID]++
		}
		if len(seen) != n {
			t.Fatalf("claimed %d distinct messages, want %d", len(seen), n)
		}
	})
}

// A failed delivery's error quotes what a receiving server said; it is
// stored however it is made up, cut on a character boundary.
func TestDeliveryErrorStoredSafely(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := outbox.New(db)
		p := storetest.NewProject(t, db, "Alpha", t0)
		id := enqueue(t, db, t0, alertTo(p, "hook", "check:a"))[0]
		claim := func(at time.Time) *outbox.Item {
			t.Helper()
			items, err := ob.Claim(ctx, at, outbox.Claim{Limit: 1, Lease: time.Minute, PerDestination: 1, PerProject: 1})
			if err != nil || len(items) != 1 || items[0].ID != id {
				t.Fatalf("claim at %v: %v, %v", at, items, err)
			}
			return items[0]
		}
		// The 1,000th byte falls inside an "é".
		msg := "a" + strings.Repeat("é", 1200) + "\xff\x00"
		if err := ob.Finish(ctx, claim(t0), t0, errors.New(msg), t0.Add(time.Minute)); err != nil {
			t.Fatalf("finish with a retry: %v", err)
		}
		it, err := ob.Entry(ctx, p.ID, id)
		if err != nil || !nightjar.ValidText(it.LastError) || utf8.RuneCountInString(it.LastError) != 1000 || !strings.HasPrefix(it.LastError, "aé") {
			t.Fatalf("last error %q (%d characters), %v", it.LastError, utf8.RuneCountInString(it.LastError), err)
		}
		if err := ob.Finish(ctx, claim(t0.Add(time.Minute)), t0, errors.New("server said \xff\x00"), time.Time{}); err != nil {
			t.Fatalf("finish as failed: %v", err)
		}
		if it, err = ob.Entry(ctx, p.ID, id); err != nil || it.LastError != "server said \uFFFD\uFFFD" || it.Status != outbox.Failed {
			t.Fatalf("last error %q, status %s, %v", it.LastError, it.Status, err)
		}
	})
}

// Reads of a message name it by an id from a URL: one that is not text is
// refused as invalid on both databases; one of another project is not
// found.
func TestEntryByOutsideID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := outbox.New(db)
		p, other := storetest.NewProject(t, db, "P", t0), storetest.NewProject(t, db, "Other", t0)
		id := enqueue(t, db, t0, alertTo(p, "hook", "check:a"))[0]
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			if _, err := ob.Entry(ctx, p.ID, bad); nightjar.ErrorCode(err) != nightjar.EINVALID {
				t.Errorf("entry %q: %v, want EINVALID", bad, err)
			}
		}
		if _, err := ob.Entry(ctx, other.ID, id); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Errorf("another project's message: %v, want ENOTFOUND", err)
		}
		if items, err := ob.ByProject(ctx, other.ID, 10); err != nil || len(items) != 0 {
			t.Errorf("another project's listing: %v %v", items, err)
		}
	})
}

// Retention deletes messages sent or given up on once they are old
// enough, and never a waiting one.
func TestPrune(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ob := outbox.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		ids := enqueue(t, db, t0, alertTo(p, "a", "check:sent"), alertTo(p, "b", "check:failed"))
		items, err := ob.Claim(ctx, t0, outbox.Claim{Limit: 2, Lease: time.Minute, PerDestination: 1, PerProject: 2})
		if err != nil || len(items) != 2 {
			t.Fatalf("claim: %v %v", items, err)
		}
		if err := ob.Finish(ctx, items[0], t0, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := ob.Finish(ctx, items[1], t0, errors.New("410 gone"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		pending := enqueue(t, db, t0, alertTo(p, "a", "check:waiting"))[0]
		recent := enqueue(t, db, t0.Add(24*time.Hour), alertTo(p, "a", "check:recent"))[0]
		claimed, err := ob.Claim(ctx, t0.Add(24*time.Hour), outbox.Claim{Limit: 1, Lease: time.Minute, PerDestination: 1, PerProject: 1})
		if err != nil || len(claimed) != 1 || claimed[0].ID != pending {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if err := ob.Finish(ctx, claimed[0], t0.Add(24*time.Hour), errors.New("503"), t0.Add(25*time.Hour)); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(31 * 24 * time.Hour)
		n, err := ob.Prune(ctx, now, 30*24*time.Hour)
		if err != nil || n != 2 {
			t.Fatalf("pruned %d messages, %v; want the sent and the failed one", n, err)
		}
		for _, id := range ids {
			if _, err := ob.Entry(ctx, p.ID, id); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
				t.Fatalf("finished message %s kept: %v", id, err)
			}
		}
		for _, id := range []string{pending, recent} {
			if _, err := ob.Entry(ctx, p.ID, id); err != nil {
				t.Fatalf("waiting message %s pruned: %v", id, err)
			}
		}
	})
}

// Delivery hears of messages once their transaction commits, so it can
// send them at once: not before the commit, not for a rollback, and one
// pending signal stands for any number of commits.
func TestQueuedSignalsCommittedMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		signalled := func() bool {
			select {
			case <-ob.Queued():
				return true
			default:
				return false
			}
		}
		if signalled() {
			t.Fatal("a signal before anything was written")
		}
		rollback := errors.New("the change failed")
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := outbox.Enqueue(ctx, tx, t0, alertTo(p, "ch-1", "check:a")); err != nil {
				return err
			}
			if signalled() {
				t.Error("a signal before the commit")
			}
			return rollback
		})
		if !errors.Is(err, rollback) || signalled() {
			t.Fatalf("after a rollback: %v, or a signal", err)
		}
		enqueue(t, db, t0, alertTo(p, "ch-1", "check:a"))
		enqueue(t, db, t0, alertTo(p, "ch-1", "check:b"))
		if !signalled() || signalled() {
			t.Fatal("two commits must leave exactly one signal")
		}
		if _, err := ob.Enqueue(ctx, t0); err != nil || signalled() {
			t.Fatalf("writing no message signalled, or failed: %v", err)
		}
	})
}

// recorder keeps the results it is told, and refuses while failing.
type recorder struct {
	got     []string
	failing bool
}

func (r *recorder) RecordDelivery(ctx context.Context, tx *store.Tx, id string, res outbox.Result) error {
	if r.failing {
		return errors.New("recorder is down")
	}
	r.got = append(r.got, fmt.Sprintf("%s %s %d %q", id, res.Status, res.Attempts, res.LastError))
	return nil
}

// Finish tells the outbox's recorders each result in its own transaction:
// a result a recorder could not keep is not recorded in the outbox either,
// and the attempt can be finished again. A delivery error that is
// ErrCancelled ends the message cancelled, with the error as the reason.
func TestFinishTellsRecorders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ids := enqueue(t, db, t0, alertTo(p, "a", "check:a"), alertTo(p, "b", "check:b"))
		rec := &recorder{}
		ob := outbox.New(db, rec)
		items, err := ob.Claim(ctx, t0, outbox.Claim{Limit: 5, Lease: time.Minute, PerDestination: 1, PerProject: 5})
		if err != nil || len(items) != 2 {
			t.Fatalf("claim: %+v %v", items, err)
		}
		byID := map[string]*outbox.Item{items[0].ID: items[0], items[1].ID: items[1]}

		rec.failing = true
		if err := ob.Finish(ctx, byID[ids[0]], t0, nil, time.Time{}); err == nil {
			t.Fatal("finish succeeded while its recorder failed")
		}
		if it, err := ob.Entry(ctx, p.ID, ids[0]); err != nil || it.Status != outbox.Pending {
			t.Fatalf("after a failed record: %+v %v", it, err)
		}
		rec.failing = false
		if err := ob.Finish(ctx, byID[ids[0]], t0, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := ob.Finish(ctx, byID[ids[1]], t0, fmt.Errorf("%w: the destination is gone", outbox.ErrCancelled), time.Time{}); err != nil {
			t.Fatal(err)
		}
		want := []string{ids[0] + ` sent 1 ""`, ids[1] + ` cancelled 1 "not sent: the destination is gone"`}
		if !reflect.DeepEqual(rec.got, want) {
			t.Fatalf("recorded %q, want %q", rec.got, want)
		}
		if it, err := ob.Entry(ctx, p.ID, ids[1]); err != nil || it.Status != outbox.Cancelled || it.LastError != "not sent: the destination is gone" {
			t.Fatalf("cancelled message: %+v %v", it, err)
		}
	})
}

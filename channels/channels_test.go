package channels_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newHook makes a webhook channel in p.
func newHook(t *testing.T, svc *channels.Service, p *nightjar.Project, name string) *nightjar.Channel {
	t.Helper()
	ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: name, Config: nightjar.ChannelConfig{URL: "https://" + name + ".example/hook"}}
	if err := svc.Create(context.Background(), ch, t0); err != nil {
		t.Fatal(err)
	}
	return ch
}

// A channel is created, read, listed, changed and deleted within its
// project only; what is invalid is refused by the domain's rules.
func TestChannelLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := channels.New(db)
		p, other := storetest.NewProject(t, db, "P", t0), storetest.NewProject(t, db, "Other", t0)
		hook := newHook(t, svc, p, "hook")
		mail := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelEmail, Name: "ops", Config: nightjar.ChannelConfig{To: []string{"ops@example.com"}}}
		if err := svc.Create(ctx, mail, t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := svc.Create(ctx, &nightjar.Channel{ID: hook.ID, ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "again",
			Config: nightjar.ChannelConfig{URL: "https://again.example/"}}, t0); nightjar.ErrorCode(err) != nightjar.ECONFLICT {
			t.Fatalf("a second channel with the id: %v", err)
		}
		if err := svc.Create(ctx, &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "bad"}, t0); nightjar.ErrorCode(err) != nightjar.EINVALID {
			t.Fatalf("a webhook without a URL: %v", err)
		}
		got, err := svc.Get(ctx, p.ID, hook.ID)
		if err != nil || got.Name != "hook" || got.Config.URL != hook.Config.URL || !got.CreatedAt.Equal(t0) {
			t.Fatalf("get: %+v %v", got, err)
		}
		if _, err := svc.Get(ctx, other.ID, hook.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("get from another project: %v", err)
		}
		list, err := svc.List(ctx, p.ID)
		if err != nil || len(list) != 2 || list[0].ID != hook.ID || list[1].ID != mail.ID {
			t.Fatalf("list: %+v %v", list, err)
		}
		if list, err := svc.List(ctx, other.ID); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("another project's list: %#v %v", list, err)
		}

		edited, err := svc.Edit(ctx, p.ID, hook.ID, func(ch *nightjar.Channel) error {
			ch.Name, ch.ProjectID, ch.ID = "renamed", other.ID, "moved"
			return nil
		})
		if err != nil || edited.Name != "renamed" || edited.ID != hook.ID || edited.ProjectID != p.ID {
			t.Fatalf("edit: %+v %v", edited, err)
		}
		if _, err := svc.Edit(ctx, p.ID, hook.ID, func(ch *nightjar.Channel) error { ch.Config.URL = "ftp://x"; return nil }); nightjar.ErrorCode(err) != nightjar.EINVALID {
			t.Fatalf("edit to an invalid URL: %v", err)
		}
		if _, err := svc.Edit(ctx, other.ID, hook.ID, func(*nightjar.Channel) error { return nil }); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("edit from another project: %v", err)
		}
		mail.Name, mail.Config.To = "oncall", []string{"oncall@example.com"}
		if err := svc.Update(ctx, mail); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Get(ctx, p.ID, mail.ID); got.Name != "oncall" || got.Config.To[0] != "oncall@example.com" {
			t.Fatalf("after update: %+v", got)
		}
		if err := svc.Update(ctx, &nightjar.Channel{ID: "missing", ProjectID: p.ID, Kind: nightjar.ChannelEmail, Name: "x",
			Config: nightjar.ChannelConfig{To: []string{"x@example.com"}}}); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("update of a missing channel: %v", err)
		}

		if err := svc.Delete(ctx, other.ID, hook.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("delete from another project: %v", err)
		}
		if err := svc.Delete(ctx, p.ID, hook.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, p.ID, hook.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("get after delete: %v", err)
		}
		if err := svc.Delete(ctx, p.ID, hook.ID); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("second delete: %v", err)
		}
	})
}

// The Tx functions see and change what the caller's transaction does, and
// nothing of it stays when the transaction fails.
func TestChannelsInACallersTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := channels.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: "https://h.example/"}}
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			if err := channels.CreateTx(ctx, tx, ch, t0); err != nil {
				return err
			}
			ch.Name = "renamed"
			if err := channels.UpdateTx(ctx, tx, ch); err != nil {
				return err
			}
			list, err := channels.ListTx(ctx, tx, p.ID)
			if err != nil || len(list) != 1 || list[0].Name != "renamed" {
				t.Errorf("inside the transaction: %+v %v", list, err)
			}
			return fmt.Errorf("roll back")
		})
		if err == nil {
			t.Fatal("the transaction did not fail")
		}
		if list, err := svc.List(ctx, p.ID); err != nil || len(list) != 0 {
			t.Fatalf("after the rollback: %+v %v", list, err)
		}
	})
}

// Ids and project ids come from URLs: one that is not text is refused as
// invalid on both databases, never a server error.
func TestChannelsRefuseBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := channels.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			if _, err := svc.List(ctx, bad); nightjar.ErrorCode(err) != nightjar.EINVALID {
				t.Errorf("list %q: %v", bad, err)
			}
			if _, err := svc.Get(ctx, p.ID, bad); nightjar.ErrorCode(err) != nightjar.EINVALID {
				t.Errorf("get %q: %v", bad, err)
			}
			if err := svc.Delete(ctx, p.ID, bad); nightjar.ErrorCode(err) != nightjar.EINVALID {
				t.Errorf("delete %q: %v", bad, err)
			}
		}
	})
}

// Deleting a channel deletes its messages, waiting or delivered, and no
// other channel's: the outbox does not reference the channels table, so
// the channels area does what a foreign key did.
func TestDeleteRemovesTheChannelsMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, ob := channels.New(db), outbox.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		gone, kept := newHook(t, svc, p, "gone"), newHook(t, svc, p, "kept")
		sent, err := svc.SendTest(ctx, gone, t0)
		if err != nil {
			t.Fatal(err)
		}
		items, err := ob.Claim(ctx, t0, outbox.Claim{Limit: 1, Lease: time.Minute, PerDestination: 1, PerProject: 1})
		if err != nil || len(items) != 1 || items[0].ID != sent {
			t.Fatalf("claim: %+v %v", items, err)
		}
		if err := ob.Finish(ctx, items[0], t0, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		waiting, err := svc.SendTest(ctx, gone, t0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		other, err := svc.SendTest(ctx, kept, t0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		// A contact that happens to share the channel's id is another
		// destination, and keeps its messages.
		pages, err := ob.Enqueue(ctx, t0, outbox.Message{ProjectID: p.ID, To: outbox.Destination{Kind: outbox.ToContact, ID: gone.ID},
			Event: notify.EventAlertFiring, Alert: nightjar.Alert{ProjectID: p.ID, DedupKey: "check:x", Status: nightjar.AlertFiring}})
		if err != nil {
			t.Fatal(err)
		}
		page := pages[0]

		if err := svc.Delete(ctx, p.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{sent, waiting} {
			if _, err := ob.Entry(ctx, p.ID, id); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
				t.Errorf("message %s of the deleted channel: %v", id, err)
			}
		}
		for _, id := range []string{other, page} {
			if _, err := ob.Entry(ctx, p.ID, id); err != nil {
				t.Errorf("message %s to another destination: %v", id, err)
			}
		}
	})
}

// A test button cannot fill the outbox: a channel has one test waiting at a
// time, and a project queues at most channels.TestsPerMinute a minute.
func TestSendTestIsLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc, ob := channels.New(db), outbox.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		ch := newHook(t, svc, p, "hook")
		id, err := svc.SendTest(ctx, ch, t0)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := svc.SendTest(ctx, ch, t0.Add(time.Second)); err != nil || again != id {
			t.Fatalf("second test while one waits: %s %v, want %s", again, err, id)
		}
		if n, _ := ob.Depth(ctx); n != 1 {
			t.Fatalf("outbox depth %d, want 1", n)
		}
		it, err := ob.Entry(ctx, p.ID, id)
		if err != nil || it.Event != notify.EventTest || it.To != (outbox.Destination{Kind: outbox.ToChannel, ID: ch.ID}) ||
			it.Alert.Summary != "Test notification from Nightjar" || it.IdempotencyKey != id {
			t.Fatalf("test message: %+v %v", it, err)
		}
		// A test waiting for its retry is made due again at once.
		items, err := ob.Claim(ctx, t0.Add(time.Second), outbox.Claim{Limit: 1, Lease: time.Minute, PerDestination: 1, PerProject: 1})
		if err != nil || len(items) != 1 {
			t.Fatalf("claim: %v %v", items, err)
		}
		// While its attempt runs, asking again changes nothing.
		if again, err := svc.SendTest(ctx, ch, t0.Add(time.Second)); err != nil || again != id {
			t.Fatalf("test again while the first is being sent: %s %v", again, err)
		}
		if err := ob.Finish(ctx, items[0], t0.Add(2*time.Second), fmt.Errorf("503"), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if again, err := svc.SendTest(ctx, ch, t0.Add(3*time.Second)); err != nil || again != id {
			t.Fatalf("test again while the first waits to retry: %s %v", again, err)
		}
		if it, _ := ob.Entry(ctx, p.ID, id); !it.NextAttemptAt.Equal(t0.Add(3 * time.Second)) {
			t.Fatalf("test not made due again: next attempt %s", it.NextAttemptAt)
		}
		// Each channel's test counts against the project's limit.
		sent := 1
		for i := 0; sent < channels.TestsPerMinute; i++ {
			if _, err := svc.SendTest(ctx, newHook(t, svc, p, fmt.Sprintf("h%d", i)), t0.Add(10*time.Second)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		extra := newHook(t, svc, p, "extra")
		if _, err := svc.SendTest(ctx, extra, t0.Add(20*time.Second)); nightjar.ErrorCode(err) != nightjar.ERATELIMIT {
			t.Fatalf("test over the limit: %v", err)
		}
		if _, err := svc.SendTest(ctx, extra, t0.Add(61*time.Second)); err != nil {
			t.Fatalf("test a minute later: %v", err)
		}
	})
}

// A channel deleted after its page loaded gets no test message: no
// message waits for a destination that is gone.
func TestSendTestToADeletedChannel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := channels.New(db)
		p := storetest.NewProject(t, db, "P", t0)
		ch := newHook(t, svc, p, "hook")
		if err := svc.Delete(ctx, p.ID, ch.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SendTest(ctx, ch, t0); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("test to a deleted channel: %v", err)
		}
		if n, _ := outbox.New(db).Depth(ctx); n != 0 {
			t.Fatalf("outbox depth %d", n)
		}
	})
}

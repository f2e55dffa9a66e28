package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// No text that PostgreSQL cannot store reaches it: a string argument
// with a NUL byte or invalid UTF-8 is refused with EINVALID, on both
// databases alike, even where no validation ran before. The checks area
// tests its own statements likewise.
func TestStoreRefusesBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "Alpha")
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			_, err := db.Channels(ctx, bad)
			wantCode(t, err, nightjar.EINVALID)
			_, err = db.Channel(ctx, p.ID, bad)
			wantCode(t, err, nightjar.EINVALID)
			_, err = db.OutboxEntry(ctx, p.ID, bad)
			wantCode(t, err, nightjar.EINVALID)
			_, err = db.ProjectByName(ctx, bad)
			wantCode(t, err, nightjar.EINVALID)
			wantCode(t, db.RevokeAPIKey(ctx, p.ID, bad, t0), nightjar.EINVALID)
			wantCode(t, db.DeleteChannel(ctx, p.ID, bad), nightjar.EINVALID)
			// An email that is not text names no user.
			_, err = db.UserByEmail(ctx, bad+"@x.test")
			wantCode(t, err, nightjar.ENOTFOUND)
			_, err = db.Authenticate(ctx, bad+"@x.test", "a long enough passphrase")
			wantCode(t, err, nightjar.EUNAUTHORIZED)
			_, err = db.CreateUser(ctx, bad+"@x.test", "a long enough passphrase", p.ID, store.RoleMember, t0)
			wantCode(t, err, nightjar.EINVALID)
			_, err = db.EnsureAPIKey(ctx, p.ID, bad, nightjar.ScopeReadOnly, "a-key-of-enough-length", t0)
			wantCode(t, err, nightjar.EINVALID)
		}
	})
}

// A failed delivery's error quotes what a receiving server said; it is
// stored however it is made up, cut on a character boundary.
func TestDeliveryErrorStoredSafely(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := newProject(t, db, "Alpha")
		ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: "https://h.example/"}}
		if err := db.CreateChannel(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		id, err := db.EnqueueTest(ctx, ch, t0)
		if err != nil {
			t.Fatal(err)
		}
		claim := func(at time.Time) *store.OutboxItem {
			t.Helper()
			items, err := db.ClaimOutbox(ctx, at, store.OutboxClaim{Limit: 1, Lease: time.Minute, PerChannel: 1, PerProject: 1})
			if err != nil || len(items) != 1 || items[0].ID != id {
				t.Fatalf("claim at %v: %v, %v", at, items, err)
			}
			return items[0]
		}
		// The 1,000th byte falls inside an "é".
		msg := "a" + strings.Repeat("é", 1200) + "\xff\x00"
		if err := db.FinishOutbox(ctx, claim(t0), t0, errors.New(msg), t0.Add(time.Minute)); err != nil {
			t.Fatalf("finish with a retry: %v", err)
		}
		it, err := db.OutboxEntry(ctx, p.ID, id)
		if err != nil || !nightjar.ValidText(it.LastError) || utf8.RuneCountInString(it.LastError) != 1000 || !strings.HasPrefix(it.LastError, "aé") {
			t.Fatalf("last error %q (%d characters), %v", it.LastError, utf8.RuneCountInString(it.LastError), err)
		}
		if err := db.FinishOutbox(ctx, claim(t0.Add(time.Minute)), t0, errors.New("server said \xff\x00"), time.Time{}); err != nil {
			t.Fatalf("finish as failed: %v", err)
		}
		if it, err = db.OutboxEntry(ctx, p.ID, id); err != nil || it.LastError != "server said \uFFFD\uFFFD" {
			t.Fatalf("last error %q, %v", it.LastError, err)
		}
	})
}

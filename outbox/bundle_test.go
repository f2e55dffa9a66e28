package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// pages bundles incident pages to contact methods, as the delivery
// module does.
var pages = outbox.Bundling{Kinds: []string{outbox.ToContact}, Events: []string{notify.EventIncidentPage},
	Window: 5 * time.Second, Max: 10}

// pageTo is a page in p to a contact method, due after delay.
func pageTo(p *nightjar.Project, method, dedupKey string, delay time.Duration) outbox.Message {
	m := alertTo(p, "", dedupKey)
	m.To, m.Event, m.NotBefore = outbox.Destination{Kind: outbox.ToContact, ID: method}, notify.EventIncidentPage, t0.Add(delay)
	return m
}

// members lists an item's message ids and those of its bundle, sorted.
func members(it *outbox.Item) []string {
	ids := []string{it.ID}
	for _, b := range it.Bundled {
		ids = append(ids, b.ID)
	}
	slices.Sort(ids)
	return ids
}

// Pages due together for one contact method are claimed as one bundle,
// with those due within the window; a page for another method, a message
// of another event, and a page due later go on their own. The bundle is
// retried whole, with the same members and name, and a page written after
// it was made is not added to it.
func TestClaimBundlesMessagesToOneContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		var msgs []outbox.Message
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			msgs = append(msgs, pageTo(p, "bob-phone", k, 0))
		}
		msgs = append(msgs, pageTo(p, "bob-phone", "soon", 3*time.Second), pageTo(p, "bob-phone", "later", time.Minute),
			pageTo(p, "alice-phone", "a", 0))
		verify := pageTo(p, "bob-phone", "", 0)
		verify.Event = notify.EventContactVerify
		msgs = append(msgs, verify)
		ids := enqueue(t, db, t0, msgs...)
		bundled := slices.Sorted(slices.Values(ids[:6]))

		limits := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 10, PerProject: 10, Bundle: pages}
		items, err := ob.Claim(ctx, t0, limits)
		if err != nil {
			t.Fatal(err)
		}
		var bundle *outbox.Item
		alone := map[string]bool{}
		for _, it := range items {
			if len(it.Bundled) > 0 {
				if bundle != nil {
					t.Fatalf("two bundles: %v and %v", members(bundle), members(it))
				}
				bundle = it
			} else {
				if it.Bundle != "" {
					t.Errorf("message %s claimed alone names bundle %q", it.ID, it.Bundle)
				}
				alone[it.ID] = true
			}
		}
		if bundle == nil || !slices.Equal(members(bundle), bundled) {
			t.Fatalf("claimed %d items; bundle %v, want %v", len(items), bundle, bundled)
		}
		if want := outbox.BundleName(bundled); bundle.Bundle != want {
			t.Fatalf("bundle named %q, want %q", bundle.Bundle, want)
		}
		for _, m := range bundle.Bundled {
			if m.Bundle != bundle.Bundle || m.Attempts != 1 {
				t.Fatalf("member %+v", m)
			}
		}
		if len(alone) != 2 || !alone[ids[7]] || !alone[ids[8]] {
			t.Fatalf("claimed alone %v, want alice's page %s and the verification %s", alone, ids[7], ids[8])
		}

		for _, it := range items {
			if it != bundle {
				if err := ob.Finish(ctx, it, t0, nil, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The bundle's delivery fails; meanwhile another page comes for bob.
		if err := ob.Finish(ctx, bundle, t0.Add(time.Second), errors.New("503"), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, id := range bundled {
			it, err := ob.Entry(ctx, p.ID, id)
			if err != nil || it.Status != outbox.Pending || it.LastError != "503" || !it.NextAttemptAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("member after a failed attempt: %+v %v", it, err)
			}
		}
		late := enqueue(t, db, t0.Add(30*time.Second), pageTo(p, "bob-phone", "f", 30*time.Second))[0]
		items, err = ob.Claim(ctx, t0.Add(time.Minute), limits)
		if err != nil {
			t.Fatal(err)
		}
		// The retry: the same bundle; the page written after it, and the
		// one due later, form a bundle of their own.
		var retried, next *outbox.Item
		for _, it := range items {
			switch it.Bundle {
			case bundle.Bundle:
				retried = it
			default:
				next = it
			}
		}
		if retried == nil || !slices.Equal(members(retried), bundled) || retried.Attempts != 2 {
			t.Fatalf("retry: %+v", retried)
		}
		if next == nil || !slices.Equal(members(next), slices.Sorted(slices.Values([]string{late, ids[6]}))) || len(items) != 2 {
			t.Fatalf("claimed %d items; the newer pages as %+v", len(items), next)
		}
		if err := ob.Finish(ctx, retried, t0.Add(time.Minute), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		for _, id := range bundled {
			if it, err := ob.Entry(ctx, p.ID, id); err != nil || it.Status != outbox.Sent || it.Attempts != 2 {
				t.Fatalf("member after delivery: %+v %v", it, err)
			}
		}
	})
}

// A sender that dies after sending a bundle and before recording it
// loses none of its messages: when the lease runs out the same bundle is
// claimed again, under the same name, so the receiver can drop the
// duplicate. Recording the dead sender's result afterwards is refused for
// every member.
func TestBundleSurvivesACrashedSender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		ids := enqueue(t, db, t0, pageTo(p, "bob-phone", "a", 0), pageTo(p, "bob-phone", "b", 0), pageTo(p, "bob-phone", "c", 0))
		limits := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 2, PerProject: 10, Bundle: pages}
		first, err := ob.Claim(ctx, t0, limits)
		if err != nil || len(first) != 1 || len(first[0].Bundled) != 2 {
			t.Fatalf("claim: %+v %v", first, err)
		}
		// The lease holds: nothing more to take.
		if again, err := ob.Claim(ctx, t0.Add(30*time.Second), limits); err != nil || len(again) != 0 {
			t.Fatalf("claimed during the lease: %+v %v", again, err)
		}
		again, err := ob.Claim(ctx, t0.Add(2*time.Minute), limits)
		if err != nil || len(again) != 1 || again[0].Bundle != first[0].Bundle || !slices.Equal(members(again[0]), slices.Sorted(slices.Values(ids))) {
			t.Fatalf("after the lease: %+v %v", again, err)
		}
		if err := ob.Finish(ctx, first[0], t0.Add(2*time.Minute), nil, time.Time{}); nightjar.ErrorCode(err) != nightjar.ECONFLICT {
			t.Fatalf("the dead sender's result: %v", err)
		}
		for _, id := range ids {
			if it, err := ob.Entry(ctx, p.ID, id); err != nil || it.Status != outbox.Pending || it.Attempts != 2 {
				t.Fatalf("after the refused result: %+v %v", it, err)
			}
		}
		if err := ob.Finish(ctx, again[0], t0.Add(2*time.Minute), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	})
}

// A bundle is one attempt in flight against the destination's limit:
// with room for one, a bundle of three leaves no room for the next
// message to that destination while it runs, and another destination's
// message still goes.
func TestBundleCountsOnceAgainstLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		enqueue(t, db, t0, pageTo(p, "bob-phone", "a", 0), pageTo(p, "bob-phone", "b", 0), pageTo(p, "bob-phone", "c", 0))
		limits := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 1, PerProject: 2, Bundle: pages}
		first, err := ob.Claim(ctx, t0, limits)
		if err != nil || len(first) != 1 || len(first[0].Bundled) != 2 {
			t.Fatalf("claim: %+v %v", first, err)
		}
		verify := pageTo(p, "bob-phone", "", 0)
		verify.Event = notify.EventContactVerify
		enqueue(t, db, t0, verify, pageTo(p, "alice-phone", "a", 0))
		next, err := ob.Claim(ctx, t0.Add(time.Second), limits)
		if err != nil || len(next) != 1 || next[0].To.ID != "alice-phone" {
			t.Fatalf("while the bundle is in flight: %+v %v", next, err)
		}
	})
}

// Workers claiming at once with bundling never take a message twice,
// neither alone nor in two bundles, and together take every message.
func TestConcurrentBundleClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		var msgs []outbox.Message
		for d := 0; d < 4; d++ {
			for i := 0; i < 6; i++ {
				msgs = append(msgs, pageTo(p, fmt.Sprintf("phone-%d", d), fmt.Sprintf("k%d", i), time.Duration(i)*time.Second))
			}
		}
		ids := enqueue(t, db, t0, msgs...)
		limits := outbox.Claim{Limit: 2, Lease: time.Hour, PerDestination: 2, PerProject: 10,
			Bundle: outbox.Bundling{Kinds: []string{outbox.ToContact}, Events: []string{notify.EventIncidentPage}, Window: 3 * time.Second, Max: 10}}
		var mu sync.Mutex
		seen := map[string]int{}
		claim := func(at time.Time) error {
			items, err := ob.Claim(ctx, at, limits)
			mu.Lock()
			for _, it := range items {
				for _, id := range members(it) {
					seen[id]++
				}
			}
			mu.Unlock()
			for _, it := range items {
				if err := ob.Finish(ctx, it, at, nil, time.Time{}); err != nil {
					return err
				}
			}
			return err
		}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 5; i++ {
					if err := claim(t0); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		// Whatever is left is due, and no longer held back, by t0+10s.
		for i := 0; i < 10; i++ {
			if err := claim(t0.Add(10 * time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			if seen[id] != 1 {
				t.Fatalf("message %s claimed %d times; all: %v", id, seen[id], seen)
			}
		}
	})
}

// The first page of a storm goes at once; what falls due for the same
// contact method while it is in flight, or less than the window after it
// was sent, waits for the window to pass and then goes as one bundle.
// A verification code is not held back, and another method's page is not.
func TestBundleWaitsForTheWindowAfterASend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		limits := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 2, PerProject: 10, Bundle: pages}
		claim := func(at time.Time) []*outbox.Item {
			t.Helper()
			items, err := ob.Claim(ctx, at, limits)
			if err != nil {
				t.Fatal(err)
			}
			return items
		}
		first := enqueue(t, db, t0, pageTo(p, "bob-phone", "a", 0))[0]
		items := claim(t0)
		if len(items) != 1 || items[0].ID != first || items[0].Bundle != "" {
			t.Fatalf("the first page: %+v", items)
		}
		// While it is in flight, more come: held back, but for the
		// verification code and alice's page.
		second := enqueue(t, db, t0.Add(time.Second), pageTo(p, "bob-phone", "b", 0))[0]
		verify := pageTo(p, "bob-phone", "", 0)
		verify.Event = notify.EventContactVerify
		others := enqueue(t, db, t0.Add(time.Second), verify, pageTo(p, "alice-phone", "a", 0))
		got := claim(t0.Add(time.Second))
		if len(got) != 2 || slices.ContainsFunc(got, func(it *outbox.Item) bool { return it.ID == second }) {
			t.Fatalf("claimed while bob's first page is in flight: %+v, want only %v", got, others)
		}
		for _, it := range got {
			if err := ob.Finish(ctx, it, t0.Add(time.Second), nil, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := ob.Finish(ctx, items[0], t0.Add(2*time.Second), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
		third := enqueue(t, db, t0.Add(3*time.Second), pageTo(p, "bob-phone", "c", 0))[0]
		if got := claim(t0.Add(6 * time.Second)); len(got) != 0 {
			t.Fatalf("claimed within the window after bob's first page was sent: %+v", got)
		}
		got = claim(t0.Add(7 * time.Second))
		if len(got) != 1 || !slices.Equal(members(got[0]), slices.Sorted(slices.Values([]string{second, third}))) {
			t.Fatalf("after the window: %+v, want one bundle of %s and %s", got, second, third)
		}
		// A slow attempt holds the next page back only for the window
		// after it was claimed.
		fourth := enqueue(t, db, t0.Add(8*time.Second), pageTo(p, "bob-phone", "d", 0))[0]
		if got := claim(t0.Add(11 * time.Second)); len(got) != 0 {
			t.Fatalf("claimed within the window after the bundle was claimed: %+v", got)
		}
		if got := claim(t0.Add(12 * time.Second)); len(got) != 1 || got[0].ID != fourth || len(got[0].Bundled) != 0 {
			t.Fatalf("with the bundle's attempt still running, after the window: %+v, want %s alone", got, fourth)
		}
	})
}

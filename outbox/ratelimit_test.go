package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// perMinute limits the destinations named in limits, and no other.
func perMinute(limits map[string]int) func(context.Context, string, outbox.Destination) int {
	return func(_ context.Context, _ string, to outbox.Destination) int { return limits[to.ID] }
}

// sendAll claims at now and records every claimed message, and those
// bundled with it, as sent at now; it returns what it claimed.
func sendAll(t *testing.T, ob *outbox.Outbox, now time.Time, c outbox.Claim) []*outbox.Item {
	t.Helper()
	ctx := context.Background()
	items, err := ob.Claim(ctx, now, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := ob.Finish(ctx, it, now, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	return items
}

// A destination limited to 3 messages a minute with 10 due gets 3 in the
// first minute and the rest in the minutes after, each message once and
// none lost or failed, while another destination's messages go at once.
func TestClaimKeepsToTheRatePerMinute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		alerts(t, db, p, "slack", 10, t0)
		alerts(t, db, p, "other", 4, t0)
		c := outbox.Claim{Limit: 20, Lease: time.Minute, PerDestination: 10, PerProject: 20,
			PerMinute: perMinute(map[string]int{"slack": 3})}

		sent := map[string]time.Time{}
		var slackAt []time.Time
		for now := t0; now.Before(t0.Add(5 * time.Minute)); now = now.Add(5 * time.Second) {
			for _, it := range sendAll(t, ob, now, c) {
				if _, twice := sent[it.ID]; twice {
					t.Fatalf("message %s claimed again at %s", it.ID, now.Sub(t0))
				}
				sent[it.ID] = now
				if it.To.ID == "slack" {
					slackAt = append(slackAt, now)
				} else if !now.Equal(t0) {
					t.Errorf("a message to another destination went at %s, not at once", now.Sub(t0))
				}
			}
		}
		if len(sent) != 14 || len(slackAt) != 10 {
			t.Fatalf("sent %d messages, %d of them to the limited destination; want 14 and 10", len(sent), len(slackAt))
		}
		for i, at := range slackAt {
			if i >= 3 && at.Sub(slackAt[i-3]) < time.Minute {
				t.Errorf("4 messages within %s: %v", at.Sub(slackAt[i-3]), slackAt[i-3:i+1])
			}
		}
		var first int
		for _, at := range slackAt {
			if at.Before(t0.Add(time.Minute)) {
				first++
			}
		}
		if first != 3 {
			t.Errorf("%d messages in the first minute, want 3", first)
		}
		if last := slackAt[len(slackAt)-1]; last.After(t0.Add(3*time.Minute + 10*time.Second)) {
			t.Errorf("the last message went at %s, want by 3 min 10 s", last.Sub(t0))
		}
		items, err := ob.ByProject(ctx, p.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Status != outbox.Sent || it.Attempts != 1 {
				t.Errorf("message %s: %s after %d attempts, want sent after 1", it.ID, it.Status, it.Attempts)
			}
		}
	})
}

// Pages to a contact method beyond its limit wait, and when the minute
// allows go out as one bundle.
func TestDeferredPagesGoAsOneBundle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		c := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 10, PerProject: 10, Bundle: pages,
			PerMinute: perMinute(map[string]int{"bob-phone": 1})}
		enqueue(t, db, t0, pageTo(p, "bob-phone", "first", 0))
		if got := sendAll(t, ob, t0, c); len(got) != 1 || len(got[0].Bundled) != 0 {
			t.Fatalf("first page: claimed %d items", len(got))
		}
		var ids []string
		for i := range 4 {
			ids = append(ids, enqueue(t, db, t0, pageTo(p, "bob-phone", fmt.Sprint("storm-", i), 10*time.Second))...)
		}
		for now := t0.Add(10 * time.Second); now.Before(t0.Add(time.Minute)); now = now.Add(5 * time.Second) {
			if got := sendAll(t, ob, now, c); len(got) != 0 {
				t.Fatalf("at %s, within the minute of the first page, claimed %v", now.Sub(t0), members(got[0]))
			}
		}
		got := sendAll(t, ob, t0.Add(time.Minute), c)
		if len(got) != 1 || len(got[0].Bundled) != 3 {
			t.Fatalf("a minute after the first page: claimed %d items, want one bundle of 4", len(got))
		}
		if m, want := members(got[0]), slices.Sorted(slices.Values(ids)); fmt.Sprint(m) != fmt.Sprint(want) {
			t.Errorf("bundle holds %v, want %v", m, want)
		}
	})
}

// Replicas claiming at once keep to the limit together.
func TestConcurrentClaimsKeepToTheRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		alerts(t, db, p, "slack", 12, t0)
		c := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 10, PerProject: 20,
			PerMinute: perMinute(map[string]int{"slack": 3})}
		var mu sync.Mutex
		claimed := map[time.Time]int{}
		seen := map[string]bool{}
		for now := t0; now.Before(t0.Add(4 * time.Minute)); now = now.Add(10 * time.Second) {
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					items, err := ob.Claim(context.Background(), now, c)
					if err != nil {
						t.Error(err)
						return
					}
					for _, it := range items {
						if err := ob.Finish(context.Background(), it, now, nil, time.Time{}); err != nil {
							t.Error(err)
						}
						mu.Lock()
						if seen[it.ID] {
							t.Errorf("message %s claimed twice", it.ID)
						}
						seen[it.ID] = true
						claimed[now.Truncate(time.Minute)]++
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
		}
		if len(seen) != 12 {
			t.Errorf("sent %d of 12 messages", len(seen))
		}
		for m, n := range claimed {
			if n > 3 {
				t.Errorf("%d messages in the minute from %s, want at most 3", n, m.Sub(t0))
			}
		}
	})
}

// A message within its destination's limit that was not taken, because
// its project had no room, stays due and goes as soon as there is room,
// not after the minute that the messages beyond the limit wait for.
func TestClaimLeavesDueWhatIsWithinTheRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		p := storetest.NewProject(t, db, "P", t0)
		ob := outbox.New(db)
		alerts(t, db, p, "slack", 6, t0)
		c := outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 10, PerProject: 1,
			PerMinute: perMinute(map[string]int{"slack": 3})}
		var at []time.Duration
		for now := t0; now.Before(t0.Add(time.Minute)); now = now.Add(5 * time.Second) {
			for range sendAll(t, ob, now, c) {
				at = append(at, now.Sub(t0))
			}
		}
		if fmt.Sprint(at) != "[0s 5s 10s]" {
			t.Errorf("sent in the first minute at %v, want [0s 5s 10s]", at)
		}
	})
}

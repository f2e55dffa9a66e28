package checks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Pings after every other kind of write must start from the check as that
// write left it, not from what an earlier ping batch saw (SQLite keeps
// recently pinged checks in memory for its writer).
func TestPingsSeeOtherWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "job", nil)
		state := func() nightjar.CheckState {
			t.Helper()
			got, err := svc.Get(ctx, p.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.State
		}
		at := t0
		pingAt := func(d time.Duration) {
			t.Helper()
			at = at.Add(d)
			if res := ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: at}); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		pingAt(0)
		pingAt(time.Minute)
		if s := state(); s.NPings != 2 || !s.NextDeadline.Equal(at.Add(time.Hour)) {
			t.Fatalf("after two pings: n=%d deadline=%v", s.NPings, s.NextDeadline)
		}

		// An edit of the schedule: the next ping's deadline uses it.
		if _, err := svc.Update(ctx, p.ID, c.ID, at, func(c *nightjar.Check) error {
			c.Timeout, c.Grace = 2*time.Hour, time.Minute
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		pingAt(time.Minute)
		if s := state(); s.NPings != 3 || !s.NextDeadline.Equal(at.Add(2*time.Hour)) {
			t.Fatalf("after an edit: n=%d deadline=%v, want 3 and %v", s.NPings, s.NextDeadline, at.Add(2*time.Hour))
		}

		// Pause: a later ping resumes from paused (Healthchecks' rule),
		// so the flip list shows paused → up.
		if _, err := svc.SetPaused(ctx, p.ID, c.ID, true, at); err != nil {
			t.Fatal(err)
		}
		pingAt(time.Minute)
		flips, err := svc.Flips(ctx, c.ID, time.Time{}, 10)
		if err != nil || len(flips) == 0 || flips[0].From != nightjar.StatusPaused || flips[0].To != nightjar.StatusUp {
			t.Fatalf("flips after pause and ping: %+v, %v", flips, err)
		}

		// The deadline scan marks the check down; the next ping brings it
		// back up and counts from the stored state.
		at = at.Add(3 * time.Hour)
		if _, err := svc.ProcessDue(ctx, at, 100); err != nil {
			t.Fatal(err)
		}
		if s := state(); s.Status != nightjar.StatusDown {
			t.Fatalf("after the deadline: %s, want down", s.Status)
		}
		pingAt(time.Second)
		if s := state(); s.Status != nightjar.StatusUp || s.NPings != 5 {
			t.Fatalf("after recovery ping: %s n=%d", s.Status, s.NPings)
		}

		// Deleting the check: pings for it are not found any more.
		if err := svc.Delete(ctx, p.ID, c.ID, at); err != nil {
			t.Fatal(err)
		}
		res := ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: at})
		wantCode(t, res.Err, nightjar.ENOTFOUND)
	})
}

// Another process writing the same SQLite file (nightjar apply, say) is
// seen by the next ping too.
func TestPingsSeeOtherProcessWrites(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLitePath(t)
	open := func() *store.DB {
		db, err := store.Open(ctx, path, store.Options{Synchronous: "NORMAL"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	server, other := open(), open()
	serverChecks, otherChecks := checksOf(server), checksOf(other)
	p := newProject(t, server, "P")
	c := newCheck(t, serverChecks, p, "job", nil)
	for i := range 3 {
		if res := ping(t, serverChecks, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0.Add(time.Duration(i) * time.Minute)}); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if _, err := otherChecks.Update(ctx, p.ID, c.ID, t0, func(c *nightjar.Check) error {
		c.Timeout, c.Grace = 5*time.Hour, time.Minute
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The other process also records a ping, so the stored count moves.
	if res := ping(t, otherChecks, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0.Add(3 * time.Minute)}); res.Err != nil {
		t.Fatal(res.Err)
	}
	at := t0.Add(4 * time.Minute)
	if res := ping(t, serverChecks, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: at}); res.Err != nil {
		t.Fatal(res.Err)
	}
	got, err := serverChecks.Get(ctx, p.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.NPings != 5 || !got.State.NextDeadline.Equal(at.Add(5*time.Hour)) {
		t.Fatalf("after the other process's edit and ping: n=%d deadline=%v", got.State.NPings, got.State.NextDeadline)
	}
	pings, err := serverChecks.Pings(ctx, c.ID, 10)
	if err != nil || len(pings) != 5 || pings[0].N != 5 {
		t.Fatalf("pings: %d, %v", len(pings), err)
	}
}

// The deadline scan judges a check by the state its newest ping left, not
// by an older one (SQLite's writer keeps pinged checks in memory).
func TestDeadlineScanAfterPings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "job", nil) // timeout 1h
		for _, m := range []int{0, 50} {
			if res := ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0.Add(time.Duration(m) * time.Minute)}); res.Err != nil {
				t.Fatal(res.Err)
			}
		}
		// Past the first ping's deadline, before the second's.
		if _, err := svc.ProcessDue(ctx, t0.Add(70*time.Minute), 100); err != nil {
			t.Fatal(err)
		}
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusUp || !got.State.NextDeadline.Equal(t0.Add(110*time.Minute)) {
			t.Fatalf("after the scan: %s, deadline %v", got.State.Status, got.State.NextDeadline)
		}
		if _, err := svc.ProcessDue(ctx, t0.Add(111*time.Minute), 100); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Get(ctx, p.ID, c.ID); got.State.Status != nightjar.StatusLate {
			t.Fatalf("after the second deadline: %s, want late", got.State.Status)
		}
	})
}

// Past the cache's limit checks are dropped from it, and pings for them
// read their rows again.
func TestCheckCacheLimit(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	svc := checksOf(db)
	svc.SetCacheLimit(3)
	p := newProject(t, db, "P")
	var made []*nightjar.Check
	for i := range 10 {
		made = append(made, newCheck(t, svc, p, fmt.Sprint("c", i), nil))
	}
	for round := range 4 {
		for i, c := range made {
			at := t0.Add(time.Duration(round*10+i) * time.Second)
			if res := ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: at}); res.Err != nil {
				t.Fatalf("round %d check %d: %v", round, i, res.Err)
			}
		}
	}
	for i, c := range made {
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.NPings != 4 {
			t.Fatalf("check %d has %d pings, want 4", i, got.State.NPings)
		}
	}
}

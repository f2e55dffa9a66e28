package checks_test

import (
	"context"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// A check remembers when it entered its status and why; editing its
// settings moves neither, and five successful runs of a new check leave a
// history that says it came up.
func TestSinceReasonAndRunHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "job", nil)
		if got, _ := svc.Get(ctx, p.ID, c.ID); !got.State.Since.Equal(t0) {
			t.Fatalf("a new check is new since %s, want its creation %s", got.State.Since, t0)
		}
		for i := 0; i < 5; i++ {
			at := t0.Add(time.Duration(i) * time.Hour)
			ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingStart, At: at})
			ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: at.Add(time.Minute)})
		}
		flips, err := svc.Flips(ctx, c.ID, t0.Add(-time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		var history []string
		for i := len(flips) - 1; i >= 0; i-- {
			history = append(history, flips[i].From+"->"+flips[i].To)
		}
		if len(history) != 2 || history[0] != "new->started" || history[1] != "started->up" {
			t.Fatalf("history of five good runs: %v, want [new->started started->up]", history)
		}
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusUp || !got.State.Since.Equal(t0.Add(time.Minute)) || got.State.Reason != "success ping" {
			t.Fatalf("after five runs: %s since %s (%q)", got.State.Status, got.State.Since, got.State.Reason)
		}

		// The job fails: down since then, with its exit status as the reason.
		failAt := t0.Add(6 * time.Hour)
		exit := 2
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingFail, ExitStatus: &exit, At: failAt})
		// Editing the description later is no status change.
		if _, err := svc.Update(ctx, p.ID, c.ID, failAt.Add(time.Hour), func(c *nightjar.Check) error {
			c.Desc = "nightly export"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusDown || !got.State.Since.Equal(failAt) || got.State.Reason != "the job exited with status 2" {
			t.Fatalf("after a failure and an edit: %s since %s (%q)", got.State.Status, got.State.Since, got.State.Reason)
		}
		if !got.UpdatedAt.Equal(failAt.Add(time.Hour)) {
			t.Fatalf("updated at %s, want the edit's time", got.UpdatedAt)
		}
	})
}

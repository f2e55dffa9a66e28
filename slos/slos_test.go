package slos_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func def(service, name string) slo.Definition {
	return slo.Definition{Service: service, Name: name, Objective: 99, Window: slo.Window{Rolling: "30d"},
		Indicator: slo.Indicator{Kind: slo.KindAvailability}, Alerting: slo.Alerting{MinEvents: 1}}
}

func newSLO(t testing.TB, svc *slos.Service, projectID string, d slo.Definition) *slos.SLO {
	t.Helper()
	o := &slos.SLO{ProjectID: projectID, Definition: d}
	if err := svc.Create(context.Background(), o, t0); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := slos.New(db, alerting.New(db))
		p, other := storetest.NewProject(t, db, "P", t0), storetest.NewProject(t, db, "Other", t0)
		a := newSLO(t, svc, p.ID, def("shop", "availability"))
		newSLO(t, svc, p.ID, def("billing", "availability"))
		err := svc.Create(ctx, &slos.SLO{ProjectID: p.ID, Definition: def("shop", "availability")}, t0)
		storetest.WantCode(t, err, nightjar.ECONFLICT)
		bad := def("shop", "x")
		bad.Objective = 100
		err = svc.Create(ctx, &slos.SLO{ProjectID: p.ID, Definition: bad}, t0)
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != "objective" {
			t.Fatalf("invalid objective: %v", err)
		}
		got, err := svc.Get(ctx, p.ID, a.ID)
		if err != nil || got.Definition.Name != "availability" || got.Definition.Alerting.MinEvents != 1 {
			t.Fatalf("get = %+v, %v", got, err)
		}
		_, err = svc.Get(ctx, other.ID, a.ID)
		storetest.WantCode(t, err, nightjar.ENOTFOUND)
		list, err := svc.List(ctx, p.ID)
		if err != nil || len(list) != 2 || list[0].Definition.Service != "billing" {
			t.Fatalf("list = %v, %v", list, err)
		}
		edited, err := svc.Edit(ctx, p.ID, a.ID, t0.Add(time.Hour), func(d *slo.Definition) error { d.Objective = 99.5; return nil })
		if err != nil || edited.Definition.Objective != 99.5 || !edited.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("edit = %+v, %v", edited, err)
		}
		_, err = svc.Edit(ctx, p.ID, a.ID, t0, func(d *slo.Definition) error { d.Service = "billing"; return nil })
		storetest.WantCode(t, err, nightjar.ECONFLICT)
		_, err = svc.Edit(ctx, p.ID, a.ID, t0, func(d *slo.Definition) error { d.Window.Rolling = "1d"; return nil })
		storetest.WantCode(t, err, nightjar.EINVALID)
		storetest.WantCode(t, svc.Delete(ctx, other.ID, a.ID, t0), nightjar.ENOTFOUND)
		if err := svc.AddMinutes(ctx, []aggregate.Row{{SLOID: a.ID, Minute: t0, Bucket: slo.Bucket{Counts: slo.Counts{Total: 1}}}}, t0); err != nil {
			t.Fatal(err)
		}
		if err := svc.Delete(ctx, p.ID, a.ID, t0); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Get(ctx, p.ID, a.ID)
		storetest.WantCode(t, err, nightjar.ENOTFOUND)
		// A flush of an objective deleted meanwhile is dropped, not an error.
		if err := svc.AddMinutes(ctx, []aggregate.Row{{SLOID: a.ID, Minute: t0, Bucket: slo.Bucket{Counts: slo.Counts{Total: 1}}}}, t0); err != nil {
			t.Fatalf("flush of a deleted objective: %v", err)
		}
	})
}

// TestConcurrentFlushers has two replicas (two goroutines on the pool)
// flush counters for the same minutes at once: the sums are right.
func TestConcurrentFlushers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := slos.New(db, alerting.New(db))
		p := storetest.NewProject(t, db, "P", t0)
		a := newSLO(t, svc, p.ID, def("shop", "a"))
		b := newSLO(t, svc, p.ID, def("shop", "b"))
		const flushes = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*flushes)
		for replica := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range flushes {
					var rows []aggregate.Row
					for m := range 5 {
						bk := slo.Bucket{Counts: slo.Counts{Good: 9, Total: 10, UpMs: 100, DownMs: int64(replica + 1)}}
						bk.Latency[m] = 10
						// Replicas flush in opposite orders.
						id := a.ID
						if (i+replica)%2 == 1 {
							id = b.ID
						}
						rows = append(rows, aggregate.Row{SLOID: id, Minute: t0.Add(time.Duration(m) * time.Minute), Bucket: bk})
						rows = append(rows, aggregate.Row{SLOID: map[string]string{a.ID: b.ID, b.ID: a.ID}[id], Minute: t0.Add(time.Duration(4-m) * time.Minute), Bucket: bk})
					}
					errs <- svc.AddMinutes(ctx, rows, t0)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range []*slos.SLO{a, b} {
			ms, err := svc.Minutes(ctx, p.ID, o.ID, t0, t0.Add(time.Hour))
			if err != nil || len(ms) != 5 {
				t.Fatalf("minutes = %v, %v", ms, err)
			}
			for _, m := range ms {
				// Each replica's flush adds one row per objective and minute.
				if m.Bucket.Total != 2*flushes*10 || m.Bucket.Good != 2*flushes*9 || m.Bucket.UpMs != 2*flushes*100 || m.Bucket.DownMs != flushes*3 {
					t.Errorf("%s %s: %+v", o.Definition.Name, m.Start.Format("15:04"), m.Bucket.Counts)
				}
				var lat uint64
				for _, n := range m.Bucket.Latency {
					lat += n
				}
				if lat != 2*flushes*10 {
					t.Errorf("%s %s: histogram %v", o.Definition.Name, m.Start.Format("15:04"), m.Bucket.Latency)
				}
			}
		}
	})
}

// TestEvaluate burns an objective's budget and sees the page fire through
// the alert stage, once, with the budget figures, and resolve after the
// errors stop. Minutes are flushed as ingest flushes them, one a minute
// plus user-time for minutes half an hour old, and the evaluation's cached
// counts stay equal to what is stored.
func TestEvaluate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		stage := alerting.New(db)
		svc := slos.New(db, stage)
		p := storetest.NewProject(t, db, "P", t0)
		o := newSLO(t, svc, p.ID, def("shop", "availability"))
		// A day of good traffic, read whole by the first evaluation.
		var rows []aggregate.Row
		start := t0.Add(-24 * time.Hour)
		for m := start; m.Before(t0); m = m.Add(time.Minute) {
			rows = append(rows, aggregate.Row{SLOID: o.ID, Minute: m, Bucket: slo.Bucket{Counts: slo.Counts{Good: 100, Total: 100}}})
		}
		if err := svc.AddMinutes(ctx, rows, t0); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.ProcessDue(ctx, t0.Add(slos.EvalDelay), 100); err != nil || n != 1 {
			t.Fatalf("first evaluation: %d, %v", n, err)
		}
		want := slo.Counts{Good: 24 * 60 * 100, Total: 24 * 60 * 100}
		// Then minute by minute: an hour at 50 % errors and two good
		// hours, each minute's user-time arriving half an hour late.
		var page *nightjar.Alert
		for m := t0; m.Before(t0.Add(3 * time.Hour)); m = m.Add(time.Minute) {
			c := slo.Counts{Good: 100, Total: 100}
			if m.Before(t0.Add(time.Hour)) {
				c.Good = 50
			}
			late := slo.Counts{UpMs: 1000, DownMs: 10}
			flushed := []aggregate.Row{{SLOID: o.ID, Minute: m, Bucket: slo.Bucket{Counts: c}},
				{SLOID: o.ID, Minute: m.Add(-30 * time.Minute), Bucket: slo.Bucket{Counts: late}}}
			want = want.Add(c).Add(late)
			if err := svc.AddMinutes(ctx, flushed, m.Add(time.Minute+5*time.Second)); err != nil {
				t.Fatal(err)
			}
			now := m.Add(time.Minute + slos.EvalDelay)
			if n, err := svc.ProcessDue(ctx, now, 100); err != nil || n != 1 {
				t.Fatalf("evaluation at %s: %d, %v", now.Format("15:04:05"), n, err)
			}
			if n, _ := svc.ProcessDue(ctx, now, 100); n != 0 {
				t.Fatalf("evaluated twice in a minute: %d", n)
			}
			if got := svc.CachedSum(o.ID, start, now); got != want {
				t.Fatalf("at %s the cached counts are %+v, stored %+v", now.Format("15:04"), got, want)
			}
			alerts, err := stage.List(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range alerts {
				if a.Severity == nightjar.SeverityPage {
					page = a
				}
			}
			if m.Equal(t0.Add(59 * time.Minute)) {
				if page == nil || page.Status != nightjar.AlertFiring || page.Source != "slo" || page.Details["slo_id"] != o.ID || page.Details["budget_remaining"] == "" {
					t.Fatalf("page alert after an hour of errors = %+v", page)
				}
				_, st, err := svc.Status(ctx, p.ID, o.ID, now)
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := st.Firing[nightjar.SeverityPage]; !ok || st.Decision.BurnRate < 49 || st.Decision.Budget.Counts.Total != 25*60*100 {
					t.Errorf("status = %+v, decision %+v", st, st.Decision)
				}
			}
		}
		if page == nil || page.Status != nightjar.AlertResolved {
			t.Errorf("page after two good hours: %+v", page)
		}
	})
}

// EvalDelay is the delay after a minute at which its objectives are due.
func EvalDelay() time.Duration { return slos.EvalDelay }

// With a long uptime cutoff user-time is flushed hours after its minute:
// every evaluation still adds it, though it is older than the hour and a
// half the default cutoff would reread.
func TestEvaluateAddsUserTimeOfALongCutoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := slos.New(db, alerting.New(db))
		svc.UserCutoff = 4 * time.Hour
		p := storetest.NewProject(t, db, "P", t0)
		o := newSLO(t, svc, p.ID, def("shop", "availability"))
		first := []aggregate.Row{{SLOID: o.ID, Minute: t0.Add(-time.Minute), Bucket: slo.Bucket{Counts: slo.Counts{Good: 1, Total: 1}}}}
		if err := svc.AddMinutes(ctx, first, t0); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.ProcessDue(ctx, t0.Add(slos.EvalDelay), 100); err != nil || n != 1 {
			t.Fatalf("first evaluation: %d, %v", n, err)
		}
		want := slo.Counts{Good: 1, Total: 1}
		for m := t0; m.Before(t0.Add(20 * time.Minute)); m = m.Add(time.Minute) {
			late := slo.Counts{UpMs: 60_000, DownMs: 5}
			rows := []aggregate.Row{{SLOID: o.ID, Minute: m.Add(-4 * time.Hour), Bucket: slo.Bucket{Counts: late}}}
			want = want.Add(late)
			if err := svc.AddMinutes(ctx, rows, m.Add(time.Minute+5*time.Second)); err != nil {
				t.Fatal(err)
			}
			now := m.Add(time.Minute + slos.EvalDelay)
			if n, err := svc.ProcessDue(ctx, now, 100); err != nil || n != 1 {
				t.Fatalf("evaluation at %s: %d, %v", now.Format("15:04:05"), n, err)
			}
			if got := svc.CachedSum(o.ID, t0.Add(-5*time.Hour), now); got != want {
				t.Fatalf("at %s the cached counts are %+v, stored %+v", now.Format("15:04"), got, want)
			}
		}
	})
}

// Objectives evaluated together, their minutes read with one query and
// their alerts handed to the stage as one batch, each count only their
// own minutes: one read whole (created later) beside others read since
// the last evaluation, and two firing in the same minute. Every statement
// the evaluation runs is prepared once (on the databases that keep
// prepared statements).
func TestEvaluateTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.PrepareHotStatements(ctx); err != nil {
			t.Fatal(err)
		}
		stage := alerting.New(db)
		svc := slos.New(db, stage)
		p := storetest.NewProject(t, db, "P", t0)
		good := newSLO(t, svc, p.ID, def("shop", "good"))
		bad := newSLO(t, svc, p.ID, def("shop", "bad"))
		worse := newSLO(t, svc, p.ID, def("cart", "worse"))
		var late *slos.SLO
		want := map[string]slo.Counts{}
		start := t0.Add(-2 * time.Hour)
		flush := func(m time.Time, objs ...*slos.SLO) {
			var rows []aggregate.Row
			for i, o := range objs {
				c := slo.Counts{Good: 100, Total: 100}
				switch o {
				case bad:
					c.Good = 40
				case worse:
					c.Good = 10
				}
				c.UpMs = int64(i + 1) // tells the objectives' rows apart
				rows = append(rows, aggregate.Row{SLOID: o.ID, Minute: m, Bucket: slo.Bucket{Counts: c}})
				want[o.ID] = want[o.ID].Add(c)
			}
			if err := svc.AddMinutes(ctx, rows, m.Add(time.Minute+5*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		for m := start; m.Before(t0); m = m.Add(time.Minute) {
			flush(m, good, bad, worse)
		}
		if n, err := svc.ProcessDue(ctx, t0.Add(slos.EvalDelay), 100); err != nil || n != 3 {
			t.Fatalf("first evaluation: %d, %v", n, err)
		}
		for m := t0; m.Before(t0.Add(10 * time.Minute)); m = m.Add(time.Minute) {
			objs := []*slos.SLO{good, bad, worse}
			if m.Equal(t0.Add(5 * time.Minute)) {
				late = newSLO(t, svc, p.ID, def("cart", "late"))
				for old := start; old.Before(m); old = old.Add(time.Minute) {
					flush(old, late)
				}
			}
			if late != nil {
				objs = append(objs, late)
			}
			flush(m, objs...)
			now := m.Add(time.Minute + slos.EvalDelay)
			unprepared := db.UnpreparedStatements()
			if n, err := svc.ProcessDue(ctx, now, 100); err != nil || n != len(objs) {
				t.Fatalf("evaluation at %s: %d, %v", now.Format("15:04:05"), n, err)
			}
			if n := db.UnpreparedStatements() - unprepared; n != 0 {
				t.Fatalf("evaluation at %s ran %d statements unprepared", now.Format("15:04:05"), n)
			}
			for _, o := range objs {
				if got := svc.CachedSum(o.ID, start, now); got != want[o.ID] {
					t.Fatalf("at %s the cached counts of %s are %+v, stored %+v", now.Format("15:04"), o.Definition.Name, got, want[o.ID])
				}
			}
		}
		alerts, err := stage.List(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		firing := map[string]bool{}
		for _, a := range alerts {
			if a.Status == nightjar.AlertFiring && a.Severity == nightjar.SeverityPage {
				firing[a.Details["slo_id"]] = true
			}
		}
		if len(firing) != 2 || !firing[bad.ID] || !firing[worse.ID] {
			t.Errorf("page alerts firing for %v, want %s and %s", firing, bad.ID, worse.ID)
		}
	})
}

package slos_test

import (
	"context"
	"fmt"
	"reflect"
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

// ListEvaluated pages a project's objectives by service and name, each
// with the decision its last evaluation stored: none before the first
// evaluation, the evaluation's own after it (the one Status reaches for
// the same instant), none again once the definition changes.
func TestListEvaluated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := slos.New(db, alerting.New(db))
		p, other := storetest.NewProject(t, db, "P", t0), storetest.NewProject(t, db, "Other", t0)
		a := newSLO(t, svc, p.ID, def("shop", "availability"))
		b := newSLO(t, svc, p.ID, def("billing", "availability"))
		c := newSLO(t, svc, p.ID, def("shop", "latency"))
		newSLO(t, svc, other.ID, def("shop", "availability"))
		var rows []aggregate.Row
		for m := t0.Add(-2 * time.Hour); m.Before(t0); m = m.Add(time.Minute) {
			good := uint64(100)
			if m.After(t0.Add(-10 * time.Minute)) {
				good = 0
			}
			rows = append(rows, aggregate.Row{SLOID: a.ID, Minute: m, Bucket: slo.Bucket{Counts: slo.Counts{Good: good, Total: 100}}})
		}
		if err := svc.AddMinutes(ctx, rows, t0); err != nil {
			t.Fatal(err)
		}
		ids := func(list []*slos.Evaluated) []string {
			var out []string
			for _, e := range list {
				out = append(out, e.ID)
			}
			return out
		}
		list, err := svc.ListEvaluated(ctx, p.ID, 0, 0)
		if err != nil || !reflect.DeepEqual(ids(list), []string{b.ID, a.ID, c.ID}) {
			t.Fatalf("list = %v, %v; want billing, then shop's availability and latency", ids(list), err)
		}
		for _, e := range list {
			if e.Decision != nil {
				t.Errorf("%s has a decision before any evaluation: %+v", e.Name(), e.Decision)
			}
		}
		for _, page := range []struct {
			limit, offset int
			want          []string
		}{{2, 0, []string{b.ID, a.ID}}, {2, 2, []string{c.ID}}, {2, 4, nil}} {
			got, err := svc.ListEvaluated(ctx, p.ID, page.limit, page.offset)
			if err != nil || !reflect.DeepEqual(ids(got), page.want) {
				t.Errorf("limit %d offset %d = %v, %v; want %v", page.limit, page.offset, ids(got), err, page.want)
			}
		}

		now := t0.Add(slos.EvalDelay)
		if n, err := svc.ProcessDue(ctx, now, 100); err != nil || n != 4 {
			t.Fatalf("evaluated %d: %v", n, err)
		}
		_, st, err := svc.Status(ctx, p.ID, a.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		list, err = svc.ListEvaluated(ctx, p.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := list[1]
		if got.Decision == nil {
			t.Fatal("no decision listed after an evaluation")
		}
		// The figures a list shows are Status's for the same instant.
		want := st.Decision
		listedPart := func(d *slo.Decision) any {
			rules := make([]slo.RuleStatus, len(d.Rules))
			for i, r := range d.Rules {
				rules[i] = slo.RuleStatus{Severity: r.Severity, LongWindow: r.LongWindow, ShortWindow: r.ShortWindow, Threshold: r.Threshold,
					LongBurn: r.LongBurn, ShortBurn: r.ShortBurn, Firing: r.Firing, Held: r.Held}
			}
			return []any{d.At, d.Budget.Counts.Good, d.Budget.Counts.Total, d.Budget.Remaining, d.BurnRate, rules}
		}
		if g, w := listedPart(got.Decision), listedPart(&want); !reflect.DeepEqual(g, w) {
			t.Fatalf("listed decision %+v\nwant Status's %+v", g, w)
		}
		if got.Decision.Budget.Counts.Total != 12000 || !got.Decision.Firing(nightjar.SeverityPage) {
			t.Errorf("listed decision counts %+v, page firing %v; the seed makes 12000 requests and a page", got.Decision.Budget.Counts, got.Decision.Firing(nightjar.SeverityPage))
		}
		if _, ok := got.Firing[nightjar.SeverityPage]; !ok {
			t.Errorf("listed firing = %v, want page", got.Firing)
		}
		if list[0].Decision == nil || list[0].Decision.Budget.Counts.Total != 0 {
			t.Errorf("an evaluated objective without traffic lists %+v", list[0].Decision)
		}

		if _, err := svc.Edit(ctx, p.ID, a.ID, now, func(d *slo.Definition) error { d.Objective = 99.9; return nil }); err != nil {
			t.Fatal(err)
		}
		list, err = svc.ListEvaluated(ctx, p.ID, 0, 0)
		if err != nil || list[1].Decision != nil {
			t.Fatalf("after an edit the list keeps the old definition's decision: %+v, %v", list[1].Decision, err)
		}
	})
}

// TestListTimeAt500 prints how long listing 500 objectives with their
// figures takes on each database: evaluating each from its minutes, as
// the list did, and reading the decisions the evaluation stored, as it
// does now. It prints figures and asserts none of them.
func TestListTimeAt500(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 500 objectives")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const objectives, hours = 500, 3
		ctx := context.Background()
		svc := slos.New(db, alerting.New(db))
		p := storetest.NewProject(t, db, "P", t0)
		var ids []string
		for i := range objectives {
			o := newSLO(t, svc, p.ID, def(fmt.Sprint("svc", i%20), fmt.Sprint("o", i)))
			ids = append(ids, o.ID)
		}
		var rows []aggregate.Row
		for m := t0.Add(-hours * time.Hour); m.Before(t0); m = m.Add(time.Minute) {
			for _, id := range ids {
				rows = append(rows, aggregate.Row{SLOID: id, Minute: m, Bucket: slo.Bucket{Counts: slo.Counts{Good: 999, Total: 1000}}})
			}
		}
		if err := svc.AddMinutes(ctx, rows, t0); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(slos.EvalDelay)
		if n, err := svc.ProcessDue(ctx, now, objectives); err != nil || n != objectives {
			t.Fatalf("evaluated %d: %v", n, err)
		}

		start := time.Now()
		list, err := svc.List(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list {
			if _, _, err := svc.Status(ctx, p.ID, o.ID, now); err != nil {
				t.Fatal(err)
			}
		}
		before := time.Since(start)

		start = time.Now()
		listed, err := svc.ListEvaluated(ctx, p.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		after := time.Since(start)
		for _, e := range listed {
			if e.Decision == nil || e.Decision.Budget.Counts.Total != hours*60*1000 {
				t.Fatalf("%s lists %+v", e.Name(), e.Decision)
			}
		}
		t.Logf("%s, %d objectives with %d h of minutes: a Status each %v, ListEvaluated %v (%.0f× faster)",
			db.Dialect(), len(listed), hours, before.Round(time.Millisecond), after.Round(time.Microsecond), float64(before)/float64(after))
	})
}

package checks_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The database filters, sorts, counts and pages the checks list, the same
// way on both databases, with LIKE's special characters taken literally.
func TestListFilterSortAndCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p, other := newProject(t, db, "P"), newProject(t, db, "Other")
		statuses := []string{nightjar.StatusUp, nightjar.StatusDown, nightjar.StatusLate, nightjar.StatusStarted, nightjar.StatusNew}
		for i := 0; i < 25; i++ {
			c := nightjar.NewCheck(p.ID, fmt.Sprintf("Job %02d", i))
			c.State.Status = statuses[i%len(statuses)]
			c.State.Since = t0.Add(time.Duration(i) * time.Minute)
			c.State.LastPing = t0.Add(time.Duration(25-i) * time.Minute)
			if i%3 == 0 {
				c.Tags = []string{"prod", "db"}
			}
			if i == 7 {
				c.Name, c.Desc, c.Tags = "100% backup_now", "Nightly EXPORT", []string{"50%_off"}
			}
			if err := svc.Create(ctx, c, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		o := nightjar.NewCheck(other.ID, "Job 99")
		o.Tags = []string{"prod"}
		if err := svc.Create(ctx, o, t0); err != nil {
			t.Fatal(err)
		}
		names := func(f checks.Filter) []string {
			t.Helper()
			list, err := svc.List(ctx, p.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			n, err := svc.Count(ctx, p.ID, checks.Filter{Tags: f.Tags, Status: f.Status, Query: f.Query})
			if err != nil {
				t.Fatal(err)
			}
			if f.Limit == 0 && int64(len(list)) != n {
				t.Fatalf("%+v: listed %d, counted %d", f, len(list), n)
			}
			var out []string
			for _, c := range list {
				out = append(out, c.Name)
			}
			return out
		}
		for _, c := range []struct {
			f    checks.Filter
			want []string
		}{
			{checks.Filter{Status: nightjar.StatusDown, Limit: 2}, []string{"Job 01", "Job 06"}},
			{checks.Filter{Tags: []string{"prod", "db"}, Limit: 3, Offset: 1}, []string{"Job 03", "Job 06", "Job 09"}},
			{checks.Filter{Tags: []string{"prod"}, Status: nightjar.StatusUp}, []string{"Job 00", "Job 15"}},
			{checks.Filter{Tags: []string{"50%_off"}}, []string{"100% backup_now"}},
			{checks.Filter{Tags: []string{"50"}}, nil}, // a tag matches whole
			{checks.Filter{Query: "100%"}, []string{"100% backup_now"}},
			{checks.Filter{Query: "a_k"}, nil}, // _ is no wildcard: "ack" in "backup" does not match
			{checks.Filter{Query: "export"}, []string{"100% backup_now"}},
			{checks.Filter{Query: "JOB 1"}, []string{"Job 10", "Job 11", "Job 12", "Job 13", "Job 14", "Job 15", "Job 16", "Job 17", "Job 18", "Job 19"}},
			{checks.Filter{Sort: checks.SortStatus, Limit: 3}, []string{"Job 21", "Job 16", "Job 11"}},
			{checks.Filter{Sort: checks.SortSince, Limit: 2}, []string{"Job 24", "Job 23"}},
			{checks.Filter{Sort: checks.SortLastPing, Limit: 2}, []string{"Job 00", "Job 01"}},
			{checks.Filter{Sort: checks.SortName, Limit: 2}, []string{"100% backup_now", "Job 00"}},
		} {
			if got := names(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%+v: %v, want %v", c.f, got, c.want)
			}
		}
		if n, _ := svc.Count(ctx, p.ID, checks.Filter{}); n != 25 {
			t.Errorf("count %d, want 25", n)
		}
		if _, err := svc.List(ctx, p.ID, checks.Filter{Sort: "id; DROP TABLE checks"}); nightjar.ErrorCode(err) != nightjar.EINVALID {
			t.Errorf("unknown sort: %v", err)
		}
		tags, err := svc.Tags(ctx, p.ID)
		if err != nil || !slices.Equal(tags, []string{"50%_off", "db", "prod"}) {
			t.Errorf("tags %v, %v", tags, err)
		}
	})
}

package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/audit"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRecordAndList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ps := projects.New(db)
		p, q := &nightjar.Project{Name: "P"}, &nightjar.Project{Name: "Q"}
		for _, x := range []*nightjar.Project{p, q} {
			if err := ps.Create(ctx, x, t0); err != nil {
				t.Fatal(err)
			}
		}
		log := audit.New(db)
		for i, action := range []string{"check.create", "check.update", "check.delete"} {
			if err := log.Record(ctx, nightjar.AuditEntry{ProjectID: p.ID, Actor: "carol@example.com", Action: action, Target: "backup",
				CreatedAt: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := log.Record(ctx, nightjar.AuditEntry{ProjectID: q.ID, Actor: "dan@example.com", Action: "channel.create", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := log.List(ctx, p.ID, 2)
		if err != nil || len(got) != 2 || got[0].Action != "check.delete" || got[1].Action != "check.update" ||
			!got[0].CreatedAt.Equal(t0.Add(2*time.Minute)) || got[0].Actor != "carol@example.com" || got[0].Target != "backup" {
			t.Fatalf("List = %+v, %v", got, err)
		}
		if got, err := log.List(ctx, "nope", 10); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("another project's log = %+v, %v", got, err)
		}
		// The next page starts where the first ended, in the same order.
		if got, err := log.Page(ctx, p.ID, 2, 2); err != nil || len(got) != 1 || got[0].Action != "check.create" {
			t.Fatalf("Page(2, 2) = %+v, %v", got, err)
		}
	})
}

// An entry quotes requests; it is stored however they are made up, never
// refused, cut on a character boundary.
func TestRecordStoresAnyText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		p := &nightjar.Project{Name: "P"}
		if err := projects.New(db).Create(ctx, p, t0); err != nil {
			t.Fatal(err)
		}
		log := audit.New(db)
		long := strings.Repeat("é", 1200)
		if err := log.Record(ctx, nightjar.AuditEntry{ProjectID: p.ID, Actor: "a\x00b", Action: "POST /x\xff", Target: long, Detail: "\xc3\x28", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		got, err := log.List(ctx, p.ID, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("List = %+v, %v", got, err)
		}
		e := got[0]
		for _, s := range []string{e.Actor, e.Action, e.Target, e.Detail} {
			if !nightjar.ValidText(s) {
				t.Fatalf("stored %q is not valid text", s)
			}
		}
		if utf8.RuneCountInString(e.Target) != 1000 || e.Action != "POST /x\uFFFD" {
			t.Fatalf("target of %d characters, action %q", utf8.RuneCountInString(e.Target), e.Action)
		}
	})
}

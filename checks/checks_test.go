package checks_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// checksOf is the checks area of db, with its alert stage.
func checksOf(db *store.DB) *checks.Service { return checkstest.New(db) }

// alertsOf is an alert stage of db, for reading its alerts.
func alertsOf(db *store.DB) *alerting.Stage { return alerting.New(db) }

func newProject(t *testing.T, db *store.DB, name string) *nightjar.Project {
	t.Helper()
	return storetest.NewProject(t, db, name, t0)
}

func newCheck(t *testing.T, svc *checks.Service, p *nightjar.Project, slug string, mod func(c *nightjar.Check)) *nightjar.Check {
	t.Helper()
	return checkstest.Create(t, svc, p.ID, slug, t0, mod)
}

func ping(t *testing.T, svc *checks.Service, req *checks.PingRequest) checks.PingResult {
	t.Helper()
	return checkstest.Ping(t, svc, req)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	storetest.WantCode(t, err, code)
}

func TestCheckCRUDAndIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		a, b := newProject(t, db, "A"), newProject(t, db, "B")
		c := newCheck(t, svc, a, "backup", func(c *nightjar.Check) {
			c.Tags = []string{"prod", "db"}
			c.MetricRules = []string{"bytes > 0"}
		})
		newCheck(t, svc, a, "report", func(c *nightjar.Check) { c.Tags = []string{"prod"} })

		got, err := svc.Get(ctx, a.ID, c.ID)
		if err != nil || got.Name != "backup" || got.Timeout != time.Hour || len(got.Tags) != 2 || got.MetricRules[0] != "bytes > 0" {
			t.Fatalf("Check = %+v, %v", got, err)
		}
		_, err = svc.Get(ctx, b.ID, c.ID)
		wantCode(t, err, nightjar.ENOTFOUND)

		list, err := svc.List(ctx, a.ID, checks.Filter{Tags: []string{"prod"}})
		if err != nil || len(list) != 2 {
			t.Fatalf("by tag prod: %d checks, %v", len(list), err)
		}
		list, _ = svc.List(ctx, a.ID, checks.Filter{Tags: []string{"prod", "db"}})
		if len(list) != 1 || list[0].ID != c.ID {
			t.Fatalf("by tags prod+db: %d checks", len(list))
		}
		list, _ = svc.List(ctx, b.ID, checks.Filter{})
		if len(list) != 0 {
			t.Fatalf("project B sees %d checks of A", len(list))
		}

		_, err = svc.Update(ctx, a.ID, c.ID, t0, func(c *nightjar.Check) error { c.Grace = time.Second; return nil })
		wantCode(t, err, nightjar.EINVALID)
		_, err = svc.Update(ctx, b.ID, c.ID, t0, func(c *nightjar.Check) error { return nil })
		wantCode(t, err, nightjar.ENOTFOUND)
		up, err := svc.Update(ctx, a.ID, c.ID, t0.Add(time.Minute), func(c *nightjar.Check) error {
			c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "0 2 * * *", "Europe/Berlin"
			return nil
		})
		if err != nil || up.Kind != nightjar.KindCron || up.TZ != "Europe/Berlin" {
			t.Fatalf("UpdateCheck = %+v, %v", up, err)
		}

		wantCode(t, svc.Delete(ctx, b.ID, c.ID, t0), nightjar.ENOTFOUND)
		if err := svc.Delete(ctx, a.ID, c.ID, t0); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Get(ctx, a.ID, c.ID)
		wantCode(t, err, nightjar.ENOTFOUND)
	})
}

func TestPingForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "nightly", nil)

		res := ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0, Body: []byte("hello"), UA: "curl"})
		if res.Err != nil || res.CheckID != c.ID || res.Created {
			t.Fatalf("uuid ping: %+v", res)
		}
		res = ping(t, svc, &checks.PingRequest{PingKey: p.PingKey, Slug: "nightly", Kind: nightjar.PingLog, At: t0.Add(time.Second)})
		if res.Err != nil || res.CheckID != c.ID {
			t.Fatalf("slug ping: %+v", res)
		}
		res = ping(t, svc, &checks.PingRequest{PingKey: p.PingKey, Slug: "missing", Kind: nightjar.PingSuccess, At: t0})
		wantCode(t, res.Err, nightjar.ENOTFOUND)
		res = ping(t, svc, &checks.PingRequest{PingKey: "wrongkey", Slug: "nightly", Kind: nightjar.PingSuccess, At: t0})
		wantCode(t, res.Err, nightjar.ENOTFOUND)
		res = ping(t, svc, &checks.PingRequest{CheckID: "00000000-0000-0000-0000-000000000000", Kind: nightjar.PingSuccess, At: t0})
		wantCode(t, res.Err, nightjar.ENOTFOUND)

		res = ping(t, svc, &checks.PingRequest{PingKey: p.PingKey, Slug: "fresh", Create: true, Kind: nightjar.PingSuccess, At: t0})
		if res.Err != nil || !res.Created {
			t.Fatalf("create=1: %+v", res)
		}
		res = ping(t, svc, &checks.PingRequest{PingKey: p.PingKey, Slug: "fresh", Create: true, Kind: nightjar.PingSuccess, At: t0})
		if res.Err != nil || res.Created {
			t.Fatalf("second create=1 ping must not create: %+v", res)
		}

		newCheck(t, svc, p, "dup", nil)
		newCheck(t, svc, p, "dup", nil)
		res = ping(t, svc, &checks.PingRequest{PingKey: p.PingKey, Slug: "dup", Kind: nightjar.PingSuccess, At: t0})
		wantCode(t, res.Err, nightjar.ECONFLICT)

		pings, err := svc.Pings(ctx, c.ID, 10)
		if err != nil || len(pings) != 2 {
			t.Fatalf("Pings = %d, %v", len(pings), err)
		}
		if pings[0].N != 2 || pings[0].Kind != nightjar.PingLog || pings[1].N != 1 || pings[1].UA != "curl" || pings[1].BodySize != 5 {
			t.Fatalf("pings newest first: %+v %+v", pings[0], pings[1])
		}
		withBody, err := svc.PingWithBody(ctx, c.ID, 1)
		if err != nil || string(withBody.Body) != "hello" {
			t.Fatalf("PingWithBody = %q, %v", withBody.Body, err)
		}
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusUp || got.State.NPings != 2 || !got.State.ExpectedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("state after pings: %+v", got.State)
		}
	})
}

func TestPostOnlyAndRunDuration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "job", func(c *nightjar.Check) { c.Methods = "POST" })
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0, Method: "GET"})
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusNew {
			t.Fatalf("GET on POST-only check changed status to %s", got.State.Status)
		}
		rid1, rid2 := "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingStart, RID: rid1, At: t0.Add(time.Minute)})
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingStart, RID: rid2, At: t0.Add(2 * time.Minute)})
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, RID: rid1, At: t0.Add(5 * time.Minute)})
		pings, _ := svc.Pings(ctx, c.ID, 10)
		if pings[3].Kind != nightjar.PingIgnored {
			t.Fatalf("first ping kind = %s, want ign", pings[3].Kind)
		}
		if pings[0].Duration != 4*time.Minute {
			t.Fatalf("run rid1 duration = %s, want 4m (matched by rid, not the newer start)", pings[0].Duration)
		}
	})
}

func TestDeadlinesAlertsAndOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		ch := &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: "http://example.com/hook"}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		ob := outbox.New(db)
		c := newCheck(t, svc, p, "job", nil)
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0})

		step := func(at time.Time) int {
			n, err := svc.ProcessDue(ctx, at, 100)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := step(t0.Add(59 * time.Minute)); n != 0 {
			t.Fatalf("%d checks due before their deadline", n)
		}
		if n := step(t0.Add(time.Hour)); n != 1 {
			t.Fatalf("due at deadline: %d", n)
		}
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusLate {
			t.Fatalf("status %s, want late", got.State.Status)
		}
		step(t0.Add(70 * time.Minute))
		got, _ = svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusDown {
			t.Fatalf("status %s, want down", got.State.Status)
		}
		alerts, _ := alertsOf(db).List(ctx, p.ID)
		if len(alerts) != 1 || alerts[0].Status != nightjar.AlertFiring || alerts[0].DedupKey != "check:"+c.ID {
			t.Fatalf("alerts = %+v", alerts)
		}
		if n := step(t0.Add(5 * time.Hour)); n != 0 {
			t.Fatalf("down check without re-alert still due: %d", n)
		}

		claim := func(at time.Duration) []*outbox.Item {
			t.Helper()
			items, err := ob.Claim(ctx, t0.Add(at), outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 2, PerProject: 2})
			if err != nil {
				t.Fatal(err)
			}
			return items
		}
		items, err := ob.Claim(ctx, t0.Add(71*time.Minute), outbox.Claim{Limit: 10, Lease: time.Minute, PerDestination: 2, PerProject: 2})
		if err != nil || len(items) != 1 || items[0].Event != "alert.firing" || items[0].To != (outbox.Destination{Kind: outbox.ToChannel, ID: ch.ID}) || items[0].Attempts != 1 {
			t.Fatalf("claim = %+v, %v", items, err)
		}
		// How a claimed message is leased, fenced and retried is the
		// outbox's (its TestLeaseFenceAndRetry); here it is delivered.
		if err := ob.Finish(ctx, items[0], t0.Add(71*time.Minute), nil, time.Time{}); err != nil {
			t.Fatal(err)
		}

		// Coming back up resolves the alert and notifies.
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0.Add(90 * time.Minute)})
		alerts, _ = alertsOf(db).List(ctx, p.ID)
		if alerts[0].Status != nightjar.AlertResolved {
			t.Fatalf("alert after recovery: %s", alerts[0].Status)
		}
		items = claim(91 * time.Minute)
		if len(items) != 1 || items[0].Event != "alert.resolved" {
			t.Fatalf("resolve notification: %+v", items)
		}
		flips, _ := svc.Flips(ctx, c.ID, time.Time{}, 10)
		var seq []string
		for i := len(flips) - 1; i >= 0; i-- {
			seq = append(seq, flips[i].To)
		}
		if fmt.Sprint(seq) != "[up late down up]" {
			t.Fatalf("flips = %v", seq)
		}
	})
}

func TestRecoverFromGap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "job", nil)
		later := newCheck(t, svc, p, "later", func(c *nightjar.Check) { c.Timeout = 48 * time.Hour })
		ping(t, svc, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0})
		ping(t, svc, &checks.PingRequest{CheckID: later.ID, Kind: nightjar.PingSuccess, At: t0})
		// Nightjar was last alive at t0+10m and restarts at t0+3h: the
		// check's deadline (t0+1h) and down time (t0+1h10m) fell in the gap.
		if err := svc.TouchAlive(ctx, t0.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		aliveAt, _ := svc.AliveAt(ctx)
		restart := t0.Add(3 * time.Hour)
		g, err := svc.RecoverFromGap(ctx, aliveAt, restart, 15*time.Second)
		if err != nil || g.ChecksAdjusted != 1 {
			t.Fatalf("RecoverFromGap = %+v, %v", g, err)
		}
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if !got.State.ExpectedAt.Equal(restart) || !got.State.NextDeadline.Equal(restart) {
			t.Fatalf("expected %s, deadline %s; want both at the restart %s", got.State.ExpectedAt, got.State.NextDeadline, restart)
		}
		svc.ProcessDue(ctx, restart.Add(time.Second), 10)
		got, _ = svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusLate || !got.State.NextDeadline.Equal(restart.Add(c.Grace)) {
			t.Fatalf("right after restart: %s until %s, want late until restart+grace", got.State.Status, got.State.NextDeadline)
		}
		if alerts, _ := alertsOf(db).List(ctx, p.ID); len(alerts) != 0 {
			t.Fatalf("alert right after restart: %+v", alerts)
		}
		svc.ProcessDue(ctx, restart.Add(c.Grace), 10)
		got, _ = svc.Get(ctx, p.ID, c.ID)
		if got.State.Status != nightjar.StatusDown {
			t.Fatalf("after the fresh grace period status is %s, want down", got.State.Status)
		}
		gaps, _ := svc.Gaps(ctx, 10)
		if len(gaps) != 1 || !gaps[0].StartedAt.Equal(aliveAt) || gaps[0].ChecksAdjusted != 1 {
			t.Fatalf("gaps = %+v", gaps)
		}
	})
}

func TestPingBatcherConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		var made []*nightjar.Check
		for i := 0; i < 5; i++ {
			made = append(made, newCheck(t, svc, p, fmt.Sprintf("c%d", i), nil))
		}
		var batches []int
		var mu sync.Mutex
		b := svc.NewRecorder(0, func(n int) { mu.Lock(); batches = append(batches, n); mu.Unlock() })
		var wg sync.WaitGroup
		const per = 40
		for _, c := range made {
			for i := 0; i < per; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := b.Submit(ctx, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0, Method: "GET"})
					if res.Err != nil {
						t.Error(res.Err)
					}
				}()
			}
		}
		wg.Wait()
		b.Close()
		for _, c := range made {
			got, _ := svc.Get(ctx, p.ID, c.ID)
			if got.State.NPings != per {
				t.Fatalf("check %s has %d pings, want %d", c.Slug, got.State.NPings, per)
			}
			pings, _ := svc.Pings(ctx, c.ID, 1000)
			if len(pings) != per || pings[0].N != per {
				t.Fatalf("stored %d pings, newest n=%d", len(pings), pings[0].N)
			}
		}
		if res := b.Submit(ctx, &checks.PingRequest{CheckID: made[0].ID}); res.Err != checks.ErrRecorderClosed {
			t.Fatalf("submit after close: %v", res.Err)
		}
		t.Logf("batch sizes: %v", batches)
	})
}

func TestCheckPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		for i := 0; i < 7; i++ {
			c := nightjar.NewCheck(p.ID, fmt.Sprintf("c%d", i))
			if i%2 == 0 {
				c.Tags = []string{"even"}
			}
			if err := svc.Create(ctx, c, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		page, _ := svc.List(ctx, p.ID, checks.Filter{Limit: 3, Offset: 3})
		if len(page) != 3 || page[0].Slug != "c3" {
			t.Fatalf("page 2 of 3: %d checks starting %s", len(page), page[0].Slug)
		}
		page, _ = svc.List(ctx, p.ID, checks.Filter{Tags: []string{"even"}, Limit: 2, Offset: 1})
		if len(page) != 2 || page[0].Slug != "c2" || page[1].Slug != "c4" {
			t.Fatalf("tagged page: %v", page)
		}
	})
}

// One batch holding pings for the same check by UUID and by slug, unknown
// checks and a created check keeps every ping's order and number.
func TestMixedBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		c := newCheck(t, svc, p, "mixed", nil)
		at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }
		reqs := []*checks.PingRequest{
			{CheckID: c.ID, Kind: nightjar.PingStart, At: at(0), Method: "POST"},
			{PingKey: p.PingKey, Slug: "mixed", Kind: nightjar.PingLog, At: at(1), Method: "POST"},
			{CheckID: "00000000-0000-4000-8000-000000000000", Kind: nightjar.PingSuccess, At: at(2), Method: "POST"},
			{CheckID: c.ID, Kind: nightjar.PingSuccess, At: at(3), Method: "POST"},
			{PingKey: p.PingKey, Slug: "brand-new", Create: true, Kind: nightjar.PingSuccess, At: at(4), Method: "POST"},
			{PingKey: p.PingKey, Slug: "mixed", Kind: nightjar.PingFail, At: at(5), Method: "POST"},
		}
		res := svc.RecordPings(ctx, reqs, 0)
		wantCode(t, res[2].Err, nightjar.ENOTFOUND)
		if !res[4].Created || res[4].Err != nil {
			t.Fatalf("create in batch: %+v", res[4])
		}
		pings, _ := svc.Pings(ctx, c.ID, 10)
		var kinds []string
		for i := len(pings) - 1; i >= 0; i-- {
			kinds = append(kinds, fmt.Sprintf("%d:%s", pings[i].N, pings[i].Kind))
		}
		if fmt.Sprint(kinds) != "[1:start 2:log 3:success 4:fail]" {
			t.Fatalf("pings %v", kinds)
		}
		if pings[1].Duration != 3*time.Second {
			t.Fatalf("duration of the run: %s", pings[1].Duration)
		}
		got, _ := svc.Get(ctx, p.ID, c.ID)
		if got.State.NPings != 4 || got.State.Status != nightjar.StatusDown {
			t.Fatalf("state: %+v", got.State)
		}
	})
}

// Batches larger than one multi-row statement takes are written in
// several, pings and states alike.
func TestLargeBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		var made []*nightjar.Check
		for i := range 250 {
			made = append(made, newCheck(t, svc, p, fmt.Sprintf("c%d", i), nil))
		}
		// 250 checks once each, then 450 pings over the first three.
		var wide, deep []*checks.PingRequest
		for i, c := range made {
			wide = append(wide, &checks.PingRequest{CheckID: c.ID, Kind: nightjar.PingSuccess, At: t0.Add(time.Duration(i) * time.Millisecond), Method: "POST"})
		}
		for i := range 450 {
			deep = append(deep, &checks.PingRequest{CheckID: made[i%3].ID, Kind: nightjar.PingSuccess, At: t0.Add(time.Minute + time.Duration(i)*time.Millisecond), Method: "POST"})
		}
		for _, batch := range [][]*checks.PingRequest{wide, deep} {
			for i, r := range svc.RecordPings(ctx, batch, 0) {
				if r.Err != nil {
					t.Fatalf("ping %d: %v", i, r.Err)
				}
			}
		}
		for i, c := range made {
			want := int64(1)
			if i < 3 {
				want = 151
			}
			got, err := svc.Get(ctx, p.ID, c.ID)
			if err != nil || got.State.NPings != want || got.State.Status != nightjar.StatusUp {
				t.Fatalf("check %d: %+v, %v; want %d pings, up", i, got.State, err, want)
			}
			if pings, err := svc.Pings(ctx, c.ID, 1000); err != nil || int64(len(pings)) != want {
				t.Fatalf("check %d has %d pings stored, want %d (%v)", i, len(pings), want, err)
			}
		}
	})
}

// Concurrent "unique" creates with the same fields make one check; the
// others update it.
func TestUpsertCheckConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := checksOf(db)
		ctx := context.Background()
		p := newProject(t, db, "P")
		const n = 16
		var wg sync.WaitGroup
		start := make(chan struct{})
		created := make(chan bool, n)
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c := nightjar.NewCheck(p.ID, "")
				c.Name = "nightly backup"
				c.Desc = fmt.Sprint("request ", i)
				_, made, err := svc.Upsert(ctx, c, checks.Filter{Name: c.Name},
					func(e *nightjar.Check) bool { return e.Name == c.Name },
					func(e *nightjar.Check) error { e.Desc = c.Desc; return nil }, t0)
				created <- made
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(created)
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		made := 0
		for c := range created {
			if c {
				made++
			}
		}
		all, err := svc.List(ctx, p.ID, checks.Filter{})
		if err != nil || len(all) != 1 || made != 1 {
			t.Fatalf("%d checks, %d reported created (%v); want 1 and 1", len(all), made, err)
		}
		_, _, err = svc.Upsert(ctx, nightjar.NewCheck("no-such-project", ""), checks.Filter{},
			func(*nightjar.Check) bool { return true }, func(*nightjar.Check) error { return nil }, t0)
		wantCode(t, err, nightjar.ENOTFOUND)
	})
}

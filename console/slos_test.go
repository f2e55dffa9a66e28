package console

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/aggregate"
	"github.com/nightjar-dev/nightjar/promsli"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// seedSLO stores a 99% availability objective of service shop in project
// projectID and two hours of its minutes up to end: 100 requests a
// minute, all good but the last ten minutes' (all failed), with a
// minute's user-time each, up while good and down while failing. It
// returns the objective.
func seedSLO(t testing.TB, svc *slos.Service, projectID, name string, end time.Time) *slos.SLO {
	t.Helper()
	ctx := context.Background()
	o := &slos.SLO{ProjectID: projectID, Definition: slo.Definition{Service: "shop", Name: name, Objective: 99,
		Window: slo.Window{Rolling: "30d"}, Indicator: slo.Indicator{Kind: slo.KindAvailability}, Alerting: slo.Alerting{MinEvents: 1}}}
	if err := svc.Create(ctx, o, end.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var rows []aggregate.Row
	for i := 120; i >= 1; i-- {
		b := slo.Bucket{Counts: slo.Counts{Total: 100, Good: 100, UpMs: 60000}}
		if i <= 10 {
			b.Good, b.UpMs, b.DownMs = 0, 0, 60000
		}
		rows = append(rows, aggregate.Row{SLOID: o.ID, ProjectID: projectID, Minute: end.Truncate(time.Minute).Add(-time.Duration(i) * time.Minute), Bucket: b})
	}
	if err := svc.AddMinutes(ctx, rows, end); err != nil {
		t.Fatal(err)
	}
	return o
}

// observeUsers has three customers of o make requests just before now:
// one succeeds, two fail.
func observeUsers(t testing.TB, agg *aggregate.Aggregator, o *slos.SLO, now time.Time) {
	t.Helper()
	obj, err := o.Objective()
	if err != nil {
		t.Fatal(err)
	}
	agg.Set([]aggregate.Target{{ID: o.ID, ProjectID: o.ProjectID, Objective: obj}})
	for i, failed := range []bool{false, true, true} {
		r := &slo.Request{Service: "shop", SpanName: "GET /cart", SpanKind: "SERVER", Failed: failed}
		if !agg.Observe(o.ProjectID, r, fmt.Sprintf("user-%d", i), now.Add(-time.Duration(30+i)*time.Second), now) {
			t.Fatal("request not counted")
		}
	}
}

var (
	tagRE        = regexp.MustCompile(`<[^>]*>`)
	goDurationRE = regexp.MustCompile(`\b\d+(h\d+m|m\d+s|h0m0s)`)
)

// pageText is a page's text without its markup.
func pageText(body string) string { return tagRE.ReplaceAllString(body, " ") }

// The SLO list, an SLO's page and the overview show the slos area's
// figures for the seeded minutes, and the customers ingest counts as
// having a bad time now.
func TestSLOPages(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		now := e.clock.Now()
		svc := e.areas.SLOs
		viewer := e.login("viewer@a.test")
		if _, body := viewer.get("/"); strings.Contains(body, "having a bad time") {
			t.Error("the overview of a project without SLOs has a bad-time block")
		}
		if _, body := viewer.get("/slos"); !strings.Contains(body, "No SLOs yet") {
			t.Error("the empty SLO list does not say how to add one")
		}
		o := seedSLO(t, svc, e.a.ID, "checkout", now)
		other := seedSLO(t, svc, e.b.ID, "beta-only", now)
		agg := e.areas.SLOs.Ingest
		observeUsers(t, agg, o, now)
		_, st, err := svc.Status(ctx, e.a.ID, o.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		bt, err := svc.BadTimeOf(ctx, e.a.ID, o.ID, now)
		if err != nil || bt.Active != 3 || bt.Down != 2 {
			t.Fatalf("the area counts %+v (%v); the seed wants 3 active and 2 down", bt, err)
		}
		active, down := bt.Active, bt.Down
		// 1,000 bad of 12,000 requests against a 1% budget: 120 allowed.
		if got := pct(st.Decision.Budget.Remaining, 1); got != "-733.3%" {
			t.Fatalf("the area's budget remaining is %s, want -733.3%%", got)
		}
		if !st.Decision.Firing("page") {
			t.Fatal("the seeded burn does not fire the page rule")
		}

		// The list shows what the evaluation stored: nothing before it.
		if _, body := viewer.get("/slos"); !strings.Contains(between(t, body, `<tr id="slo-`+o.ID+`">`, `</tr>`), "no data") {
			t.Error("the list shows figures for an objective not evaluated yet")
		}
		if _, err := svc.ProcessDue(ctx, now, 100); err != nil {
			t.Fatal(err)
		}
		code, body := viewer.get("/slos")
		if code != http.StatusOK {
			t.Fatalf("GET /slos = %d", code)
		}
		row := between(t, body, `<tr id="slo-`+o.ID+`">`, `</tr>`)
		for _, want := range []string{"checkout", ">99%<", "30 days, rolling", "-733.3%", "burning",
			"1 h " + times(st.Decision.Rules[0].LongBurn) + " · 5 min " + times(st.Decision.Rules[0].ShortBurn),
			fmt.Sprintf(`<strong class="bad">%d of %d</strong> having a bad time`, down, active)} {
			if !strings.Contains(row, want) {
				t.Errorf("the list's row lacks %q:\n%s", want, row)
			}
		}
		if strings.Contains(body, "beta-only") {
			t.Error("the list shows another project's SLO")
		}

		code, body = viewer.get("/slos/" + o.ID)
		if code != http.StatusOK {
			t.Fatalf("GET /slos/{id} = %d", code)
		}
		ratio, _ := st.UserTime.Ratio()
		for _, want := range []string{
			fmt.Sprintf(`<strong class="bad">%d</strong> of %d active customers`, down, active),
			"12000 counted, 1000 bad", "-733.3% left (833.3% spent)", times(st.Decision.BurnRate) + "; budget runs out spent",
			pctTrim(ratio, 3), `id="burn-down"`, `id="traffic"`, `id="windowed"`, "requests per 2 min", "window size (log scale)"} {
			if !strings.Contains(body, want) {
				t.Errorf("the SLO's page lacks %q", want)
			}
		}
		// The budget's axis steps by a round 200% from below the lowest
		// -733% up to 0%, and stops at 100%.
		burnDown := between(t, body, `id="burn-down"`, `</svg>`)
		var labels []string
		for _, m := range regexp.MustCompile(`<text class="axis" x="58"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(burnDown, -1) {
			labels = append(labels, m[1])
		}
		if got := strings.Join(labels, " "); got != "-800% -600% -400% -200% 0%" {
			t.Errorf("the budget chart's y axis reads %q, want -800%% -600%% -400%% -200%% 0%%", got)
		}
		rules := between(t, body, `<table class="dense rules stack-narrow">`, `</table>`)
		if n := strings.Count(rules, "<strong class=\"bad\">firing</strong>"); n != countFiring(st) {
			t.Errorf("the rules table shows %d firing rules, the area %d", n, countFiring(st))
		}
		text := pageText(body)
		if m := rfc3339.FindString(text); m != "" {
			t.Errorf("raw time %s in the page's text", m)
		}
		if m := goDurationRE.FindString(text); m != "" {
			t.Errorf("Go duration %s in the page's text", m)
		}

		code, body = viewer.get("/")
		if code != http.StatusOK || !strings.Contains(between(t, body, `<tr id="bt-`+o.ID+`">`, `</tr>`), fmt.Sprintf("%d of %d</strong> having a bad time", down, active)) {
			t.Errorf("the overview lacks the bad-time line: %d", code)
		}
		if code, _ := viewer.get("/slos/" + other.ID); code != http.StatusNotFound {
			t.Errorf("another project's SLO = %d, want 404", code)
		}
		if code, _ := viewer.get("/slos/nope"); code != http.StatusNotFound {
			t.Errorf("an unknown SLO = %d, want 404", code)
		}
		_, body = e.login("owner@b.test").get("/")
		if !strings.Contains(body, "bt-"+other.ID) || strings.Contains(body, "bt-"+o.ID) {
			t.Error("project b's overview does not show its own SLO only")
		}

		// Another replica counted requests of a second objective of the
		// same service, of user-2 (since recovered) and a new user-3
		// (failed), and flushed them: the overview counts each customer
		// of the service once, across objectives and replicas.
		o2 := seedSLO(t, svc, e.a.ID, "search", now)
		replica := aggregate.New(aggregate.Limits{})
		var targets []aggregate.Target
		for _, x := range []*slos.SLO{o, o2} {
			obj, err := x.Objective()
			if err != nil {
				t.Fatal(err)
			}
			targets = append(targets, aggregate.Target{ID: x.ID, ProjectID: x.ProjectID, Objective: obj})
		}
		replica.Set(targets)
		for i, failed := range map[int]bool{2: false, 3: true} {
			r := &slo.Request{Service: "shop", SpanName: "GET /search", SpanKind: "SERVER", Failed: failed}
			if !replica.Observe(e.a.ID, r, fmt.Sprintf("user-%d", i), now.Add(-10*time.Second), now) {
				t.Fatal("request not counted")
			}
		}
		if err := svc.AddRecentUsers(ctx, replica.ChangedUsers(), now); err != nil {
			t.Fatal(err)
		}
		_, body = viewer.get("/")
		for row, want := range map[string]string{`<tr class="bt-service-total" data-service="shop">`: "2 of 4", `<tr id="bt-` + o.ID + `">`: "2 of 4",
			`<tr id="bt-` + o2.ID + `">`: "1 of 2"} {
			if got := between(t, body, row, `</tr>`); !strings.Contains(got, want+"</strong> having a bad time") {
				t.Errorf("the overview's %s lacks %q: %s", row, want, got)
			}
		}
		if strings.Count(body, `class="bt-service-total"`) != 1 {
			t.Error("the overview shows the shop service more than once")
		}
		_, body = viewer.get("/slos/" + o2.ID)
		if !strings.Contains(body, `<strong class="bad">1</strong> of 2 active customers`) {
			t.Error("the second objective's page does not count the other replica's customers")
		}
	})
}

func countFiring(st *slos.Status) int {
	n := 0
	for _, r := range st.Decision.Rules {
		if r.Firing {
			n++
		}
	}
	return n
}

// between returns the part of s from the first start to the next end.
func between(t testing.TB, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("no %q in the page", start)
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatalf("no %q after %q", end, start)
	}
	return s[i : i+j]
}

// failingProm is a Prometheus that cannot be read.
type failingProm struct{}

func (failingProm) Fetch(context.Context, slo.PromQuery, time.Time, time.Time) (*promsli.Minutes, error) {
	return nil, fmt.Errorf("%w: prometheus.test answered 503", promsli.ErrUnavailable)
}

// A failed Prometheus read, stored by whichever replica made it (here
// another Service on the database), shows on the list and the SLO's page,
// with when it happened; a good read takes it away.
func TestSLOSourceErrorShown(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		now := e.clock.Now()
		d := slo.Definition{Service: "shop", Name: "prom", Objective: 99, Window: slo.Window{Rolling: "30d"},
			Indicator: slo.Indicator{Kind: slo.KindAvailability, Prometheus: &slo.PromQuery{URL: "http://prometheus.test:9090", Good: "good", Total: "total"}}}
		o := &slos.SLO{ProjectID: e.a.ID, Definition: d}
		if err := e.areas.SLOs.Create(ctx, o, now); err != nil {
			t.Fatal(err)
		}
		replica := slos.New(db, nil)
		if _, err := replica.FetchPrometheus(ctx, failingProm{}, now.Add(-3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		viewer := e.login("viewer@a.test")
		_, body := viewer.get("/slos")
		row := between(t, body, `<tr id="slo-`+o.ID+`">`, `</tr>`)
		if !strings.Contains(row, "Prometheus read failed") || !strings.Contains(row, "3 min ago") || !strings.Contains(row, "prometheus.test answered 503") {
			t.Errorf("the list's row does not show the source error:\n%s", row)
		}
		_, body = viewer.get("/slos/" + o.ID)
		notice := between(t, body, `id="source-error"`, `</p>`)
		if !strings.Contains(notice, "3 min ago") || !strings.Contains(notice, "prometheus.test answered 503") {
			t.Errorf("the SLO's page does not show the source error:\n%s", notice)
		}

		if _, err := replica.FetchPrometheus(ctx, okProm{}, now); err != nil {
			t.Fatal(err)
		}
		if _, body := viewer.get("/slos/" + o.ID); strings.Contains(body, `id="source-error"`) {
			t.Error("the SLO's page still shows the error after a good read")
		}
	})
}

// okProm is a Prometheus that answers with no minutes.
type okProm struct{}

func (okProm) Fetch(_ context.Context, _ slo.PromQuery, from, _ time.Time) (*promsli.Minutes, error) {
	return &promsli.Minutes{Start: from}, nil
}

package console

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// A responder's path in a real browser: create a schedule and see who is
// on call, open the paging incident from the list, acknowledge it and see
// the acknowledgement in its timeline. Every incident response page fits
// a phone's screen in both themes; screenshots are kept to look at.
func TestIncidentResponseInBrowser(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	ctx := context.Background()
	r := newResponders(t)
	db, p, areas, mia := r.db, r.project, r.areas, r.mia
	fire := pagingSetup(t, db, areas.Incidents, p.ID, mia.ID)
	fire("checkout-errors", nightjar.AlertFiring, time.Now().Add(-3*time.Minute))
	srv := startStack(t, db)

	page := b.NewPage(t)
	page.Do(chromedp.EmulateViewport(1280, 900))
	page.Navigate(srv.URL + "/login")
	page.Fill("#email", "owner@acme.test")
	page.Fill("#password", pw)
	page.Submit("form[action='/login']")
	page.WaitText("h1", "Overview")
	page.WaitText("#open-incidents + table", "checkout-errors is down") // open incidents come first

	// A daily rotation of Mia then the owner, started an hour ago in UTC:
	// Mia is on call now.
	page.Navigate(srv.URL + "/schedules")
	page.Fill("#sch-name", "Primary")
	page.Fill("#sch-tz", "UTC")
	page.Click("#p-" + mia.ID)
	owner, err := areas.Accounts.UserByEmail(ctx, "owner@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	page.Click("#p-" + owner.ID)
	page.Fill("#sch-shift", "daily")
	var ignored bool
	page.Eval(`(document.getElementById("sch-start").value = "`+time.Now().UTC().Add(-time.Hour).Format(localInput)+`", true)`, &ignored)
	page.Submit("form[action='/schedules']")
	page.WaitText("h1", "Primary")
	page.WaitText("#oncall-now", "mia@acme.test")
	page.WaitText(".calendar .today", "mia@acme.test")
	schedulePath := strings.TrimPrefix(page.URL(), srv.URL)
	page.Screenshot("schedule-1280-light")

	page.Navigate(srv.URL + "/incidents")
	page.Click("a[href='/incidents/1']")
	page.WaitText("h1", "#1 checkout-errors is down")
	page.WaitText("#status", "triggered")
	page.Click("#ack")
	page.WaitText("#status", "acknowledged")
	page.WaitText(".timeline .e-acknowledged", "Acknowledged by owner@acme.test")
	var ackButtons int
	page.Eval(`document.querySelectorAll("#ack").length`, &ackButtons)
	if ackButtons != 0 {
		t.Fatal("the acknowledged incident still offers Acknowledge")
	}
	page.Fill("#note-text", "Rolled back the deploy")
	page.Submit("form[action='/incidents/1/note']")
	page.WaitText(".timeline", "Rolled back the deploy")
	page.Screenshot("incident-1280-light")
	page.Do(colorScheme("dark"))
	page.Navigate(srv.URL + "/incidents/1")
	page.WaitVisible(".timeline")
	page.Screenshot("incident-1280-dark")

	paths := []string{"/", "/incidents", "/incidents/1", "/incidents/1/postmortem", "/schedules", schedulePath, "/services", "/teams", "/policies",
		"/routes", "/silences", "/maintenance", "/contacts"}
	// Widths and labels do not depend on the theme: one pass, in the dark.
	page.Do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile), colorScheme("dark"))
	for _, path := range paths {
		page.Navigate(srv.URL + path)
		page.WaitVisible("main")
		var overflow int
		page.Eval(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow)
		if overflow > 0 {
			t.Errorf("%s is %d px wider than a 375 px screen", path, overflow)
		}
		var unlabelled []string
		page.Eval(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
			.filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")).map(el => el.name || el.id)`, &unlabelled)
		if len(unlabelled) > 0 {
			t.Errorf("%s has form controls without a label: %v", path, unlabelled)
		}
	}
	page.Navigate(srv.URL + "/policies")
	page.Screenshot("policies-375-dark")
	for _, scheme := range []string{"dark", "light"} {
		page.Do(colorScheme(scheme))
		checkContrast(t, page, srv.URL+"/incidents/1")
		page.Screenshot("incident-375-" + scheme)
		checkContrast(t, page, srv.URL+schedulePath)
		page.Screenshot("schedule-375-" + scheme)
	}
	if !strings.HasPrefix(page.URL(), srv.URL) {
		t.Fatalf("left the site: %s", page.URL())
	}
}

// responders is the project Acme on SQLite with its owner and Mia, a
// member, who is paged for the service "api" (see pagingSetup).
type responders struct {
	db      *store.DB
	project *nightjar.Project
	areas   Areas
	mia     *nightjar.User
}

func newResponders(t *testing.T) *responders {
	t.Helper()
	r := &responders{db: storetest.Open(t, "sqlite")}
	r.project, r.areas = acme(t, r.db), areasOf(r.db)
	var err error
	if r.mia, err = r.areas.Accounts.CreateUser(context.Background(), "mia@acme.test", pw, r.project.ID, nightjar.RoleMember, time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

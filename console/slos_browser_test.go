package console

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// The SLO list, an SLO's page and the overview's customers having a bad
// time (per service and per SLO) in a browser, with seeded minutes and
// customers: the figures are there, the charts draw lines, and at 375 px
// nothing scrolls sideways and the charts' labels stay readable.
// Screenshots at both widths and in both themes are kept for a person to
// look at.
func TestSLOPagesInBrowser(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	p := acme(t, db)
	areas := areasOf(db)
	now := time.Now()
	o := seedSLO(t, areas.SLOs, p.ID, "checkout-availability", now)
	seedSLO(t, areas.SLOs, p.ID, "search-availability", now.Add(-3*time.Hour))
	observeUsers(t, areas.SLOs.Ingest, o, now)
	if _, err := areas.SLOs.ProcessDue(context.Background(), now, 100); err != nil {
		t.Fatal(err)
	}
	srv := startStackWith(t, db, areas)

	page := b.NewPage(t)
	page.SetTimeout(2 * time.Minute)
	page.Do(chromedp.EmulateViewport(1280, 900))
	page.Navigate(srv.URL + "/login")
	page.Fill("#email", "owner@acme.test")
	page.Fill("#password", pw)
	page.Submit("form[action='/login']")
	page.WaitText(".badtime-now tr.bt-service-total", "2 of 3")
	page.WaitText(".badtime-now #bt-"+o.ID, "2 of 3")
	page.Navigate(srv.URL + "/slos")
	page.WaitText("#slo-"+o.ID, "burning")
	page.WaitText("#slo-"+o.ID, "2 of 3")
	page.Click("#slo-" + o.ID + " a")
	page.WaitText("#badtime", "2 of 3 active customers")
	for _, id := range []string{"burn-down", "traffic", "windowed"} {
		var points int
		page.Eval(`[...document.querySelectorAll("#`+id+` polyline")].reduce((n, l) => n + l.points.numberOfItems, 0)`, &points)
		if points < 2 {
			t.Errorf("chart %s draws %d points", id, points)
		}
	}

	// The form puts the domain's problem beside its field.
	page.Navigate(srv.URL + "/slos/" + o.ID + "/edit")
	page.Fill("#objective", "100")
	page.Submit("form.sloform")
	page.WaitText("#objective-error", "The target must be")
	page.Screenshot("sloform-error-1280-light")

	for _, scheme := range []string{"light", "dark"} {
		page.Do(colorScheme(scheme))
		for _, width := range []int{1280, 375} {
			if width == 375 {
				page.Do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
			} else {
				page.Do(chromedp.EmulateViewport(1280, 900))
			}
			for name, path := range map[string]string{"slos": "/slos", "slo": "/slos/" + o.ID, "overview": "/", "sloform": "/slos/" + o.ID + "/edit"} {
				page.Navigate(srv.URL + path)
				page.WaitVisible("main")
				var overflow int
				page.Eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
				if overflow > 0 {
					t.Errorf("%s is %d px wider than a %d px screen (%s)", path, overflow, width, scheme)
				}
				if name == "slo" {
					// Axis labels drawn at 13 px shrink with the chart;
					// below 8 px on screen nobody reads them.
					var smallest float64
					page.Eval(`Math.min(...[...document.querySelectorAll("svg.chart text.axis")].map(t => t.getBoundingClientRect().height))`, &smallest)
					if smallest < 8 {
						t.Errorf("chart labels %.1f px high at %d px", smallest, width)
					}
					// The rules table's cells get room enough that
					// "held: too small a share of the budget" is not
					// squeezed to a word a line.
					var narrowest float64
					page.Eval(`Math.min(...[...document.querySelectorAll("table.rules td")].filter(td => td.getClientRects().length).map(td => td.getBoundingClientRect().width))`, &narrowest)
					if width == 375 && narrowest < 200 {
						t.Errorf("a cell of the rules table is %.0f px wide at 375 px", narrowest)
					}
				}
				page.Screenshot(name + "-" + strconv.Itoa(width) + "-" + scheme)
			}
		}
	}
}

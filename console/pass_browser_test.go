package console

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// What the second pass fixed, as a browser shows it: red buttons sit in
// their rows, the check form shows the chosen kind's fields and puts a
// server error beside its field, Save and Cancel keep apart, labels stay
// with their controls on a phone, and a down check says why. Screenshots
// at both widths and in both themes are kept for a person to look at.
func TestConsolePassInBrowser(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	p := acme(t, db)
	areas := areasOf(db)
	now := time.Now()
	if _, err := areas.Accounts.CreateUser(ctx, "mia@acme.test", pw, p.ID, nightjar.RoleMember, now); err != nil {
		t.Fatal(err)
	}
	if err := channels.New(db).Create(ctx, &nightjar.Channel{ProjectID: p.ID, Kind: nightjar.ChannelWebhook, Name: "ops hook",
		Config: nightjar.ChannelConfig{URL: "https://hooks.example.com/ops"}}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := projects.New(db).CreateKey(ctx, &nightjar.APIKey{ProjectID: p.ID, Name: "terraform", Scope: nightjar.ScopeReadWrite}, "", now); err != nil {
		t.Fatal(err)
	}
	down := nightjar.NewCheck(p.ID, "Nightly backup")
	down.Tags = []string{"prod"}
	if err := areas.Checks.Create(ctx, down, now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A few more checks in other states, for the overview and its screenshot.
	for i, st := range []string{nightjar.StatusLate, nightjar.StatusStarted, nightjar.StatusUp, nightjar.StatusUp, nightjar.StatusUp, nightjar.StatusPaused} {
		c := nightjar.NewCheck(p.ID, []string{"Invoice export", "Search reindex", "Certificate renewal", "Log rotation", "Metrics rollup", "Old reports"}[i])
		c.Timeout = time.Hour
		c.State.Status = st
		c.State.LastPing = now.Add(-time.Duration(70+i*5) * time.Minute)
		c.State.ExpectedAt = c.State.LastPing.Add(time.Hour)
		c.State.LastStart = now.Add(-4 * time.Minute)
		c.State.NextDeadline = now.Add(26 * time.Minute)
		c.State.Since = now.Add(-time.Duration(10+i) * time.Minute)
		if st == nightjar.StatusUp {
			c.State.LastPing = now.Add(-time.Duration(i) * time.Minute)
			c.State.ExpectedAt = c.State.LastPing.Add(time.Hour)
		}
		if err := areas.Checks.Create(ctx, c, now.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	srv := startStack(t, db)
	for _, path := range []string{"/ping/" + down.ID + "?m=bytes:1200000", "/ping/" + down.ID + "/start", "/ping/" + down.ID + "/2?m=bytes:300000"} {
		res, err := http.Post(srv.URL+path, "text/plain", strings.NewReader("rsync: disk full"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}

	page := b.NewPage(t)
	page.SetTimeout(2 * time.Minute)
	page.Do(chromedp.EmulateViewport(1280, 900))
	page.Navigate(srv.URL + "/login")
	page.Fill("#email", "owner@acme.test")
	page.Fill("#password", pw)
	page.Submit("form[action='/login']")
	page.WaitText("h1", "Overview")
	page.WaitText(".attention", "the job exited with status 2")
	page.WaitText(".attention", "running for 4 min, must finish by")
	page.WaitText(".attention", "no ping since 1 h 10 min ago; one was expected 10 min ago")

	page.Navigate(srv.URL + "/checks/" + down.ID)
	page.WaitText("#reason", "the job exited with status 2")
	page.WaitVisible("#metric-0")
	page.WaitText("main", "Metric bytes")
	page.WaitText("table.pings", "bytes 1.2 MB")

	// Red buttons sit in their rows, centred like the rest of the row.
	for _, path := range []string{"/channels", "/settings"} {
		page.Navigate(srv.URL + path)
		page.WaitVisible("main")
		var off []string
		page.Eval(`[...document.querySelectorAll("td button.danger")].map(b => {
			const r = b.getBoundingClientRect(), row = b.closest("tr").getBoundingClientRect();
			const centre = Math.abs((r.top + r.bottom) / 2 - (row.top + row.bottom) / 2);
			return centre > 6 || r.top < row.top || r.bottom > row.bottom ? b.textContent + " " + Math.round(centre) + " px off" : "";
		}).filter(Boolean)`, &off)
		if len(off) > 0 {
			t.Errorf("%s: red buttons out of their rows: %v", path, off)
		}
		var tall []string
		page.Eval(`[...document.querySelectorAll("td a.button")].filter(a => a.getBoundingClientRect().height > 40).map(a => a.textContent)`, &tall)
		if len(tall) > 0 {
			t.Errorf("%s: stretched row buttons: %v", path, tall)
		}
	}
	page.Navigate(srv.URL + "/settings")
	page.WaitText("main", "only owner")
	page.Screenshot("settings-1280-light")

	// The form shows the chosen kind's fields, and Advanced holds the rest.
	page.Navigate(srv.URL + "/checks/new")
	page.WaitVisible("#timeout")
	visible := func(sel string) bool {
		var v bool
		page.Eval(`(() => { const el = document.querySelector(`+jsQuote(sel)+`); return !!el && el.checkVisibility(); })()`, &v)
		return v
	}
	for _, sel := range []string{"#schedule", "#tz", "#min_runtime", "#slug"} {
		if visible(sel) {
			t.Errorf("a period check's form shows %s", sel)
		}
	}
	page.Click("#kind-cron")
	page.WaitVisible("#schedule")
	if visible("#timeout") {
		t.Error("a cron check's form shows the period")
	}
	page.Screenshot("checkform-1280-light")
	page.Click("#kind-simple")
	page.Fill("#name", "Hourly sync")
	page.Fill("#timeout", "1h")
	page.Fill("#grace", "soon")
	page.Submit("form.checkform")
	page.WaitText("#grace-error", "The grace period must be a duration such as 90s, 15m, 1h or 2d")
	var gap float64
	page.Eval(`document.querySelector("#grace").getBoundingClientRect().top - document.querySelector("#grace-error").getBoundingClientRect().bottom`, &gap)
	if gap < 0 || gap > 12 {
		t.Errorf("the grace error is %.0f px from its field", gap)
	}
	page.Fill("#grace", "15m")
	page.Click("details.advanced summary")
	page.Fill("#min_runtime", "-3")
	page.Submit("form.checkform")
	page.WaitText("#min_runtime-error", "The min runtime")
	if !visible("#min_runtime") {
		t.Error("an error in Advanced leaves it closed")
	}
	page.Fill("#min_runtime", "0s")
	page.Submit("form.checkform")
	page.WaitText("h1", "Hourly sync")
	page.WaitText(".facts", "every 1 h, grace 15 min")
	page.Click("a[href$='/edit']")
	page.WaitVisible("#name")
	var apart float64
	page.Eval(`(() => { const s = document.querySelector(".form-actions button").getBoundingClientRect(), c = document.querySelector(".form-actions a").getBoundingClientRect();
		return c.left - s.right; })()`, &apart)
	if apart < 8 {
		t.Errorf("Save and Cancel are %.0f px apart", apart)
	}

	// Editing the down check's description leaves its Since alone.
	stored, err := areas.Checks.Get(ctx, p.ID, down.ID)
	if err != nil {
		t.Fatal(err)
	}
	page.Navigate(srv.URL + "/checks/" + down.ID + "/edit")
	page.Fill("#desc", "Copies the database to the backup host")
	page.Submit("form.checkform")
	page.WaitText("main", "Copies the database to the backup host")
	page.Navigate(srv.URL + "/")
	page.WaitVisible(".attention")
	var since string
	page.Eval(`document.querySelector("#att-`+down.ID+` td:nth-child(3) time").getAttribute("datetime")`, &since)
	if want := stored.State.Since.UTC().Format(time.RFC3339); since != want {
		t.Errorf("after an edit the overview says down since %s, want %s", since, want)
	}

	for _, scheme := range []string{"light", "dark"} {
		page.Do(colorScheme(scheme))
		page.Do(chromedp.EmulateViewport(1280, 900))
		for _, path := range []string{"/", "/checks/" + down.ID, "/channels"} {
			page.Navigate(srv.URL + path)
			page.WaitVisible("main")
			page.Screenshot("1280-" + scheme + shotName(path))
		}
		page.Do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
		for _, path := range []string{"/", "/checks", "/checks/" + down.ID, "/checks/new", "/settings", "/channels"} {
			page.Navigate(srv.URL + path)
			page.WaitVisible("main")
			var overflow int
			page.Eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
			if overflow > 0 {
				t.Errorf("%s is %d px wider than a 375 px screen (%s)", path, overflow, scheme)
			}
			if path == "/checks/new" {
				var apartLabels []string
				page.Eval(`[...document.querySelectorAll(".checkform label[for]")].map(l => {
					const c = document.getElementById(l.htmlFor);
					if (!c || !c.getClientRects().length || c.type === "radio" || c.type === "checkbox") return "";
					const d = c.getBoundingClientRect().top - l.getBoundingClientRect().bottom;
					return d < -1 || d > 12 ? l.htmlFor + " " + Math.round(d) : "";
				}).filter(Boolean)`, &apartLabels)
				if len(apartLabels) > 0 {
					t.Errorf("labels away from their controls at 375 px: %v", apartLabels)
				}
			}
			page.Screenshot("375-" + scheme + shotName(path))
		}
	}

	// NIGHTJAR_TEST_OVERVIEW_PNG names a file to write the README's
	// picture of the console to (docs/overview.png): the overview at
	// 1280 × 600 px (tall enough for no scroll bar) in the light theme.
	if out := os.Getenv("NIGHTJAR_TEST_OVERVIEW_PNG"); out != "" {
		page.Do(colorScheme("light"), chromedp.EmulateViewport(1280, 600))
		page.Navigate(srv.URL + "/")
		page.WaitText(".attention", "running for 4 min")
		png, err := os.ReadFile(page.Screenshot("readme-overview"))
		if err == nil {
			err = os.WriteFile(out, png, 0o644)
		}
		if err != nil {
			t.Errorf("write the README's overview: %v", err)
		}
	}
}

func shotName(path string) string {
	if path == "/" {
		return "-overview"
	}
	if strings.HasPrefix(path, "/checks/") && path != "/checks/new" {
		return "-check"
	}
	return strings.ReplaceAll(path, "/", "-")
}

// jsQuote quotes s as a JavaScript string.
func jsQuote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

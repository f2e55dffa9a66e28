package console

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// darkMode makes the page prefer a dark colour scheme.
func darkMode() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	})
}

// On a phone-sized screen, in the dark theme, no page scrolls sideways and
// the theme really is dark; screenshots are kept for a person to look at.
func TestPhoneAndDarkTheme(t *testing.T) {
	b := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	p := acme(t, db)
	c := nightjar.NewCheck(p.ID, "Nightly backup with a rather long name")
	c.Tags = []string{"prod", "database"}
	if err := db.CreateCheck(ctx, c, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := startStack(t, db)

	page := b.NewPage(t)
	page.Do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile), darkMode())
	page.Navigate(srv.URL + "/login")
	page.Fill("#email", "owner@acme.test")
	page.Fill("#password", pw)
	page.Submit("form[action='/login']")
	page.WaitText("h1", "Overview")
	var bg string
	page.Eval(`getComputedStyle(document.body).backgroundColor`, &bg)
	if bg != "rgb(13, 17, 23)" {
		t.Errorf("dark theme background is %s", bg)
	}
	for _, path := range []string{"/", "/checks", "/checks/" + c.ID, "/checks/new", "/channels", "/settings", "/account"} {
		page.Navigate(srv.URL + path)
		page.WaitVisible("main")
		var overflow int
		page.Eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
		if overflow > 0 {
			t.Errorf("%s is %d px wider than a 375 px screen", path, overflow)
		}
		// Every form control has a label a screen reader can read.
		var unlabelled []string
		page.Eval(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
			.filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")).map(el => el.name || el.id)`, &unlabelled)
		if len(unlabelled) > 0 {
			t.Errorf("%s has form controls without a label: %v", path, unlabelled)
		}
	}
	page.Navigate(srv.URL + "/checks/" + c.ID)
	page.Screenshot("phone-dark-check")
}

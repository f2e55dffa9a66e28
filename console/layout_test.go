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

// colorScheme makes the page prefer a "dark" or "light" colour scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// On a phone-sized screen, in the dark theme, no page scrolls sideways and
// the theme really is dark; screenshots are kept for a person to look at.
func TestPhoneAndDarkTheme(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	p := acme(t, db)
	c := nightjar.NewCheck(p.ID, "Nightly backup with a rather long name")
	c.Tags = []string{"prod", "database"}
	if err := checksOf(db).Create(ctx, c, time.Now()); err != nil {
		t.Fatal(err)
	}
	// One check in each status, so every badge's colours are measured.
	for _, st := range []string{nightjar.StatusUp, nightjar.StatusLate, nightjar.StatusDown, nightjar.StatusStarted, nightjar.StatusPaused} {
		sc := nightjar.NewCheck(p.ID, "check "+st)
		sc.State.Status = st
		if err := checksOf(db).Create(ctx, sc, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	srv := startStack(t, db)

	page := b.NewPage(t)
	page.Do(chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile), colorScheme("dark"))
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
	checkContrast(t, page, srv.URL+"/checks")
	page.Do(colorScheme("light"))
	checkContrast(t, page, srv.URL+"/checks")
}

// contrastJS returns, for every text element inside main and the header,
// its WCAG contrast ratio against the nearest opaque background, and the
// worst few.
const contrastJS = `(() => {
  const lum = c => {
    const [r, g, b] = c.match(/[0-9.]+/g).slice(0, 3).map(Number).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      const m = c.match(/[0-9.]+/g);
      if (m && (m.length < 4 || Number(m[3]) > 0.5)) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const out = [];
  for (const el of document.querySelectorAll("header *, main *")) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    out.push({text: el.textContent.trim().slice(0, 30), ratio: Math.round(ratio * 100) / 100});
  }
  return out.sort((x, y) => x.ratio - y.ratio).slice(0, 5);
})()`

// checkContrast fails when any text on the page has a contrast ratio under
// 4.5:1, the WCAG AA level for normal text.
func checkContrast(t *testing.T, page *browsertest.Page, url string) {
	t.Helper()
	page.Navigate(url)
	page.WaitVisible("main")
	var worst []struct {
		Text  string  `json:"text"`
		Ratio float64 `json:"ratio"`
	}
	page.Eval(contrastJS, &worst)
	if len(worst) == 0 {
		t.Fatal("no text measured")
	}
	for _, w := range worst {
		if w.Ratio < 4.5 {
			t.Errorf("%q has contrast %.2f:1, under 4.5:1", w.Text, w.Ratio)
		}
	}
	t.Logf("lowest contrast on %s: %.2f:1 (%q)", url, worst[0].Ratio, worst[0].Text)
}

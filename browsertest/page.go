package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Page is one browser tab, in a browser context (cookies, storage, cache)
// of its own. Its helpers fail the test on error, after saving the
// failure's artifacts (see ArtifactDir); call them from the test's
// goroutine. All steps on a page share one deadline, PageTimeout after
// NewPage (see SetTimeout).
type Page struct {
	t   testing.TB
	b   *Browser
	tab context.Context // chromedp context of the tab; it has no deadline

	deadline time.Time
	timeout  time.Duration

	mu       sync.Mutex
	console  []string // what the page wrote to its console, and its errors
	steps    []string // the helpers called so far, for the failure log
	failures int
}

// maxKept bounds the console lines and steps a page remembers.
const maxKept = 500

// pollInterval is how often WaitText looks at the page.
const pollInterval = 100 * time.Millisecond

// NewPage opens a tab for the test, closed when the test ends. The tab
// starts at about:blank.
func (b *Browser) NewPage(t testing.TB) *Page {
	t.Helper()
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(
		func(p *target.CreateBrowserContextParams) {
			p.ProxyServer = "http://" + b.proxy.addr()
			p.ProxyBypassList = proxyBypassList
		}))
	t.Cleanup(cancel)
	p := &Page{t: t, b: b, tab: tab}
	// Like the browser, a tab lives as long as the context of its first
	// Run, so that Run gets the tab's own context, under a watchdog.
	if err := runBounded(tab, cancel, startTimeout, chromedp.Steps()); err != nil {
		t.Fatalf("browsertest: open a tab: %v\nbrowser output:\n%s", err, b.output.String())
	}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.remember(&p.console, m.Time.Format("15:04:05.000")+" "+m.String())
		}
	}()
	p.SetTimeout(b.PageTimeout)
	return p
}

// SetTimeout gives the page's remaining steps d from now, for a step that
// is known to be slow, or for a wait that is expected to fail.
func (p *Page) SetTimeout(d time.Duration) {
	if d <= 0 {
		d = DefaultPageTimeout
	}
	p.timeout = d
	p.deadline = time.Now().Add(d)
	// Fail with artifacts before `go test -timeout` kills the binary.
	if dt, ok := p.t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := dt.Deadline(); ok && end.Add(-testDeadlineMargin).Before(p.deadline) {
			p.deadline = end.Add(-testDeadlineMargin)
		}
	}
}

// Context is the chromedp context of the tab, for chromedp actions that
// the helpers do not cover. It has no deadline; Do runs actions under the
// page's deadline.
func (p *Page) Context() context.Context { return p.tab }

// Browser is the browser of the page.
func (p *Page) Browser() *Browser { return p.b }

// Do runs chromedp actions on the page, under its deadline.
func (p *Page) Do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.run("Do", "", chromedp.Steps(actions...))
}

// Navigate loads url and waits for its load event. It fails when the page
// cannot be loaded at all (refused connection, a name that does not
// resolve), not on an HTTP error status.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	p.run(fmt.Sprintf("Navigate(%q)", url), "", chromedp.Navigate(url))
}

// Click waits until the element that the CSS selector matches is visible
// and clicks its middle with the mouse.
func (p *Page) Click(selector string) {
	p.t.Helper()
	p.run(fmt.Sprintf("Click(%q)", selector), selector, chromedp.Click(chromedp.CSS(selector)))
}

// Fill waits until the field that the selector matches is visible and
// replaces its value: an input or a textarea gets value typed in key by key
// (so the page sees real key and input events; "\n" is Enter); a select
// gets the option with that value, and input and change events.
func (p *Page) Fill(selector, value string) {
	p.t.Helper()
	op := fmt.Sprintf("Fill(%q, %q)", selector, value)
	css := chromedp.CSS(selector)
	nodes := runValue(p, op, selector, chromedp.Nodes(css, chromedp.NodeVisible))
	if nodes[0].NodeName == "SELECT" {
		ok := runValue(p, op, selector, chromedp.Evaluate[bool](onElement(selector, `
			if (![...el.options].some(o => o.value === arg)) return false;
			el.value = arg;
			el.dispatchEvent(new Event("input", {bubbles: true}));
			el.dispatchEvent(new Event("change", {bubbles: true}));
			return true;`, value)))
		if !ok {
			p.fail(op, selector, fmt.Errorf("the select has no option with value %q", value))
		}
		return
	}
	// Empty the field first, as a person selecting all and deleting would:
	// the page sees an input event.
	runValue(p, op, selector, chromedp.Evaluate[bool](onElement(selector, `
		el.value = "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return true;`, nil)))
	p.run(op, selector, chromedp.SendKeys(css, value))
	if got := runValue(p, op, selector, chromedp.Value(css)); got != strings.TrimSuffix(value, "\n") {
		p.fail(op, selector, fmt.Errorf("typed %q, but the field holds %q", value, got))
	}
}

// Submit submits the form that the selector matches, or the form of the
// element it matches, as a click on a submit button would: the form's
// submit event handlers run, and its validation too. When the selector
// matches a submit button, the button is the submitter.
func (p *Page) Submit(selector string) {
	p.t.Helper()
	op := fmt.Sprintf("Submit(%q)", selector)
	p.run(op, selector, chromedp.WaitReady(chromedp.CSS(selector)))
	ok := runValue(p, op, selector, chromedp.Evaluate[bool](onElement(selector, `
		const form = el instanceof HTMLFormElement ? el : el.form;
		if (!form) return false;
		const submitter = el !== form && (el.type === "submit" || el.type === "image") ? el : undefined;
		form.requestSubmit(submitter);
		return true;`, nil)))
	if !ok {
		p.fail(op, selector, errors.New("the element is not a form and belongs to none"))
	}
}

// Text returns the visible text (innerText) of the element that the
// selector matches, waiting until one exists; it is "" while the element
// is hidden.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	return runValue(p, fmt.Sprintf("Text(%q)", selector), selector, chromedp.Text(chromedp.CSS(selector)))
}

// Value returns the value of the input, textarea or select that the
// selector matches, waiting until one exists.
func (p *Page) Value(selector string) string {
	p.t.Helper()
	return runValue(p, fmt.Sprintf("Value(%q)", selector), selector, chromedp.Value(chromedp.CSS(selector)))
}

// WaitVisible waits until the element that the selector matches exists and
// is visible.
func (p *Page) WaitVisible(selector string) {
	p.t.Helper()
	p.run(fmt.Sprintf("WaitVisible(%q)", selector), selector, chromedp.WaitVisible(chromedp.CSS(selector)))
}

// WaitText waits until the text (innerText) of the element that the
// selector matches contains substring. It looks again every 100ms, across
// page loads, so it also waits for the page that a submitted form leads to.
func (p *Page) WaitText(selector, substring string) {
	p.t.Helper()
	op := fmt.Sprintf("WaitText(%q, %q)", selector, substring)
	p.step(op)
	expr := onElement(selector, `return el.innerText;`, nil)
	var last *string
	var lastErr error
	for {
		ctx, cancel := context.WithDeadline(p.tab, p.deadline)
		text, err := chromedp.Run(ctx, chromedp.Evaluate[*string](expr))
		cancel()
		var exc *chromedp.ExceptionError
		switch {
		case errors.As(err, &exc):
			// A bad selector; waiting will not mend it.
			p.fail(op, selector, err)
		case err != nil:
			// The page is between two documents.
			lastErr = err
		case text != nil && strings.Contains(*text, substring):
			return
		default:
			last, lastErr = text, nil
		}
		if time.Until(p.deadline) < pollInterval {
			break
		}
		time.Sleep(pollInterval)
	}
	switch {
	case lastErr != nil:
		p.fail(op, selector, fmt.Errorf("%w; last error: %v", p.timedOut(), lastErr))
	case last == nil:
		p.fail(op, selector, fmt.Errorf("%w; no element matches %q", p.timedOut(), selector))
	default:
		p.fail(op, selector, fmt.Errorf("%w; the text is %q", p.timedOut(), *last))
	}
}

// Eval evaluates the JavaScript expression, waits for it when it is a
// promise, and decodes its JSON value into out (a pointer), unless out is
// nil.
func (p *Page) Eval(js string, out any) {
	p.t.Helper()
	op := fmt.Sprintf("Eval(%q)", js)
	raw := runValue(p, op, "", chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if out == nil {
		return
	}
	if len(raw) == 0 {
		p.fail(op, "", errors.New("the expression has no JSON value (undefined, or a function)"))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.fail(op, "", fmt.Errorf("decode %s into %T: %w", raw, out, err))
	}
}

// URL returns the URL of the page that the tab shows.
func (p *Page) URL() string {
	p.t.Helper()
	url, err := p.currentURL(p.tab, p.deadline)
	if err != nil {
		p.fail("URL()", "", err)
	}
	return url
}

func (p *Page) currentURL(parent context.Context, deadline time.Time) (string, error) {
	ctx, cancel := context.WithDeadline(parent, deadline)
	defer cancel()
	h, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil {
		return "", err
	}
	if h.CurrentIndex < 0 || int(h.CurrentIndex) >= len(h.Entries) {
		return "", errors.New("the tab has no current history entry")
	}
	return h.Entries[h.CurrentIndex].URL, nil
}

// Screenshot saves a PNG of the whole page (beyond the window too) as
// name.png in the test's artifact directory, and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	op := fmt.Sprintf("Screenshot(%q)", name)
	png := runValue(p, op, "", chromedp.FullScreenshot(100))
	path, err := writeArtifact(p.t, sanitize(name)+".png", png)
	if err != nil {
		p.fail(op, "", err)
	}
	p.t.Logf("browsertest: screenshot %s", path)
	return path
}

// run runs a on the page under its deadline; it fails the test on error.
func (p *Page) run(op, selector string, a chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	runValue(p, op, selector, a)
}

// runValue is run for an action with a value. (A method cannot have type
// parameters.)
func runValue[T any](p *Page, op, selector string, a chromedp.Action[T]) T {
	p.t.Helper()
	p.step(op)
	ctx, cancel := context.WithDeadline(p.tab, p.deadline)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = p.timedOut()
		}
		p.fail(op, selector, err)
	}
	return v
}

// timedOut is the error of a step that ran out of the page's time.
func (p *Page) timedOut() error {
	return fmt.Errorf("timed out: the page's %v are over (Page.SetTimeout changes them)", p.timeout)
}

// fail saves the artifacts of a failed step and fails the test.
func (p *Page) fail(op, selector string, err error) {
	p.t.Helper()
	msg := fmt.Sprintf("browsertest: %s failed", op)
	if url, uerr := p.currentURL(p.tab, time.Now().Add(artifactTimeout)); uerr == nil {
		msg += " on " + url
	}
	msg += ": " + err.Error()
	if selector != "" {
		if why := p.explainSelector(selector); why != "" {
			msg += " (" + why + ")"
		}
	}
	files, aerr := p.saveArtifacts(op, err)
	if len(files) > 0 {
		msg += "\n    artifacts: " + strings.Join(files, "\n               ")
	}
	if aerr != nil {
		msg += "\n    saving artifacts: " + aerr.Error()
	}
	p.t.Fatal(msg)
}

// explainSelector tells how the selector matches the page now: nothing,
// or an element that is hidden. It returns "" when it cannot tell.
func (p *Page) explainSelector(selector string) string {
	ctx, cancel := context.WithTimeout(p.tab, artifactTimeout)
	defer cancel()
	why, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		let all;
		try { all = document.querySelectorAll(%s); } catch (e) { return "invalid selector: " + e.message; }
		if (all.length === 0) return "no element matches it now";
		const el = all[0];
		const visible = !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
		return all.length + " element(s) match it now; the first, <" + el.tagName.toLowerCase() + ">, is " + (visible ? "visible" : "hidden");
	})()`, jsString(selector))))
	if err != nil {
		return ""
	}
	return why
}

// step records a helper call for the failure log.
func (p *Page) step(op string) {
	p.remember(&p.steps, time.Now().Format("15:04:05.000")+" "+op)
}

func (p *Page) remember(list *[]string, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(*list) >= maxKept {
		*list = (*list)[1:]
	}
	*list = append(*list, line)
}

// onElement is a JavaScript expression that runs body as a function of el,
// the first element that the selector matches, and of arg (JSON-encoded);
// it is null when no element matches.
func onElement(selector, body string, arg any) string {
	a, err := json.Marshal(arg)
	if err != nil {
		a = []byte("null")
	}
	return fmt.Sprintf(`((el, arg) => { if (el === null) return null; %s })(document.querySelector(%s), %s)`,
		body, jsString(selector), a)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

package console

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// loginAs posts the login form as c and returns the status.
func (c *client) loginAs(email, password string) int {
	c.e.t.Helper()
	// Logged in already, the login page sends the browser on; as a person
	// switching accounts would, forget the session first.
	u, _ := url.Parse(c.e.srv.URL)
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1}})
	c.get("/login")
	status, _ := c.post("/login", url.Values{"email": {email}, "password": {password}, "next": {"/"}})
	return status
}

// lockout plays a guesser and the real user: the guesser's failures lock
// out the guesser's own client for that account, and only for a while;
// the real user, from another client, still gets in.
func lockout(t *testing.T, e *env, guesser, user *client) {
	t.Helper()
	for i := range maxFailures {
		if status := guesser.loginAs("owner@a.test", "guess number "+strconv.Itoa(i)); status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i+1, status)
		}
	}
	guesser.get("/login")
	res := guesser.do("POST", "/login", url.Values{"email": {"owner@a.test"}, "password": {"one guess too many"}, "csrf": {guesser.csrf}})
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "900" {
		t.Fatalf("guess %d: %d, Retry-After %q", maxFailures+1, res.StatusCode, res.Header.Get("Retry-After"))
	}
	if status := guesser.loginAs("owner@a.test", pw); status != http.StatusTooManyRequests {
		t.Fatalf("right password from the guesser's client while limited: %d", status)
	}
	if status := user.loginAs("owner@a.test", "a typo in it"); status != http.StatusUnauthorized {
		t.Fatalf("the real user's typo from another client: %d", status)
	}
	if status := user.loginAs("owner@a.test", pw); status != http.StatusSeeOther {
		t.Fatalf("the real user from another client is locked out: %d", status)
	}
	// The guesser's other accounts are not locked.
	if status := guesser.loginAs("member@a.test", pw); status != http.StatusSeeOther {
		t.Fatalf("another account from the guesser's client: %d", status)
	}
	e.clock.Advance(failuresWindow)
	if status := guesser.loginAs("owner@a.test", pw); status != http.StatusSeeOther {
		t.Fatalf("after the window: %d", status)
	}
}

func TestLoginLockoutIsPerClient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		lockout(t, e, e.clientFrom("127.0.0.1"), e.clientFrom("127.0.0.2"))
	})
}

// Behind a trusted proxy every connection comes from the proxy: the
// limits must count the clients the proxy names, or anyone could lock
// everyone out.
func TestLoginLockoutBehindProxy(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnvWith(t, db, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		guesser, user := e.clientFrom("127.0.0.1"), e.clientFrom("127.0.0.1")
		// The guesser's first entry is its own invention, naming the real
		// user; the proxy's entry after it is what counts.
		guesser.forwardedFor = "203.0.113.5, 198.51.100.7"
		user.forwardedFor = "203.0.113.5"
		lockout(t, e, guesser, user)
	})
}

// One client spraying guesses over many accounts is bounded too, without
// touching other clients, and the bound covers every password check.
func TestPasswordChecksPerClient(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		o := e.login("owner@a.test")
		o.get("/settings")
		_, body := o.post("/settings/members", url.Values{"email": {"newbie@a.test"}, "role": {"viewer"}})
		invite := body[strings.Index(body, "/invite/"):]
		invite = invite[:strings.IndexByte(invite, '"')]

		before := e.areas.Accounts.Passwords().Stats().Total
		sprayer := e.clientFrom("127.0.0.3")
		for i := range maxClientChecks {
			if status := sprayer.loginAs("user"+strconv.Itoa(i)+"@a.test", "password1234"); status != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d", i+1, status)
			}
		}
		if status := sprayer.loginAs("someone.else@a.test", "password1234"); status != http.StatusTooManyRequests {
			t.Fatalf("guess %d: %d", maxClientChecks+1, status)
		}
		sprayer.get(invite)
		if status, _ := sprayer.post(invite, url.Values{"password": {"newbie's passphrase"}, "confirm": {"newbie's passphrase"}}); status != http.StatusTooManyRequests {
			t.Fatalf("invitation from the limited client: %d", status)
		}
		if got := e.areas.Accounts.Passwords().Stats().Total - before; got != maxClientChecks {
			t.Fatalf("%d argon2 computations for %d allowed checks", got, maxClientChecks)
		}
		newbie := e.clientFrom("127.0.0.4")
		newbie.get(invite)
		if status, _ := newbie.post(invite, url.Values{"password": {"newbie's passphrase"}, "confirm": {"newbie's passphrase"}}); status != http.StatusSeeOther {
			t.Fatalf("invitation from another client: %d", status)
		}
		if status := newbie.loginAs("newbie@a.test", "newbie's passphrase"); status != http.StatusSeeOther {
			t.Fatalf("login from another client: %d", status)
		}
	})
}

// A logged-in viewer guessing the current password on the account page is
// limited as a login is, however many guesses arrive at once, and only a
// few argon2 computations (64 MiB each in production) run together.
func TestAccountPasswordChecksAreLimited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		v := e.login("viewer@a.test")
		v.get("/account")
		before := e.areas.Accounts.Passwords().Stats()
		const guesses = 40
		statuses := make(chan int, guesses)
		var wg sync.WaitGroup
		for i := range guesses {
			wg.Go(func() {
				res := v.do("POST", "/account", url.Values{"csrf": {v.csrf}, "current": {"guess " + strconv.Itoa(i)},
					"new": {"a new passphrase"}, "confirm": {"a new passphrase"}})
				res.Body.Close()
				statuses <- res.StatusCode
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[http.StatusBadRequest] != maxFailures || count[http.StatusTooManyRequests] != guesses-maxFailures {
			t.Fatalf("answers to %d concurrent guesses: %v", guesses, count)
		}
		after := e.areas.Accounts.Passwords().Stats()
		if got := after.Total - before.Total; got != maxFailures {
			t.Fatalf("%d argon2 computations for %d guesses; want %d", got, guesses, maxFailures)
		}
		if after.Peak > int64(password.DefaultConcurrency()) {
			t.Fatalf("%d argon2 computations ran at once; the bound is %d", after.Peak, password.DefaultConcurrency())
		}
		change := url.Values{"current": {pw}, "new": {"a new passphrase"}, "confirm": {"a new passphrase"}}
		if status, _ := v.post("/account", change); status != http.StatusTooManyRequests {
			t.Fatalf("right password while limited: %d", status)
		}
		e.clock.Advance(failuresWindow)
		if status, body := v.post("/account", change); status != http.StatusOK || !strings.Contains(body, "Password changed") {
			t.Fatalf("after the window: %d", status)
		}
	})
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	l := newLimiter(2, time.Minute)
	at := t0
	for i, want := range []bool{true, true, false, false} {
		if _, ok := l.take("k", at); ok != want {
			t.Fatalf("event %d: %v", i+1, ok)
		}
	}
	if n := len(l.hits["k"]); n != 2 {
		t.Fatalf("refused events were recorded: %d kept", n)
	}
	l.give("k")
	if _, ok := l.take("k", at); !ok {
		t.Fatal("a given back event still counts")
	}
	if wait, ok := l.take("k", at.Add(10*time.Second)); ok || wait != 50*time.Second {
		t.Fatalf("wait %v, %v", wait, ok)
	}
	if _, ok := l.take("k", at.Add(time.Minute)); !ok {
		t.Fatal("the window did not slide")
	}
	// Stale keys are swept once there are many.
	for i := range 10_000 {
		l.take(strconv.Itoa(i), at)
	}
	l.take("late", at.Add(3*time.Minute))
	if len(l.hits) != 1 {
		t.Fatalf("%d keys after the sweep", len(l.hits))
	}
}

// hostileNext are next= values that a browser would resolve to another
// site, or that are not a path at all.
var hostileNext = []string{
	"//evil.example", "///evil.example", "/\\evil.example", "\\/evil.example", "\\\\evil.example", "\\\\\\evil.example",
	"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\t\\evil.example", "\\\t\\evil.example",
	"\t//evil.example", " //evil.example", "\x00//evil.example", "\x1f/\\evil.example", "\x0b//evil.example",
	"\x0c/\\evil.example", " \t \\/evil.example\t ", "/\t\t/\n\revil.example", "//evil.example/%2F..",
	"https://evil.example", "http:evil.example", "http:/evil.example", "HTTPS://evil.example", "//user@evil.example",
	"javascript:alert(1)", " javascript:alert(1)", "jav\tascript:alert(1)", "data:text/html,x", "evil.example",
	"", " ", "\t", ".", "?next=//evil.example", "#//evil.example", "/\x00/evil.example", "/\x7f/evil.example",
	"/\x01/evil.example", "/%zz",
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, next := range hostileNext {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
	}
	for next, want := range map[string]string{
		"/":                        "/",
		"/checks":                  "/checks",
		"/checks/abc?x=1&y=2":      "/checks/abc?x=1&y=2",
		"/checks?q=a\\b":           "/checks?q=a\\b", // in the query a backslash is a backslash
		"/checks#top":              "/checks#top",
		"\t/checks\n":              "/checks",
		"/che\tcks":                "/checks",
		"\\checks":                 "/checks",
		"/a\\b":                    "/a/b",
		"/%2F%2Fevil.example":      "/%2F%2Fevil.example", // encoded, so a path
		"/%5C%5Cevil.example":      "/%5C%5Cevil.example",
		"/.//evil.example":         "/.//evil.example", // a path on this site
		"/settings?next=//example": "/settings?next=//example",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// Whatever next is, the browser ends up on this site, and judging the
// answer again changes nothing (it makes the round trip through the form).
func FuzzSafeNext(f *testing.F) {
	for _, s := range hostileNext {
		f.Add(s)
	}
	f.Add("/checks?x=1#y")
	base, _ := url.Parse("http://nightjar.test/login")
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\t\r\n") {
			t.Fatalf("safeNext(%q) = %q", next, got)
		}
		if path := got[:strings.IndexAny(got+"?", "?#")]; strings.Contains(path, "\\") {
			t.Fatalf("safeNext(%q) = %q keeps a backslash a browser reads as a slash", next, got)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q: %v", next, got, err)
		}
		if r := base.ResolveReference(u); r.Host != "nightjar.test" || r.Scheme != "http" {
			t.Fatalf("safeNext(%q) = %q leads to %s", next, got, r)
		}
		if again := safeNext(got); again != got {
			t.Fatalf("safeNext(%q) = %q, then %q", next, got, again)
		}
	})
}

// The login page and the login form both keep next on this site.
func TestLoginRedirectStaysHere(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storetest.Open(t, "sqlite"))
	for _, next := range hostileNext {
		c := e.client()
		if _, body := c.get("/login?next=" + url.QueryEscape(next)); !strings.Contains(body, `name="next" value="/"`) {
			t.Errorf("login page with next %q keeps another next", next)
		}
	}
	for _, next := range []string{"/\t/evil.example", "/\\evil.example", "\\\\evil.example", " //evil.example"} {
		c := e.client()
		c.get("/login")
		status, loc := c.post("/login", url.Values{"email": {"owner@a.test"}, "password": {pw}, "next": {next}})
		if status != http.StatusSeeOther || loc != "/" {
			t.Errorf("login with next %q: %d to %q", next, status, loc)
		}
	}
	c := e.client()
	c.get("/login")
	if status, loc := c.post("/login", url.Values{"email": {"owner@a.test"}, "password": {pw}, "next": {"\t/checks?status=down"}}); status != http.StatusSeeOther || loc != "/checks?status=down" {
		t.Errorf("login with a local next: %d to %q", status, loc)
	}
}

package main

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/config"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login posts the console's login form from a client the trusted proxy
// names in X-Forwarded-For and returns the status.
func login(t *testing.T, base, forwardedFor, email, pw string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, path string, form url.Values) (*http.Response, string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", forwardedFor)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	_, page := do("GET", "/login", nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("login page without a CSRF token")
	}
	res, _ := do("POST", "/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {pw}})
	return res.StatusCode
}

// Behind a trusted proxy, a guesser's failed logins lock out only the
// guesser: serve tells the console which proxies to believe.
func TestLoginBehindTrustedProxy(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.TrustedProxies = []string{"127.0.0.1"}
	s := startServer(t, cfg)
	var adminPassword string
	sc := bufio.NewScanner(strings.NewReader(s.stdout.String()))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "Password:" {
			adminPassword = f[1]
		}
	}
	var last int
	for i := range 11 {
		last = login(t, s.base, "198.51.100.7", "admin@localhost", "guess "+strconv.Itoa(i))
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("11th guess: %d", last)
	}
	if status := login(t, s.base, "203.0.113.5", "admin@localhost", adminPassword); status != http.StatusSeeOther {
		t.Fatalf("the admin from another address behind the proxy: %d", status)
	}
}

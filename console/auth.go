package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/clientip"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/store"
)

const (
	sessionCookie = "nightjar_session"
	loginCSRF     = "nightjar_login_csrf"
)

// pageFunc is a page handler running for a logged-in user whose role was
// checked; v already holds the user, project, role and CSRF token.
type pageFunc func(w http.ResponseWriter, r *http.Request, v *view)

// page wraps h: it requires a session, a project the user belongs to and
// at least role need, and a valid CSRF token on every POST; a path that is
// not valid text is not found.
func (c *Console) page(need nightjar.Role, h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := c.clock.Now()
		cookie, err := r.Cookie(sessionCookie)
		if err != nil {
			c.toLogin(w, r)
			return
		}
		s, err := c.accounts.SessionByToken(ctx, cookie.Value, now)
		if nightjar.ErrorCode(err) == nightjar.EUNAUTHORIZED {
			c.toLogin(w, r)
			return
		} else if err != nil {
			c.fail(w, r, err)
			return
		}
		v, err := c.sessionView(ctx, s)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if r.Method == http.MethodPost && !c.validCSRF(r, s.CSRFToken) {
			http.Error(w, "This form has expired or did not come from Nightjar. Go back, reload the page and try again.", http.StatusForbidden)
			return
		}
		if err := c.accounts.ExtendSession(ctx, s, now, c.cfg.SessionTTL); err != nil {
			c.log.Warn("extend session", "err", err)
		}
		if v.Project == nil {
			v.Title = "No project"
			c.render(w, r, http.StatusOK, "noproject", v)
			return
		}
		if !v.Role.AtLeast(need) {
			v.Title = "Not allowed"
			v.Data = need
			c.render(w, r, http.StatusForbidden, "forbidden", v)
			return
		}
		// An id in the path that is not valid text names nothing.
		if !nightjar.ValidText(r.URL.Path) {
			c.notFound(w, r, v)
			return
		}
		h(w, r, v)
	})
}

// sessionView loads who is logged in and which project they look at. If
// they lost access to the session's project, the first project they still
// belong to is used.
func (c *Console) sessionView(ctx context.Context, s *accounts.Session) (*view, error) {
	u, err := c.accounts.User(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	ms, err := c.accounts.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	v := &view{User: u, Projects: ms, CSRF: s.CSRFToken}
	v.session = s
	var m *nightjar.Membership
	for _, candidate := range ms {
		if candidate.ProjectID == s.ProjectID {
			m = candidate
		}
	}
	if m == nil && len(ms) > 0 {
		m = ms[0]
		if err := c.accounts.SetSessionProject(ctx, s, m.ProjectID); err != nil {
			return nil, err
		}
	}
	if m != nil {
		if v.Project, err = c.projects.Get(ctx, m.ProjectID); err != nil {
			return nil, err
		}
		v.Role = m.Role
	}
	return v, nil
}

// validCSRF checks a form's token against the session's, and that the
// request's Origin, when the browser sends one, is this site.
func (c *Console) validCSRF(r *http.Request, want string) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet || next == "/" {
		next = ""
	}
	target := "/login"
	if next != "" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *Console) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(c.cfg.BaseURL, "https://")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: c.secureCookies(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds())})
}

type loginData struct {
	Email string
	Next  string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	// Someone logged in already goes where the login would have sent them.
	if cookie, err := r.Cookie(sessionCookie); err == nil {
		if _, err := c.accounts.SessionByToken(r.Context(), cookie.Value, c.clock.Now()); err == nil {
			http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
			return
		}
	}
	token := store.NewSecret(20)
	c.setCookie(w, r, loginCSRF, token, time.Hour)
	c.render(w, r, http.StatusOK, "login", &view{Title: "Log in", CSRF: token, Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

// safeNext keeps only same-site paths, so the login form cannot be used to
// send people elsewhere; anything else becomes "/". It judges next as a
// browser will read it (the WHATWG URL standard): C0 controls and spaces
// at either end and tabs and newlines anywhere are dropped, and before the
// query a backslash is a slash, so "/\t/evil.example" and "/\\evil.example"
// both start with "//" and name a host. It returns that normalised form,
// so the Location header says exactly what was judged.
func safeNext(next string) string {
	next = strings.Trim(next, c0AndSpace)
	b := make([]byte, 0, len(next))
	inPath := true
	for i := 0; i < len(next); i++ {
		switch ch := next[i]; {
		case ch == '\t' || ch == '\n' || ch == '\r':
		case ch == '\\' && inPath:
			b = append(b, '/')
		default:
			inPath = inPath && ch != '?' && ch != '#'
			b = append(b, ch)
		}
	}
	next = string(b)
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	// What is left must parse as a bare path (with query): url.Parse
	// refuses other control characters, and a path never has a host.
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return next
}

// c0AndSpace are the characters browsers strip from both ends of a URL.
const c0AndSpace = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "

// client is who sent r, for the password check limits: its address as the
// trusted proxies report it, widened to a /64 for IPv6.
func (c *Console) client(r *http.Request) string {
	addr := c.clients.Addr(r)
	if r.Header.Get("X-Forwarded-For") != "" && len(c.clients.Trusted) == 0 {
		c.proxyHint.Do(func() {
			c.log.Warn("requests carry X-Forwarded-For but trusted_proxies is empty: if a reverse proxy runs in front of Nightjar, list it in trusted_proxies, or login limits count every user as the proxy",
				"peer", addr)
		})
	}
	return clientip.Network(addr)
}

// tooMany answers a password check the limits refused: 429 with
// Retry-After, and a message for the page.
func tooMany(w http.ResponseWriter, wait time.Duration) string {
	minutes := int(wait.Round(time.Minute) / time.Minute)
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)))
	if minutes <= 1 {
		return "Too many attempts. Wait a minute and try again."
	}
	return fmt.Sprintf("Too many attempts. Wait %d minutes and try again.", minutes)
}

// refusal is how a page says no to a password check: a status and a
// message for the user.
type refusal struct {
	status int
	msg    string
}

// checkPassword checks email's password pw under the limits, counting a
// failure under failureKey and the check under client. It returns the
// user when the password is right; otherwise a refusal to show (wrong for
// a wrong password), or an internal error.
func (c *Console) checkPassword(w http.ResponseWriter, r *http.Request, failureKey, client, email, pw string, wrong refusal) (*nightjar.User, *refusal, error) {
	if len(pw) > 1024 {
		// Hashing a huge password costs the server, not the guesser.
		return nil, &wrong, nil
	}
	try, wait, ok := c.guard.allow(failureKey, client, c.clock.Now())
	if !ok {
		return nil, &refusal{http.StatusTooManyRequests, tooMany(w, wait)}, nil
	}
	u, err := c.accounts.Authenticate(r.Context(), email, pw)
	switch {
	case err == nil:
		try.succeeded()
		return u, nil, nil
	case nightjar.ErrorCode(err) == nightjar.EUNAUTHORIZED:
		return nil, &wrong, nil
	}
	if no := hashingTrouble(w, r, err); no != nil {
		try.succeeded() // not a wrong password
		return nil, no, nil
	}
	return nil, nil, err
}

// hashingTrouble is the refusal for a password check or hash that failed
// for load rather than for the password: too many were waiting (503 with
// Retry-After) or the client went away. It is nil for other errors.
func hashingTrouble(w http.ResponseWriter, r *http.Request, err error) *refusal {
	switch {
	case errors.Is(err, password.ErrBusy):
		w.Header().Set("Retry-After", "5")
		return &refusal{http.StatusServiceUnavailable, "Nightjar is busy checking other passwords. Try again in a few seconds."}
	case err != nil && r.Context().Err() != nil:
		return &refusal{http.StatusServiceUnavailable, "The request was cancelled."}
	}
	return nil
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := safeNext(r.PostFormValue("next"))
	again := func(status int, msg string) {
		token := store.NewSecret(20)
		c.setCookie(w, r, loginCSRF, token, time.Hour)
		c.render(w, r, status, "login", &view{Title: "Log in", CSRF: token, Error: msg, Data: loginData{Email: email, Next: next}})
	}
	cookie, err := r.Cookie(loginCSRF)
	if err != nil || !c.validCSRF(r, cookie.Value) {
		again(http.StatusForbidden, "The login form expired. Please try again.")
		return
	}
	client := c.client(r)
	u, no, err := c.checkPassword(w, r, loginKey(email, client), client, email, r.PostFormValue("password"),
		refusal{http.StatusUnauthorized, "Wrong email or password."})
	if err != nil {
		c.fail(w, r, err)
		return
	} else if no != nil {
		again(no.status, no.msg)
		return
	}
	projectID := ""
	if ms, err := c.accounts.Memberships(r.Context(), u.ID); err == nil && len(ms) > 0 {
		projectID = ms[0].ProjectID
	}
	token, _, err := c.accounts.CreateSession(r.Context(), u.ID, projectID, c.clock.Now(), c.cfg.SessionTTL)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, sessionCookie, token, c.cfg.SessionTTL)
	c.setCookie(w, r, loginCSRF, "", -time.Second)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, v *view) {
	if cookie, err := r.Cookie(sessionCookie); err == nil {
		if err := c.accounts.DeleteSession(r.Context(), cookie.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.setCookie(w, r, sessionCookie, "", -time.Second)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (c *Console) switchProject(w http.ResponseWriter, r *http.Request, v *view) {
	id := r.PostFormValue("project")
	for _, m := range v.Projects {
		if m.ProjectID == id {
			if err := c.accounts.SetSessionProject(r.Context(), v.session, id); err != nil {
				c.fail(w, r, err)
				return
			}
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	c.notFound(w, r, v)
}

func (c *Console) accountPage(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "Account"
	c.render(w, r, http.StatusOK, "account", v)
}

// changePassword checks the current password, under the same limits as a
// login, so a browser left logged in does not let anyone guess the password.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "Account"
	if r.PostFormValue("new") != r.PostFormValue("confirm") {
		v.Error = "The two new passwords differ."
		c.render(w, r, http.StatusBadRequest, "account", v)
		return
	}
	_, no, err := c.checkPassword(w, r, accountKey(v.User.ID), c.client(r), v.User.Email, r.PostFormValue("current"),
		refusal{http.StatusBadRequest, "Your current password is not right."})
	if err != nil {
		c.fail(w, r, err)
		return
	} else if no != nil {
		v.Error = no.msg
		c.render(w, r, no.status, "account", v)
		return
	}
	cookie, _ := r.Cookie(sessionCookie)
	if err := c.accounts.SetPassword(r.Context(), v.User.ID, r.PostFormValue("new"), cookie.Value); err != nil {
		if no := hashingTrouble(w, r, err); no != nil {
			v.Error = no.msg
			c.render(w, r, no.status, "account", v)
			return
		}
		if nightjar.ErrorCode(err) == nightjar.EINVALID {
			v.Error = "The new " + nightjar.ErrorMessage(err)
			c.render(w, r, http.StatusBadRequest, "account", v)
			return
		}
		c.fail(w, r, err)
		return
	}
	v.Flash = "Password changed. Your other sessions were logged out."
	c.render(w, r, http.StatusOK, "account", v)
}

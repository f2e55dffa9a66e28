package console

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
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
		s, err := c.db.SessionByToken(ctx, cookie.Value, now)
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
		if err := c.db.ExtendSession(ctx, s, now, c.cfg.SessionTTL); err != nil {
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
func (c *Console) sessionView(ctx context.Context, s *store.Session) (*view, error) {
	u, err := c.db.User(ctx, s.UserID)
	if err != nil {
		return nil, err
	}
	ms, err := c.db.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	v := &view{User: u, Projects: ms, CSRF: s.CSRFToken, Data: map[string]any{}}
	v.session = s
	var m *nightjar.Membership
	for _, candidate := range ms {
		if candidate.ProjectID == s.ProjectID {
			m = candidate
		}
	}
	if m == nil && len(ms) > 0 {
		m = ms[0]
		if err := c.db.SetSessionProject(ctx, s, m.ProjectID); err != nil {
			return nil, err
		}
	}
	if m != nil {
		if v.Project, err = c.db.Project(ctx, m.ProjectID); err != nil {
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
	token := store.NewSecret(20)
	c.setCookie(w, r, loginCSRF, token, time.Hour)
	c.render(w, r, http.StatusOK, "login", &view{Title: "Log in", CSRF: token, Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

// safeNext keeps only same-site paths, so the login form cannot be used to
// send people elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
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
	now := c.clock.Now()
	if !c.limiter.allow("ip:"+clientIP(r), now) || !c.limiter.allow("email:"+strings.ToLower(email), now) {
		again(http.StatusTooManyRequests, "Too many login attempts. Wait a few minutes and try again.")
		return
	}
	pw := r.PostFormValue("password")
	if len(pw) > 1024 {
		// Hashing a huge password costs the server, not the guesser.
		again(http.StatusUnauthorized, "Wrong email or password.")
		return
	}
	u, err := c.db.Authenticate(r.Context(), email, pw)
	if nightjar.ErrorCode(err) == nightjar.EUNAUTHORIZED {
		again(http.StatusUnauthorized, "Wrong email or password.")
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	projectID := ""
	if ms, err := c.db.Memberships(r.Context(), u.ID); err == nil && len(ms) > 0 {
		projectID = ms[0].ProjectID
	}
	token, _, err := c.db.CreateSession(r.Context(), u.ID, projectID, now, c.cfg.SessionTTL)
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
		if err := c.db.DeleteSession(r.Context(), cookie.Value); err != nil {
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
			if err := c.db.SetSessionProject(r.Context(), v.session, id); err != nil {
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

func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "Account"
	if _, err := c.db.Authenticate(r.Context(), v.User.Email, r.PostFormValue("current")); err != nil {
		v.Error = "Your current password is not right."
		c.render(w, r, http.StatusBadRequest, "account", v)
		return
	}
	if r.PostFormValue("new") != r.PostFormValue("confirm") {
		v.Error = "The two new passwords differ."
		c.render(w, r, http.StatusBadRequest, "account", v)
		return
	}
	cookie, _ := r.Cookie(sessionCookie)
	if err := c.db.SetPassword(r.Context(), v.User.ID, r.PostFormValue("new"), cookie.Value); err != nil {
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

// limiter counts attempts per key in a sliding window; it keeps login
// guessing slow without any shared state between replicas.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, hits: map[string][]time.Time{}}
}

// allow records an attempt and reports whether it is within the limit.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hits) > 100_000 {
		for k, ts := range l.hits {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.window {
				delete(l.hits, k)
			}
		}
	}
	ts := l.hits[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = append(ts[i:], now)
	l.hits[key] = ts
	return len(ts) <= l.max
}

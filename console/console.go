// Package console is Nightjar's web console: server-rendered pages for
// people, from the same binary as the API. Pages work without JavaScript;
// a small script only makes them friendlier (local times, live refresh).
//
// Every page runs as a logged-in user in one of their projects, with a
// role that decides what they may see and change. Forms carry a CSRF
// token tied to the session.
package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/audit"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/clientip"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/requestid"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
)

//go:embed templates/*.html templates/partials/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the console needs beyond the store.
type Config struct {
	// BaseURL is the public URL, used for ping URLs shown to users and to
	// decide whether cookies are Secure.
	BaseURL string
	// SessionTTL is how long a session lasts without use.
	SessionTTL time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed, so login limits count real clients rather than the proxy.
	TrustedProxies []netip.Prefix
}

// Areas are the parts of Nightjar's state the console works with beyond
// the store: the projects and their keys, the people and their roles, and
// the audit log of what they changed.
type Areas struct {
	Projects *projects.Store
	Accounts *accounts.Store
	Audit    *audit.Log
	Channels *channels.Service
	Outbox   *outbox.Outbox
	// Checks creates, changes and lists checks, their pings and flips.
	Checks *checks.Service

	// Incidents holds incidents and the incident response configuration.
	Incidents *incidents.Store

	// SLOs holds service level objectives and their figures, and counts
	// their customers having a bad time now (from every replica's ingest,
	// with its Ingest's users not written yet). Without SLOs the console
	// has no SLO pages' data and the overview no bad-time block.
	SLOs *slos.Service
	// RefreshIngest, when set, makes ingest count by the objectives as
	// they are now, after the console created or changed one, rather
	// than at the next flush.
	RefreshIngest func(ctx context.Context) error
}

// Console serves the pages.
type Console struct {
	db       *store.DB
	projects *projects.Store
	accounts *accounts.Store
	auditLog *audit.Log
	channels *channels.Service
	outbox   *outbox.Outbox
	checks   *checks.Service
	response *incidents.Store
	slos     *slos.Service
	refresh  func(ctx context.Context) error
	clock    nightjar.Clock
	log      *slog.Logger
	cfg      Config
	pages    map[string]*template.Template
	mux      *http.ServeMux
	// guard limits password checks; clients says who a request is from.
	guard     *guard
	clients   clientip.Resolver
	proxyHint sync.Once
}

// New parses every template (failing at once on an error) and builds the
// routes.
func New(db *store.DB, areas Areas, clock nightjar.Clock, log *slog.Logger, cfg Config) (*Console, error) {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 14 * 24 * time.Hour
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	c := &Console{db: db, projects: areas.Projects, accounts: areas.Accounts, auditLog: areas.Audit, channels: areas.Channels, outbox: areas.Outbox,
		checks: areas.Checks, response: areas.Incidents, slos: areas.SLOs, refresh: areas.RefreshIngest, clock: clock, log: log, cfg: cfg, mux: http.NewServeMux(),
		guard: newGuard(), clients: clientip.Resolver{Trusted: cfg.TrustedProxies}}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	c.pages = map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return fmt.Errorf("parse %s: %w", n, err)
		}
		c.pages[name] = t
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	// Behind the API server the request has its id already; served alone
	// (as in tests) it gets one here, so an error page can always name it.
	ctx, id := requestid.Ensure(r.Context())
	if h.Get("X-Request-Id") == "" {
		h.Set("X-Request-Id", id)
	}
	c.mux.ServeHTTP(w, r.WithContext(ctx))
}

// Paths returns the URL patterns the console owns, for the server to
// mount.
func Paths() []string {
	return append([]string{"/", "/login", "/logout", "/account", "/checks", "/checks/", "/channels", "/channels/", "/settings", "/settings/", "/project", "/static/", "/invite/", "/slos", "/slos/"}, responsePaths...)
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheForever(http.FileServerFS(static))))
	c.mux.HandleFunc("/", c.unknownPath)
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.login)
	c.mux.Handle("POST /logout", c.page(nightjar.NeedRead, c.logout))
	c.mux.Handle("GET /{$}", c.page(nightjar.NeedRead, c.overview))
	c.mux.Handle("POST /project", c.page(nightjar.NeedRead, c.switchProject))
	c.mux.Handle("GET /account", c.page(nightjar.NeedRead, c.accountPage))
	c.mux.Handle("POST /account", c.page(nightjar.NeedRead, c.changePassword))
	c.checkRoutes()
	c.settingsRoutes()
	c.responseRoutes()
	c.sloRoutes()
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// view is what every page template receives.
type view struct {
	Title    string
	User     *nightjar.User
	Project  *nightjar.Project
	Role     nightjar.Role
	Projects []*nightjar.Membership
	CSRF     string
	Flash    string
	Error    string
	Path     string
	BaseURL  string
	Data     any
	// Now is when the page is made, for relative times; Down is how
	// many of the project's checks are down, for the tab's title.
	Now     time.Time
	Down    int64
	session *accounts.Session
}

// CanWrite lets templates hide controls that change checks and channels.
func (v *view) CanWrite() bool { return v.Role.AtLeast(nightjar.NeedWrite) }

// CanManage lets templates hide member, key and settings controls.
func (v *view) CanManage() bool { return v.Role.AtLeast(nightjar.NeedManage) }

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, fmt.Errorf("no template %q", name))
		return
	}
	if v.Path == "" {
		v.Path = r.URL.Path
	}
	v.BaseURL = c.cfg.BaseURL
	v.Now = c.clock.Now()
	if v.Project != nil && v.User != nil {
		down, err := c.checks.Count(r.Context(), v.Project.ID, checks.Filter{Status: nightjar.StatusDown})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v.Down = down
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		c.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// errorPage is the page of an unexpected error: a generic message and the
// request id under which the error was logged.
type errorPage struct {
	RequestID string
}

// fail answers an unexpected error with a generic page naming the request
// id, and logs the error once under the same id.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := requestid.From(r.Context())
	c.log.Error("console request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
	var b strings.Builder
	if t, ok := c.pages["error"]; !ok || t.ExecuteTemplate(&b, "layout.html", &view{Title: "Something went wrong", Data: errorPage{RequestID: id}}) != nil {
		http.Error(w, "Something went wrong on our side. It has been logged with request id "+id+".", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(b.String()))
}

// unknownPath answers a path the console does not have with the styled
// not-found page, with the navigation when someone is logged in.
func (c *Console) unknownPath(w http.ResponseWriter, r *http.Request) {
	v := &view{}
	if cookie, err := r.Cookie(sessionCookie); err == nil {
		if s, err := c.accounts.SessionByToken(r.Context(), cookie.Value, c.clock.Now()); err == nil {
			if sv, err := c.sessionView(r.Context(), s); err == nil {
				v = sv
			}
		}
	}
	c.notFound(w, r, v)
}

// lookupFailed answers the error of looking up the thing a page is about:
// not found for a thing that does not exist (or is another project's), the
// error page otherwise.
func (c *Console) lookupFailed(w http.ResponseWriter, r *http.Request, v *view, err error) {
	if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
		c.notFound(w, r, v)
		return
	}
	c.fail(w, r, err)
}

// notFound answers as if the thing did not exist; it is also the answer
// for things in projects the user does not belong to.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request, v *view) {
	v.Title = "Not found"
	c.render(w, r, http.StatusNotFound, "notfound", v)
}

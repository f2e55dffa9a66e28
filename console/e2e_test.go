package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/browsertest"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
	"github.com/nightjar-dev/nightjar/telemetry"
	"github.com/nightjar-dev/nightjar/web"
)

// startStack runs the whole HTTP side — ping endpoints, APIs and console —
// on a real database, as serve does.
func startStack(t *testing.T, db *store.DB) *httptest.Server {
	t.Helper()
	return startStackWith(t, db, areasOf(db))
}

// startStackWith is startStack with the console's areas given, so a test
// can feed the ones it seeds (such as ingest's bad-time counts).
func startStackWith(t *testing.T, db *store.DB, areas Areas) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	cons, err := New(db, areas, nightjar.SystemClock{}, log, Config{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	recorder := areas.Checks.NewRecorder(0, nil)
	t.Cleanup(recorder.Close)
	srv.Config.Handler = web.NewServer(db, web.Areas{Projects: areas.Projects, Audit: areas.Audit, Channels: areas.Channels, Outbox: areas.Outbox,
		Checks: areas.Checks, Pings: recorder, Alerts: alerting.New(db), Incidents: areas.Incidents}, nightjar.SystemClock{}, log,
		web.Config{BaseURL: base, Console: cons, ConsolePaths: Paths()}, telemetry.New(telemetry.Source{Checks: areas.Checks, Outbox: areas.Outbox}, log))
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// browserTurn makes the browser tests take turns while the other tests
// run beside them: each Chromium wants every core of a small machine, and
// two at once could push a page past its time budget.
var browserTurn sync.Mutex

func takeBrowserTurn(t *testing.T) {
	browserTurn.Lock()
	t.Cleanup(browserTurn.Unlock)
}

// acme makes a project "Acme" with owner@acme.test as its owner.
func acme(t *testing.T, db *store.DB) *nightjar.Project {
	t.Helper()
	areas := areasOf(db)
	p := &nightjar.Project{Name: "Acme"}
	if err := areas.Projects.Create(context.Background(), p, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := areas.Accounts.CreateUser(context.Background(), "owner@acme.test", pw, p.ID, nightjar.RoleOwner, time.Now()); err != nil {
		t.Fatal(err)
	}
	return p
}

// The path a new user takes, in a real browser: log in, create a check,
// copy its ping URL, ping it, see it turn up, pause it, add a viewer, and
// see that the viewer cannot edit.
func TestConsoleInBrowser(t *testing.T) {
	t.Parallel()
	takeBrowserTurn(t)
	b := browsertest.New(t)
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	acme(t, db)
	if _, err := areasOf(db).Accounts.CreateUser(ctx, "vera@acme.test", pw, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := startStack(t, db)

	owner := b.NewPage(t)
	owner.Navigate(srv.URL + "/checks")
	owner.WaitVisible("#email")
	owner.Fill("#email", "owner@acme.test")
	owner.Fill("#password", pw)
	owner.Submit("form[action='/login']")
	owner.WaitText("h1", "Checks") // back where the login was asked for

	owner.Navigate(srv.URL + "/")
	owner.WaitText("main", "Send your first ping") // the empty state teaches

	owner.Navigate(srv.URL + "/checks/new")
	owner.Fill("#name", "Nightly backup")
	owner.Click("#kind-cron")
	owner.Fill("#schedule", "30 2 * * *")
	owner.Fill("#tz", "Europe/Berlin")
	owner.WaitText("#preview", "Next expected pings in Europe/Berlin") // live preview from the API
	owner.Fill("#grace", "600")
	owner.Submit("form.checkform")
	owner.WaitText("h1", "Nightly backup")
	owner.WaitText("#status", "new")

	pingURL := owner.Value("#ping-url")
	if !strings.HasPrefix(pingURL, srv.URL+"/ping/") {
		t.Fatalf("ping URL %q", pingURL)
	}
	owner.Click("button[data-copy='ping-url']")
	owner.WaitText("button[data-copy='ping-url']", "Copied")

	res, err := http.Post(pingURL, "text/plain", strings.NewReader("backup done: 42 files"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("ping: %d", res.StatusCode)
	}
	owner.Navigate(owner.URL())
	owner.WaitText("#status", "up")
	owner.WaitText("table.pings", "backup done: 42 files")
	owner.Screenshot("check-page")

	owner.Click("form[action$='/pause'] button")
	owner.WaitText("#status", "paused")

	owner.Navigate(srv.URL + "/settings")
	owner.Fill("#member-email", "vera@acme.test")
	owner.Fill("#member-role", "viewer")
	owner.Submit("form[action='/settings/members']")
	owner.WaitText(".flash", "vera@acme.test is now a viewer")
	owner.Screenshot("settings")
	checkURL := strings.Replace(pingURL, "/ping/", "/checks/", 1)

	viewer := b.NewPage(t) // a separate browser context: separate cookies
	// A login link whose next a browser would read as another host
	// ("/<tab>/evil.example" is "//evil.example" to it) ends on this site.
	viewer.Navigate(srv.URL + "/login?next=%2F%09%2Fevil.example")
	viewer.Fill("#email", "vera@acme.test")
	viewer.Fill("#password", pw)
	viewer.Submit("form[action='/login']")
	viewer.WaitText("h1", "Overview")
	if !strings.HasPrefix(viewer.URL(), srv.URL+"/") {
		t.Fatalf("after login the browser is at %s", viewer.URL())
	}
	for _, host := range b.BlockedRequests() { // Chromium may also call its own services
		if strings.Contains(host, "evil.example") {
			t.Fatalf("the browser tried to go to %s", host)
		}
	}
	viewer.Navigate(checkURL)
	viewer.WaitText("h1", "Nightly backup")
	var editLinks int
	viewer.Eval(`document.querySelectorAll("a[href$='/edit'], form[action$='/pause'], form[action$='/delete']").length`, &editLinks)
	if editLinks != 0 {
		t.Fatalf("the viewer sees %d edit controls", editLinks)
	}
	viewer.Navigate(checkURL + "/edit")
	viewer.WaitText("main", "This needs the member role")
	viewer.Screenshot("viewer-forbidden")
}

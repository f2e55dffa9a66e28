package console

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// checkFormValues is a valid check form; tests change one field.
func checkFormValues() url.Values {
	return url.Values{"name": {"form job"}, "kind": {"simple"}, "timeout": {"3600"}, "grace": {"600"}, "early_tolerance": {"60"},
		"max_runtime": {"0"}, "min_runtime": {"0"}, "failure_threshold": {"1"}, "realert_interval": {"0"}, "tz": {"UTC"}}
}

// wantFormError fails unless the answer is a 400 page showing an error
// about field.
func wantFormError(t *testing.T, what string, status int, body, field string) {
	t.Helper()
	if status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), field+": ") {
		t.Errorf("%s: %d, want a 400 about %s", what, status, field)
	}
}

// wantCheckFormError posts form to the new-check page and to check id's
// edit page, and fails unless both show an error beside field, which is
// marked invalid.
func (c *client) wantCheckFormError(t *testing.T, id string, form url.Values, what, field string) {
	t.Helper()
	for _, path := range []string{"/checks/new", "/checks/" + id + "/edit"} {
		c.get(path)
		status, body := c.post(path, form)
		if status != http.StatusBadRequest || !strings.Contains(body, `<p class="field-error" id="`+field+`-error">`) ||
			!strings.Contains(body, `aria-describedby="`+field+`-error"`) && field != "channels" {
			t.Errorf("%s %s: %d, want a 400 with an error beside %s", path, what, status, field)
		}
	}
}

// The console's forms refuse text that is not valid UTF-8 or holds NUL
// bytes with the same field errors as the API, on both databases.
func TestFormsRefuseBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		o := e.login("owner@a.test")
		for _, bad := range []string{"a\x00b", "a\xffb", "\xc3\x28"} {
			for _, field := range []string{"name", "desc", "service", "tags", "slug", "tz", "start_kw", "success_kw", "failure_kw"} {
				form := checkFormValues()
				form.Set(field, bad)
				o.wantCheckFormError(t, e.checkA.ID, form, field+"="+bad, field)
			}
			o.get("/settings")
			status, body := o.post("/settings/project", url.Values{"name": {bad}})
			wantFormError(t, "project name "+bad, status, body, "name")
			o.get("/settings")
			status, body = o.post("/settings/keys", url.Values{"name": {bad}, "scope": {"read-only"}})
			wantFormError(t, "key name "+bad, status, body, "name")
			o.get("/channels")
			status, body = o.post("/channels/new", url.Values{"kind": {"webhook"}, "name": {bad}, "url": {"https://x.example/"}})
			wantFormError(t, "channel name "+bad, status, body, "name")
			o.get("/channels")
			status, body = o.post("/channels/new", url.Values{"kind": {"webhook"}, "name": {"n"}, "url": {"https://x.example/" + bad}})
			wantFormError(t, "channel url "+bad, status, body, "config.url")
			o.get("/settings")
			if status, _ = o.post("/settings/members", url.Values{"email": {bad + "@a.test"}, "role": {"member"}}); status != http.StatusBadRequest {
				t.Errorf("invite %q: %d, want 400", bad, status)
			}
		}
		all, err := checksOf(db).List(ctx, e.a.ID, checks.Filter{})
		if err != nil || len(all) != 1 || all[0].Name != "alpha job" {
			t.Fatalf("checks after refused forms: %+v %v", all, err)
		}
		if p, _ := e.areas.Projects.Get(ctx, e.a.ID); p.Name != "Alpha" {
			t.Fatalf("project renamed to %q", p.Name)
		}
		// Logging in with such an email is a wrong login, not a failure.
		c := e.client()
		c.get("/login")
		if status, _ := c.post("/login", url.Values{"email": {"\xff@a.test"}, "password": {pw}}); status != http.StatusUnauthorized {
			t.Fatalf("login with a bad email: %d, want 401", status)
		}
	})
}

// An id in a console path or form that is not valid text names nothing:
// the page answers 404 and bulk actions skip it, on both databases.
func TestConsoleImpossibleIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		o := e.login("owner@a.test")
		for _, bad := range []string{"%FF", "%00", "x%C3%28"} {
			for _, path := range []string{"/checks/" + bad, "/checks/" + bad + "/edit", "/checks/" + bad + "/pings/1", "/channels/" + bad + "/edit"} {
				if status, _ := o.get(path); status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", path, status)
				}
			}
			for _, path := range []string{"/checks/" + bad + "/edit", "/checks/" + bad + "/pause", "/checks/" + bad + "/delete",
				"/channels/" + bad + "/edit", "/channels/" + bad + "/test", "/channels/" + bad + "/delete",
				"/settings/members/" + bad + "/role", "/settings/members/" + bad + "/remove",
				"/settings/invitations/" + bad + "/delete", "/settings/keys/" + bad + "/revoke"} {
				o.get("/settings")
				if status, _ := o.post(path, url.Values{"role": {"member"}}); status != http.StatusNotFound {
					t.Errorf("POST %s: %d, want 404", path, status)
				}
			}
		}
		o.get("/checks")
		status, loc := o.post("/checks/bulk", url.Values{"action": {"pause"}, "id": {"\x00", "\xff", e.checkA.ID}})
		if status != http.StatusSeeOther || loc != "/checks?done=1" {
			t.Fatalf("bulk with bad ids: %d %s", status, loc)
		}
		o.get("/checks")
		if status, _ := o.post("/project", url.Values{"project": {"\xff"}}); status != http.StatusNotFound {
			t.Fatalf("switch to a bad project id: %d", status)
		}
	})
}

// The console's check form bounds durations as the API does: seconds too
// many for a time.Duration do not wrap around into range.
func TestCheckFormDurationOverflow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		m := e.login("member@a.test")
		for _, v := range []string{"36028797018967568", "-36028797018967568", "9223372036854775807", "-9223372036854775808", "9223372037"} {
			for _, field := range []string{"timeout", "grace", "early_tolerance", "max_runtime", "min_runtime", "realert_interval"} {
				form := checkFormValues()
				form.Set(field, v)
				m.wantCheckFormError(t, e.checkA.ID, form, field+"="+v, field)
			}
		}
		if all, _ := checksOf(db).List(ctx, e.a.ID, checks.Filter{}); len(all) != 1 {
			t.Fatalf("%d checks, want 1", len(all))
		}
	})
}

// The check form takes only the project's own channels, resolved as the
// API resolves them: an unknown id or another project's is a 400, as it
// is in the API.
func TestCheckFormChannelIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		mine := &nightjar.Channel{ProjectID: e.a.ID, Kind: nightjar.ChannelWebhook, Name: "mine", Config: nightjar.ChannelConfig{URL: "https://a.example"}}
		theirs := &nightjar.Channel{ProjectID: e.b.ID, Kind: nightjar.ChannelWebhook, Name: "theirs", Config: nightjar.ChannelConfig{URL: "https://b.example"}}
		for _, ch := range []*nightjar.Channel{mine, theirs} {
			if err := channels.New(db).Create(ctx, ch, t0); err != nil {
				t.Fatal(err)
			}
		}
		m := e.login("member@a.test")
		for _, ids := range [][]string{{theirs.ID}, {"no-such-channel"}, {mine.ID, theirs.ID}, {"\xff"}} {
			form := checkFormValues()
			form.Set("notify", "some")
			form["channel"] = ids
			m.wantCheckFormError(t, e.checkA.ID, form, "channels "+strings.Join(ids, ","), "channels")
		}
		c, err := checksOf(db).Get(ctx, e.a.ID, e.checkA.ID)
		if err != nil || c.Channels != nil {
			t.Fatalf("check after refused forms: channels %v, %v", c.Channels, err)
		}
		form := checkFormValues()
		form.Set("notify", "some")
		form["channel"] = []string{mine.ID, mine.ID}
		m.get("/checks/" + e.checkA.ID + "/edit")
		if status, _ := m.post("/checks/"+e.checkA.ID+"/edit", form); status != http.StatusSeeOther {
			t.Fatalf("own channel: %d", status)
		}
		if c, _ = checksOf(db).Get(ctx, e.a.ID, e.checkA.ID); len(c.Channels) != 1 || c.Channels[0] != mine.ID {
			t.Fatalf("channels %v, want [%s]", c.Channels, mine.ID)
		}
	})
}

// FuzzCheckForm posts arbitrary values in the check form's fields to the
// create and edit pages, on both databases: the answer is a redirect after
// saving or a 400 page, never a 5xx, and what is saved is valid.
func FuzzCheckForm(f *testing.F) {
	for _, s := range [][2]string{
		{"name", "nightly"}, {"name", "\xff"}, {"desc", "a\x00b"}, {"timeout", "36028797018967568"}, {"max_runtime", "-36028797018967568"},
		{"tags", strings.Repeat("t ", 60)}, {"service", strings.Repeat("s", 200)}, {"kind", "cron"}, {"schedule", "0 2 * * *"},
		{"tz", "\x00"}, {"channel", "\xff"}, {"channel", "x"}, {"failure_threshold", "99999999999999999999"}, {"metric_rules", "bytes >"},
	} {
		f.Add(s[0], s[1])
	}
	type target struct {
		e  *env
		c  *client
		id string
	}
	var targets []target
	for _, db := range storetest.OpenEach(f) {
		e := newEnv(f, db)
		targets = append(targets, target{e: e, c: e.login("member@a.test"), id: e.checkA.ID})
	}
	f.Fuzz(func(t *testing.T, field, value string) {
		if field == "csrf" {
			return // a wrong token is refused before the form is read
		}
		for _, tg := range targets {
			tg.e.t = t
			for _, path := range []string{"/checks/new", "/checks/" + tg.id + "/edit"} {
				form := checkFormValues()
				if field == "channel" {
					form.Set("notify", "some")
				}
				form.Set(field, value)
				tg.c.get(path)
				status, loc := tg.c.post(path, form)
				switch {
				case status == http.StatusSeeOther && strings.HasPrefix(loc, "/checks/"):
					id := strings.TrimPrefix(loc, "/checks/")
					c, err := checksOf(tg.e.db).Get(context.Background(), tg.e.a.ID, id)
					if err != nil {
						t.Fatalf("%s: saved check %s: %v", tg.e.db.Dialect(), id, err)
					}
					if err := c.Validate(); err != nil {
						t.Fatalf("%s: %s=%q saved an invalid check: %v", tg.e.db.Dialect(), field, value, err)
					}
				case status == http.StatusBadRequest:
				default:
					t.Fatalf("%s: POST %s with %s=%q: %d", tg.e.db.Dialect(), path, field, value, status)
				}
			}
		}
	})
}

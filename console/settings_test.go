package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

func TestMembersInvitationsAndKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		if status, _ := e.login("member@a.test").get("/settings"); status != http.StatusForbidden {
			t.Fatalf("member opens settings: %d", status)
		}
		o := e.login("owner@a.test")
		o.get("/settings")

		// Inviting a new person gives a one-time link.
		status, body := o.post("/settings/members", url.Values{"email": {"dave@a.test"}, "role": {"viewer"}})
		m := regexp.MustCompile(`value="http://nightjar.test(/invite/[a-z0-9]+)"`).FindStringSubmatch(body)
		if status != 200 || m == nil {
			t.Fatalf("invite: %d", status)
		}
		dave := e.client()
		if status, body := dave.get(m[1]); status != 200 || !strings.Contains(body, "viewer") {
			t.Fatalf("invite page: %d", status)
		}
		if status, loc := dave.post(m[1], url.Values{"password": {"dave's passphrase"}, "confirm": {"dave's passphrase"}}); status != http.StatusSeeOther {
			t.Fatalf("accept: %d %s", status, loc)
		}
		if status, _ := dave.get(m[1]); status != http.StatusNotFound {
			t.Fatalf("used link: %d", status)
		}
		u, err := e.areas.Accounts.UserByEmail(ctx, "dave@a.test")
		if err != nil {
			t.Fatal(err)
		}
		if mm, err := e.areas.Accounts.Membership(ctx, e.a.ID, u.ID); err != nil || mm.Role != nightjar.RoleViewer {
			t.Fatalf("dave's membership: %+v %v", mm, err)
		}

		// An existing user is added at once.
		o.get("/settings")
		if status, body := o.post("/settings/members", url.Values{"email": {"owner@b.test"}, "role": {"member"}}); status != 200 || !strings.Contains(body, "is now a member") {
			t.Fatalf("add existing: %d", status)
		}

		// Admins cannot make owners; owners can.
		admin, _ := e.areas.Accounts.UserByEmail(ctx, "member@a.test")
		o.get("/settings")
		if status, _ := o.post("/settings/members/"+admin.ID+"/role", url.Values{"role": {"admin"}}); status != http.StatusSeeOther {
			t.Fatalf("owner promotes to admin: %d", status)
		}
		a := e.login("member@a.test") // now an admin
		a.get("/settings")
		if status, body := a.post("/settings/members/"+u.ID+"/role", url.Values{"role": {"owner"}}); status != http.StatusBadRequest || !strings.Contains(body, "only an owner") {
			t.Fatalf("admin makes owner: %d", status)
		}
		owner, _ := e.areas.Accounts.UserByEmail(ctx, "owner@a.test")
		if status, _ := a.post("/settings/members/"+owner.ID+"/remove", nil); status != http.StatusBadRequest {
			t.Fatalf("admin removes owner: %d", status)
		}
		// The last owner cannot leave.
		o.get("/settings")
		if status, body := o.post("/settings/members/"+owner.ID+"/remove", nil); status != http.StatusBadRequest || !strings.Contains(body, "needs an owner") {
			t.Fatalf("last owner leaves: %d", status)
		}

		// API keys: created once-shown, usable, revocable.
		o.get("/settings")
		status, body = o.post("/settings/keys", url.Values{"name": {"ci"}, "scope": {"read-only"}})
		km := regexp.MustCompile(`id="new-key" readonly value="(nj_[a-z0-9]+)"`).FindStringSubmatch(body)
		if status != 200 || km == nil {
			t.Fatalf("create key: %d", status)
		}
		k, err := e.areas.Projects.KeyBySecret(ctx, km[1])
		if err != nil || k.Scope != nightjar.ScopeReadOnly || k.ProjectID != e.a.ID {
			t.Fatalf("key: %+v %v", k, err)
		}
		if status, _ := o.post("/settings/keys/"+k.ID+"/revoke", nil); status != http.StatusSeeOther {
			t.Fatalf("revoke: %d", status)
		}
		if _, err := e.areas.Projects.KeyBySecret(ctx, km[1]); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("revoked key still works: %v", err)
		}
		// Another project's key cannot be revoked from here.
		bKey, _ := e.areas.Projects.CreateKey(ctx, &nightjar.APIKey{ProjectID: e.b.ID, Name: "b", Scope: nightjar.ScopeReadWrite}, "", t0)
		bk, _ := e.areas.Projects.KeyBySecret(ctx, bKey)
		o.get("/settings")
		if status, _ := o.post("/settings/keys/"+bk.ID+"/revoke", nil); status != http.StatusNotFound {
			t.Fatalf("revoke foreign key: %d", status)
		}
		if _, err := e.areas.Projects.KeyBySecret(ctx, bKey); err != nil {
			t.Fatal("project B's key was revoked")
		}
		_, body = o.get("/settings")
		for _, want := range []string{"member.invite", "member.add", "member.role", "apikey.create", "apikey.revoke"} {
			if !strings.Contains(body, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
	})
}

func TestChannelsPage(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.login("member@a.test")
		m.get("/channels")
		if status, body := m.post("/channels/new", url.Values{"kind": {"webhook"}, "name": {"ops"}, "url": {"ftp://nope"}}); status != http.StatusBadRequest || !strings.Contains(body, "http or https") {
			t.Fatalf("bad url: %d", status)
		}
		if status, _ := m.post("/channels/new", url.Values{"kind": {"webhook"}, "name": {"ops"}, "url": {"https://hooks.example.com/x"}, "secret": {"Hook-Secret-XYZ"}}); status != http.StatusSeeOther {
			t.Fatalf("create: %d", status)
		}
		chs, _ := channels.New(db).List(context.Background(), e.a.ID)
		if len(chs) != 1 || chs[0].Config.Secret != "Hook-Secret-XYZ" {
			t.Fatalf("channels: %+v", chs)
		}
		m.get("/channels")
		if status, _ := m.post("/channels/"+chs[0].ID+"/test", nil); status != http.StatusSeeOther {
			t.Fatalf("test: %d", status)
		}
		_, body := m.get("/channels")
		if !strings.Contains(body, "pending") || !strings.Contains(body, "Test notification") {
			t.Fatal("test notification not listed as pending")
		}
		if strings.Contains(body, "Hook-Secret-XYZ") {
			t.Fatal("the signing secret is shown")
		}
		// Editing without a new secret keeps the old one while the URL stays.
		m.get("/channels/" + chs[0].ID + "/edit")
		if status, _ := m.post("/channels/"+chs[0].ID+"/edit", url.Values{"kind": {"webhook"}, "name": {"ops-renamed"}, "url": {"https://hooks.example.com/x"}}); status != http.StatusSeeOther {
			t.Fatalf("edit: %d", status)
		}
		edited, _ := channels.New(db).Get(context.Background(), e.a.ID, chs[0].ID)
		if edited.Name != "ops-renamed" || edited.Config.URL != "https://hooks.example.com/x" || edited.Config.Secret != "Hook-Secret-XYZ" {
			t.Fatalf("edited: %+v", edited)
		}
		v := e.login("viewer@a.test")
		if status, body := v.get("/channels"); status != 200 || strings.Contains(body, "Add a channel") {
			t.Fatalf("viewer channels page: %d", status)
		}
	})
}

// The deliveries list names where each message went: a channel by its
// name as it is now, any other destination by its kind and id.
func TestDeliveriesNameTheirDestination(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ch := &nightjar.Channel{ProjectID: e.a.ID, Kind: nightjar.ChannelWebhook, Name: "first-name", Config: nightjar.ChannelConfig{URL: "https://h.example/"}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := channels.New(db).SendTest(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := channels.New(db).Edit(ctx, e.a.ID, ch.ID, func(ch *nightjar.Channel) error { ch.Name = "ops-team"; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := outbox.New(db).Enqueue(ctx, t0, outbox.Message{ProjectID: e.a.ID, To: outbox.Destination{Kind: outbox.ToContact, ID: "person-7"},
			Event: "alert.firing", Alert: nightjar.Alert{ProjectID: e.a.ID, DedupKey: "check:x", Summary: "x is down", Status: nightjar.AlertFiring}}); err != nil {
			t.Fatal(err)
		}
		_, body := e.login("viewer@a.test").get("/channels")
		deliveries := body[strings.Index(body, `id="deliveries"`):]
		// When each was created, relative like the checks list's times,
		// with the exact time on hover.
		created := string(relTime(e.clock.Now(), t0))
		for _, want := range []string{"<td>ops-team</td>", "<td>contact:person-7</td>", "<td>" + created + "</td>"} {
			if !strings.Contains(deliveries, want) {
				t.Errorf("deliveries list lacks %s:\n%s", want, deliveries)
			}
		}
		if !strings.Contains(created, `title="`+exact(t0)+`"`) || strings.Contains(created, ">"+exact(t0)+"<") {
			t.Errorf("a delivery's time is %s; want words, with the exact time on hover", created)
		}
	})
}

// A member who changes a webhook's URL in the console must give its
// secret again or remove it, and likewise remove stored headers: neither
// is ever sent to the new URL on the strength of the old one.
func TestChannelEditDoesNotReaimSecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ch := &nightjar.Channel{ProjectID: e.a.ID, Kind: nightjar.ChannelWebhook, Name: "ops", Config: nightjar.ChannelConfig{
			URL: "https://hooks.example.com/x", Secret: "Hook-Secret-XYZ", Headers: map[string]string{"Authorization": "Bearer Header-Token-XYZ"}}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		m := e.login("member@a.test")
		edit := func(form url.Values) (int, string) {
			t.Helper()
			m.get("/channels/" + ch.ID + "/edit")
			form.Set("kind", "webhook")
			form.Set("name", "ops")
			return m.post("/channels/"+ch.ID+"/edit", form)
		}
		stored := func() *nightjar.Channel {
			t.Helper()
			got, err := channels.New(db).Get(ctx, e.a.ID, ch.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if status, body := edit(url.Values{"url": {"https://attacker.example/collect"}}); status != http.StatusBadRequest || !strings.Contains(body, "config.secret") {
			t.Fatalf("new url without the secret: %d", status)
		}
		if got := stored(); got.Config.URL != "https://hooks.example.com/x" || got.Config.Secret != "Hook-Secret-XYZ" {
			t.Fatalf("refused edit changed the channel: %+v", got.Config)
		}
		if status, body := edit(url.Values{"url": {"https://attacker.example/collect"}, "secret": {"New-Secret"}}); status != http.StatusBadRequest || !strings.Contains(body, "config.headers") {
			t.Fatalf("new url and secret, headers kept: %d", status)
		}
		if status, _ := edit(url.Values{"url": {"https://new.example.com/hook"}, "remove_secret": {"1"}, "remove_headers": {"1"}}); status != http.StatusSeeOther {
			t.Fatalf("new url, secrets removed: %d", status)
		}
		if got := stored(); got.Config.URL != "https://new.example.com/hook" || got.Config.Secret != "" || got.Config.Headers != nil {
			t.Fatalf("after moving: %+v", got.Config)
		}
		if status, _ := edit(url.Values{"url": {"https://other.example.com/hook"}, "secret": {"Other-Secret"}}); status != http.StatusSeeOther {
			t.Fatalf("new url with a new secret: %d", status)
		}
		if got := stored(); got.Config.URL != "https://other.example.com/hook" || got.Config.Secret != "Other-Secret" {
			t.Fatalf("after moving with a secret: %+v", got.Config)
		}
	})
}

// Test sends over the project's limit are refused with a page that says
// why, not an error page.
func TestChannelTestSendsAreLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		var chs []*nightjar.Channel
		for i := 0; i <= channels.TestsPerMinute; i++ {
			ch := &nightjar.Channel{ProjectID: e.a.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: "https://hooks.example.com/x"}}
			if err := channels.New(db).Create(ctx, ch, t0); err != nil {
				t.Fatal(err)
			}
			chs = append(chs, ch)
		}
		m := e.login("member@a.test")
		for _, ch := range chs[:channels.TestsPerMinute] {
			m.get("/channels")
			if status, _ := m.post("/channels/"+ch.ID+"/test", nil); status != http.StatusSeeOther {
				t.Fatalf("test: %d", status)
			}
		}
		m.get("/channels")
		if status, body := m.post("/channels/"+chs[channels.TestsPerMinute].ID+"/test", nil); status != http.StatusTooManyRequests || !strings.Contains(body, "test notifications a minute") {
			t.Fatalf("test over the limit: %d", status)
		}
	})
}

// Viewers see webhook URLs with their tokens masked; members see the URL
// they may edit; nobody sees a secret or a header value.
func TestChannelsPageRedaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		ch := &nightjar.Channel{ProjectID: e.a.ID, Kind: nightjar.ChannelWebhook, Name: "slack", Config: nightjar.ChannelConfig{
			URL: "https://hooks.example.com/services/T000/B000/PathTokenXYZ?token=QueryTokenXYZ", Secret: "Hook-Secret-XYZ",
			Headers: map[string]string{"Authorization": "Bearer Header-Token-XYZ"}}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		_, viewer := e.login("viewer@a.test").get("/channels")
		_, member := e.login("member@a.test").get("/channels")
		_, form := e.login("member@a.test").get("/channels/" + ch.ID + "/edit")
		for name, body := range map[string]string{"viewer": viewer, "member": member, "edit form": form} {
			for _, secret := range []string{"Hook-Secret-XYZ", "Header-Token-XYZ"} {
				if strings.Contains(body, secret) {
					t.Errorf("%s page shows %s", name, secret)
				}
			}
			if !strings.Contains(body, "Authorization") {
				t.Errorf("%s page does not name the Authorization header", name)
			}
		}
		for _, token := range []string{"PathTokenXYZ", "QueryTokenXYZ"} {
			if strings.Contains(viewer, token) {
				t.Errorf("viewer sees %s", token)
			}
			if !strings.Contains(member, token) || !strings.Contains(form, token) {
				t.Errorf("member does not see the URL to edit (%s)", token)
			}
		}
		if !strings.Contains(viewer, "https://hooks.example.com/services/…/…/…?token=…") {
			t.Errorf("viewer does not see the masked URL")
		}
	})
}

// Every channel and settings route answers 404 for another project's
// channel, member, key or invitation, whatever the caller's role allows.
func TestAuthorizationMatrixSettings(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		chB := &nightjar.Channel{ProjectID: e.b.ID, Kind: nightjar.ChannelWebhook, Name: "b-hook", Config: nightjar.ChannelConfig{URL: "https://b.example/hook"}}
		if err := channels.New(db).Create(ctx, chB, t0); err != nil {
			t.Fatal(err)
		}
		userB, _ := e.areas.Accounts.UserByEmail(ctx, "owner@b.test")
		keyB, _ := e.areas.Projects.CreateKey(ctx, &nightjar.APIKey{ProjectID: e.b.ID, Name: "b", Scope: nightjar.ScopeReadWrite}, "", t0)
		kb, _ := e.areas.Projects.KeyBySecret(ctx, keyB)
		invToken, _ := e.areas.Accounts.CreateInvitation(ctx, nightjar.RoleOwner, e.b.ID, "x@b.test", nightjar.RoleViewer, "owner@b.test", t0, time.Hour)
		invB, _ := e.areas.Accounts.Invitation(ctx, invToken, t0)
		routes := []struct {
			method, path string
			need         nightjar.Role
		}{
			{"GET", "/channels/" + chB.ID + "/edit", nightjar.NeedWrite},
			{"POST", "/channels/" + chB.ID + "/edit", nightjar.NeedWrite},
			{"POST", "/channels/" + chB.ID + "/test", nightjar.NeedWrite},
			{"POST", "/channels/" + chB.ID + "/delete", nightjar.NeedWrite},
			{"POST", "/settings/members/" + userB.ID + "/role", nightjar.NeedManage},
			{"POST", "/settings/members/" + userB.ID + "/remove", nightjar.NeedManage},
			{"POST", "/settings/keys/" + kb.ID + "/revoke", nightjar.NeedManage},
			{"POST", "/settings/invitations/" + invB.ID + "/delete", nightjar.NeedManage},
		}
		for _, email := range []string{"owner@a.test", "member@a.test", "viewer@a.test"} {
			c := e.login(email)
			u, _ := e.areas.Accounts.UserByEmail(ctx, email)
			m, _ := e.areas.Accounts.Membership(ctx, e.a.ID, u.ID)
			for _, rt := range routes {
				var status int
				if rt.method == "GET" {
					status, _ = c.get(rt.path)
				} else {
					status, _ = c.post(rt.path, url.Values{"role": {"viewer"}, "kind": {"webhook"}, "name": {"x"}, "url": {"https://evil.example"}})
				}
				want := http.StatusNotFound
				if !m.Role.AtLeast(rt.need) {
					want = http.StatusForbidden
				}
				if status != want {
					t.Errorf("%s %s %s: %d, want %d", email, rt.method, rt.path, status, want)
				}
			}
		}
		got, err := channels.New(db).Get(ctx, e.b.ID, chB.ID)
		if err != nil || got.Config.URL != "https://b.example/hook" {
			t.Fatalf("project B's channel changed: %+v %v", got, err)
		}
		if n, _ := outbox.New(db).Depth(ctx); n != 0 {
			t.Fatalf("%d test notifications queued for project B's channel", n)
		}
		if _, err := e.areas.Projects.KeyBySecret(ctx, keyB); err != nil {
			t.Fatal("project B's key was revoked")
		}
		if mm, err := e.areas.Accounts.Membership(ctx, e.b.ID, userB.ID); err != nil || mm.Role != nightjar.RoleOwner {
			t.Fatalf("project B's owner changed: %+v %v", mm, err)
		}
		if _, err := e.areas.Accounts.Invitation(ctx, invToken, t0); err != nil {
			t.Fatal("project B's invitation was withdrawn")
		}
	})
}

func TestCheckFormChannelsAndKeywords(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		hook := &nightjar.Channel{ProjectID: e.a.ID, Kind: nightjar.ChannelWebhook, Name: "hook", Config: nightjar.ChannelConfig{URL: "https://h.example"}}
		if err := channels.New(db).Create(ctx, hook, t0); err != nil {
			t.Fatal(err)
		}
		m := e.login("member@a.test")
		_, body := m.get("/checks/" + e.checkA.ID + "/edit")
		if !strings.Contains(body, `id="channel-`+hook.ID+`"`) {
			t.Fatal("the form does not offer the project's channel")
		}
		form := url.Values{"name": {"alpha job"}, "kind": {"simple"}, "timeout": {"3600"}, "grace": {"600"}, "failure_threshold": {"1"},
			"notify": {"some"}, "channel": {hook.ID}, "filter_body": {"on"}, "failure_kw": {"ERROR"}, "success_kw": {"OK"}}
		if status, _ := m.post("/checks/"+e.checkA.ID+"/edit", form); status != http.StatusSeeOther {
			t.Fatalf("save: %d", status)
		}
		c, _ := checksOf(db).Get(ctx, e.a.ID, e.checkA.ID)
		if len(c.Channels) != 1 || c.Channels[0] != hook.ID || !c.FilterBody || c.FailureKeywords != "ERROR" || c.SuccessKeywords != "OK" {
			t.Fatalf("saved: %+v", c)
		}
		form.Set("notify", "all")
		m.get("/checks/" + e.checkA.ID + "/edit")
		m.post("/checks/"+e.checkA.ID+"/edit", form)
		if c, _ = checksOf(db).Get(ctx, e.a.ID, e.checkA.ID); c.Channels != nil {
			t.Fatalf("all channels: %v", c.Channels)
		}
	})
}

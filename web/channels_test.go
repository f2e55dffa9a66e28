package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Channel settings that could only fail at delivery are refused when the
// channel is created or changed, with a 400 naming the field.
func TestChannelAPIRefusesBadSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		hook := func(url string, headers map[string]string) map[string]any {
			return map[string]any{"kind": "webhook", "name": "ops", "config": map[string]any{"url": url, "headers": headers}}
		}
		ok := "https://hooks.example.com/x"
		for _, tc := range []struct {
			body       map[string]any
			field, msg string
		}{
			{hook(ok, map[string]string{"X-Nightjar-Signature": "v1=00"}), "config.headers", "X-Nightjar-Signature"},
			{hook(ok, map[string]string{"Host": "evil.example"}), "config.headers", "Host"},
			{hook(ok, map[string]string{"Content-Length": "1"}), "config.headers", "Content-Length"},
			{hook(ok, map[string]string{"Connection": "close"}), "config.headers", "hop-by-hop"},
			{hook(ok, map[string]string{"X-Token": "a\r\nX-Evil: 1"}), "config.headers", "line breaks"},
			{hook(ok, map[string]string{"X Token": "1"}), "config.headers", "not a valid header name"},
			{hook("https://user:pass@hooks.example.com/x", nil), "config.url", "user name or password"},
		} {
			r := e.do("POST", "/api/v1/channels", e.rw, tc.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%v: %d %s, want 400", tc.body, r.status, r.body)
				continue
			}
			j := r.json(t)
			if j["field"] != tc.field || !strings.Contains(j["error"].(string), tc.msg) {
				t.Errorf("%v: %s, want field %s mentioning %q", tc.body, r.body, tc.field, tc.msg)
			}
		}
		r := e.do("POST", "/api/v1/channels", e.rw, hook(ok, nil))
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		r = e.do("PATCH", "/api/v1/channels/"+id, e.rw, map[string]any{"config": map[string]any{"headers": map[string]string{"X-Nightjar-Timestamp": "1"}}})
		if r.status != http.StatusBadRequest || r.json(t)["field"] != "config.headers" {
			t.Fatalf("patch with a reserved header: %d %s", r.status, r.body)
		}
	})
}

// A channel's destination cannot be changed while keeping the secrets
// given for the old one, and answers never show secrets or URL tokens.
func TestChannelAPISecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "webhook", "name": "ops", "config": map[string]any{
			"url": "https://hooks.example.com/services/T000/PathTokenXYZ?token=QueryTokenXYZ", "secret": "Hook-Secret-XYZ",
			"headers": map[string]string{"Authorization": "Bearer Header-Token-XYZ"}}})
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		noSecrets := func(what string, r resp) {
			t.Helper()
			for _, s := range []string{"Hook-Secret-XYZ", "Header-Token-XYZ", "PathTokenXYZ", "QueryTokenXYZ"} {
				if strings.Contains(string(r.body), s) {
					t.Errorf("%s shows %s: %s", what, s, r.body)
				}
			}
		}
		noSecrets("create", r)
		list := e.do("GET", "/api/v1/channels", e.rw, nil)
		noSecrets("list", list)
		for _, want := range []string{`"secret":"<redacted>"`, `"Authorization":"<redacted>"`, `"url":"https://hooks.example.com/services/…/…?token=…"`} {
			if !strings.Contains(string(list.body), want) {
				t.Errorf("list lacks %s: %s", want, list.body)
			}
		}

		stored := func() nightjar.ChannelConfig {
			t.Helper()
			ch, err := e.channels.Get(ctx, e.project.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			return ch.Config
		}
		patch := func(body map[string]any) resp {
			t.Helper()
			return e.do("PATCH", "/api/v1/channels/"+id, e.rw, body)
		}
		// Only a new url: refused, nothing changes.
		r = patch(map[string]any{"config": map[string]any{"url": "https://attacker.example/collect"}})
		if r.status != http.StatusBadRequest || r.json(t)["field"] != "config.secret" {
			t.Fatalf("new url alone: %d %s", r.status, r.body)
		}
		r = patch(map[string]any{"config": map[string]any{"url": "https://attacker.example/collect", "secret": "x"}})
		if r.status != http.StatusBadRequest || r.json(t)["field"] != "config.headers" {
			t.Fatalf("new url and secret: %d %s", r.status, r.body)
		}
		if cfg := stored(); cfg.URL != "https://hooks.example.com/services/T000/PathTokenXYZ?token=QueryTokenXYZ" || cfg.Secret != "Hook-Secret-XYZ" {
			t.Fatalf("refused patches changed the channel: %+v", cfg)
		}
		// The listing sent back as it is cannot replace the secret with its placeholder.
		r = patch(map[string]any{"config": map[string]any{"secret": "<redacted>"}})
		if r.status != http.StatusBadRequest || r.json(t)["field"] != "config.secret" {
			t.Fatalf("placeholder secret: %d %s", r.status, r.body)
		}
		// A rename keeps everything.
		if r = patch(map[string]any{"name": "ops-2"}); r.status != http.StatusOK {
			t.Fatalf("rename: %d %s", r.status, r.body)
		}
		noSecrets("rename", r)
		if cfg := stored(); cfg.Secret != "Hook-Secret-XYZ" || cfg.Headers["Authorization"] != "Bearer Header-Token-XYZ" {
			t.Fatalf("rename lost secrets: %+v", cfg)
		}
		// A new url with the secrets given again, or removed.
		r = patch(map[string]any{"config": map[string]any{"url": "https://new.example.com/hook", "secret": "New-Secret", "headers": map[string]string{}}})
		if r.status != http.StatusOK {
			t.Fatalf("move with secrets restated: %d %s", r.status, r.body)
		}
		if cfg := stored(); cfg.URL != "https://new.example.com/hook" || cfg.Secret != "New-Secret" || cfg.Headers != nil {
			t.Fatalf("after moving: %+v", cfg)
		}
		if r = e.do("PATCH", "/api/v1/channels/"+id, e.ro, map[string]any{"name": "x"}); r.status != http.StatusForbidden {
			t.Fatalf("read-only key patches: %d", r.status)
		}
		if r = patch(map[string]any{"name": "x", "id": "other"}); r.status != http.StatusBadRequest || r.json(t)["field"] != "id" {
			t.Fatalf("unknown field: %d %s", r.status, r.body)
		}
		if r = e.do("PATCH", "/api/v1/channels/00000000-0000-0000-0000-000000000000", e.rw, map[string]any{"name": "x"}); r.status != http.StatusNotFound {
			t.Fatalf("patch of a missing channel: %d", r.status)
		}
	})
}

// FuzzChannelAPI sends arbitrary bodies to the channel create and update
// endpoints: every answer is a success or a 4xx with a JSON error, never a
// 5xx, and no answer shows the stored secret.
func FuzzChannelAPI(f *testing.F) {
	for _, s := range []string{
		`{"kind": "webhook", "name": "x", "config": {"url": "https://h.example/x", "secret": "s"}}`,
		`{"kind": "email", "name": "x", "config": {"to": ["a@example.com"]}}`,
		`{"config": {"url": "https://other.example/"}}`,
		`{"config": {"headers": {"X-A": "1\r\n"}}}`,
		`{"config": {"headers": null}}`, `{"kind": "email"}`, `{"name": "\u0000"}`, `[]`, `null`, `{`,
	} {
		f.Add(s)
	}
	db := storetest.Open(f, "sqlite")
	e := newEnv(f, db, Config{})
	r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "webhook", "name": "target", "config": map[string]any{"url": "https://h.example/x", "secret": "Fuzz-Secret-XYZ"}})
	if r.status != http.StatusCreated {
		f.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.json(f)["id"].(string)
	f.Fuzz(func(t *testing.T, body string) {
		e.t = t
		for _, target := range []struct{ method, path string }{
			{"POST", "/api/v1/channels"},
			{"PATCH", "/api/v1/channels/" + id},
		} {
			r := e.do(target.method, target.path, e.rw, body)
			if r.status >= 500 {
				t.Fatalf("%s %s %q: %d %s", target.method, target.path, body, r.status, r.body)
			}
			if r.status >= 400 && !strings.HasPrefix(string(r.body), `{"error":`) {
				t.Fatalf("%s %s %q: %d without a JSON error: %s", target.method, target.path, body, r.status, r.body)
			}
			if strings.Contains(string(r.body), "Fuzz-Secret-XYZ") {
				t.Fatalf("%s %s %q shows the secret: %s", target.method, target.path, body, r.body)
			}
		}
	})
}

// Test sends are limited: asking again while a test waits gives the same
// notification, and a project over its limit gets a 429 saying so.
func TestChannelTestSendsAreLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		var ids []string
		for i := 0; i <= channels.TestsPerMinute; i++ {
			r := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "webhook", "name": fmt.Sprintf("h%d", i), "config": map[string]any{"url": "https://hooks.example.com/x"}})
			if r.status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.status, r.body)
			}
			ids = append(ids, r.json(t)["id"].(string))
		}
		first := e.do("POST", "/api/v1/channels/"+ids[0]+"/test", e.rw, nil)
		again := e.do("POST", "/api/v1/channels/"+ids[0]+"/test", e.rw, nil)
		if first.status != http.StatusAccepted || again.status != http.StatusAccepted || first.json(t)["notification_id"] != again.json(t)["notification_id"] {
			t.Fatalf("second test while the first waits: %s then %s", first.body, again.body)
		}
		for _, id := range ids[1:channels.TestsPerMinute] {
			if r := e.do("POST", "/api/v1/channels/"+id+"/test", e.rw, nil); r.status != http.StatusAccepted {
				t.Fatalf("test %s: %d %s", id, r.status, r.body)
			}
		}
		r := e.do("POST", "/api/v1/channels/"+ids[channels.TestsPerMinute]+"/test", e.rw, nil)
		if r.status != http.StatusTooManyRequests || !strings.Contains(r.json(t)["error"].(string), "a minute") {
			t.Fatalf("test over the limit: %d %s", r.status, r.body)
		}
		e.clock.Advance(time.Minute + time.Second)
		if r := e.do("POST", "/api/v1/channels/"+ids[channels.TestsPerMinute]+"/test", e.rw, nil); r.status != http.StatusAccepted {
			t.Fatalf("test a minute later: %d %s", r.status, r.body)
		}
	})
}

// A notification's delivery state names the channel it goes to; a message
// to a destination that is no channel names none.
func TestNotificationState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{})
		ch := e.do("POST", "/api/v1/channels", e.rw, map[string]any{"kind": "webhook", "name": "ops", "config": map[string]any{"url": "https://hooks.example.com/x"}}).json(t)
		sent := e.do("POST", "/api/v1/channels/"+ch["id"].(string)+"/test", e.rw, nil).json(t)
		r := e.do("GET", "/api/v1/notifications/"+sent["notification_id"].(string), e.ro, nil)
		got := r.json(t)
		if r.status != http.StatusOK || got["channel_id"] != ch["id"] || got["event"] != "test" || got["status"] != "pending" || got["attempts"] != 0.0 {
			t.Fatalf("test notification: %d %s", r.status, r.body)
		}
		page, err := e.outbox.Enqueue(ctx, t0, outbox.Message{ProjectID: e.project.ID, To: outbox.Destination{Kind: outbox.ToContact, ID: "person-1"},
			Event: "alert.firing", Alert: nightjar.Alert{ProjectID: e.project.ID, DedupKey: "check:x", Status: nightjar.AlertFiring}})
		if err != nil {
			t.Fatal(err)
		}
		r = e.do("GET", "/api/v1/notifications/"+page[0], e.ro, nil)
		if got := r.json(t); r.status != http.StatusOK || got["event"] != "alert.firing" || got["channel_id"] != nil {
			t.Fatalf("message to a person: %d %s", r.status, r.body)
		}
	})
}

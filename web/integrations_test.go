package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// newIntegrationKey creates an integration key through the API and
// returns the creation answer.
func (e *env) newIntegrationKey(name, service string) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/integration-keys", e.rw, map[string]any{"name": name, "service": service})
	if r.status != http.StatusCreated {
		e.t.Fatalf("create integration key: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

// addChannel gives the project a webhook channel, so alert changes are
// queued to it.
func (e *env) addChannel(name string) {
	e.t.Helper()
	ch := &nightjar.Channel{ProjectID: e.project.ID, Kind: nightjar.ChannelWebhook, Name: name,
		Config: nightjar.ChannelConfig{URL: "https://" + name + ".example/hook"}}
	if err := e.channels.Create(context.Background(), ch, t0); err != nil {
		e.t.Fatal(err)
	}
}

// queued lists the queued messages as "event dedup-key", sorted: the
// messages of one change share their creation time.
func (e *env) queued() []string {
	e.t.Helper()
	items, err := e.outbox.ByProject(context.Background(), e.project.ID, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := []string{}
	for _, it := range items {
		out = append(out, it.Event+" "+it.Alert.DedupKey)
	}
	slices.Sort(out)
	return out
}

// alertsByKey reads the project's alerts from the database, by dedup key.
func (e *env) alertsByKey() map[string]*nightjar.Alert {
	e.t.Helper()
	list, err := e.areas.Alerts.List(context.Background(), e.project.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*nightjar.Alert{}
	for _, a := range list {
		out[a.DedupKey] = a
	}
	return out
}

// sameList compares got with want, sorted.
func sameList(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// Integration keys: made by a read-write key, the secret shown once (32
// characters, a PagerDuty routing key's length), listed without it,
// revoked, each change audited by name; bad input names the field.
func TestIntegrationKeyAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		for _, tc := range []struct {
			body  string
			field string
		}{
			{`{}`, "name"},
			{`{"name": "prom"}`, "service"},
			{`{"name": " ", "service": "shop"}`, "name"},
			{`{"name": "prom", "service": "` + strings.Repeat("s", 101) + `"}`, "service"},
			{`{"name": "prom", "service": "shop", "key": "mine"}`, "key"},
			{`{"name": 5, "service": "shop"}`, "name"},
			{`[]`, ""},
		} {
			r := e.do("POST", "/api/v1/integration-keys", e.rw, tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%s: %d %s", tc.body, r.status, r.body)
			}
			if got, _ := r.json(t)["field"].(string); got != tc.field {
				t.Errorf("%s: field %q, want %q (%s)", tc.body, got, tc.field, r.body)
			}
		}
		if r := e.do("POST", "/api/v1/integration-keys", e.ro, map[string]any{"name": "x", "service": "y"}); r.status != http.StatusForbidden {
			t.Fatalf("read-only create: %d %s", r.status, r.body)
		}

		k := e.newIntegrationKey("prom", "shop")
		secret := k["key"].(string)
		if len(secret) != 32 || k["prefix"] != secret[:7] || k["service"] != "shop" || k["name"] != "prom" {
			t.Fatalf("created key: %v", k)
		}
		if k["alertmanager_url"] != "http://nightjar.test/api/v1/integrations/"+secret+"/alertmanager" ||
			k["events_url"] != "http://nightjar.test/api/v1/events/v2/enqueue" {
			t.Fatalf("urls: %v", k)
		}
		if _, ok := k["hash"]; ok {
			t.Fatalf("the hash is shown: %v", k)
		}
		e.clock.Advance(time.Second)
		other := e.newIntegrationKey("other", "db")["key"].(string)
		if other == secret {
			t.Fatal("two keys share a secret")
		}

		if r := e.do("GET", "/api/v1/integration-keys", e.ro, nil); r.status != http.StatusForbidden {
			t.Fatalf("read-only list: %d %s", r.status, r.body)
		}
		r := e.do("GET", "/api/v1/integration-keys", e.rw, nil)
		if r.status != 200 || strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), store.HashSecret(secret)) {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
		list := r.json(t)["integration_keys"].([]any)
		if len(list) != 2 || list[0].(map[string]any)["id"] != k["id"] {
			t.Fatalf("list: %s", r.body)
		}

		id := k["id"].(string)
		if r := e.do("DELETE", "/api/v1/integration-keys/"+id, e.rw, nil); r.status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if r := e.do("DELETE", "/api/v1/integration-keys/"+id, e.rw, nil); r.status != http.StatusNotFound {
			t.Fatalf("revoke twice: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/api/v1/integration-keys", e.rw, nil); len(r.json(t)["integration_keys"].([]any)) != 1 {
			t.Fatalf("list after revoking: %s", r.body)
		}
		// A revoked key is as unknown as one never made.
		for _, key := range []string{secret, strings.Repeat("a", 32)} {
			r := e.do("POST", "/api/v1/integrations/"+key+"/alertmanager", "", amBody("firing", amAlert("firing", "A", "")))
			if r.status != http.StatusNotFound || r.json(t)["error"] != "no integration has this key" {
				t.Fatalf("alertmanager with a dead key: %d %s", r.status, r.body)
			}
		}

		log, err := e.areas.Audit.List(context.Background(), e.project.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range log {
			got = append(got, a.Action+" "+a.Target)
		}
		slices.Sort(got)
		sameList(t, "audit", got, []string{
			"DELETE /api/v1/integration-keys/{id} integration key prom for service shop (" + id + ")",
			"POST /api/v1/integration-keys integration key other for service db (" + list[1].(map[string]any)["id"].(string) + ")",
			"POST /api/v1/integration-keys integration key prom for service shop (" + id + ")",
		})
	})
}

// amAlert is one alert of an Alertmanager payload; service is its service
// label, when set.
func amAlert(status, name, service string) string {
	labels := `"alertname": "` + name + `", "severity": "warning"`
	if service != "" {
		labels += `, "service": "` + service + `"`
	}
	return `{"status": "` + status + `", "labels": {` + labels + `},
		"annotations": {"summary": "` + name + ` is broken", "runbook_url": "https://wiki.example/` + name + `"},
		"startsAt": "2026-03-01T11:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
		"generatorURL": "http://prometheus.example:9090/graph?g0.expr=up", "fingerprint": "f` + name + `"}`
}

// amBody is an Alertmanager webhook payload (version 4) of these alerts.
func amBody(status string, alerts ...string) string {
	return `{"version": "4", "status": "` + status + `", "receiver": "nightjar", "groupKey": "{}:{}", "truncatedAlerts": 0,
		"groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
		"alerts": [` + strings.Join(alerts, ",") + `]}`
}

// The Alertmanager receiver: one alert per fingerprint, recorded with its
// labels, annotations and links before the 2xx; a resend notifies nobody
// again; resolved resolves; the service label wins over the key's
// service; bad payloads are 400 naming the field and record nothing.
func TestAlertmanagerWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		e.addChannel("team")
		k := e.newIntegrationKey("prom", "shop")
		url := "/api/v1/integrations/" + k["key"].(string) + "/alertmanager"
		post := func(body string) resp {
			t.Helper()
			return e.do("POST", url, "", body)
		}

		for _, tc := range []struct{ body, field string }{
			{`not json`, ""},
			{`{"version": "3", "status": "firing", "alerts": []}`, "version"},
			{`{"version": "4", "status": "firing"}`, "alerts"},
			{`{"version": "4", "status": "burning", "alerts": []}`, "status"},
			{amBody("firing", amAlert("firing", "A", ""), `{"status": "firing", "labels": {}, "startsAt": "2026-03-01T11:58:00Z"}`), "alerts[1].labels"},
			{amBody("firing", strings.Replace(amAlert("firing", "A", ""), "2026-03-01T11:58:00Z", "yesterday", 1)), "alerts[0].startsAt"},
		} {
			r := post(tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%s: %d %s", tc.body, r.status, r.body)
			}
			if got, _ := r.json(t)["field"].(string); got != tc.field {
				t.Errorf("%s: field %q, want %q (%s)", tc.body, got, tc.field, r.body)
			}
		}
		if got := e.alertsByKey(); len(got) != 0 {
			t.Fatalf("bad payloads recorded alerts: %v", got)
		}

		r := post(amBody("firing", amAlert("firing", "A", ""), amAlert("firing", "B", "payments")))
		if r.status != http.StatusOK || r.json(t)["alerts"] != 2.0 {
			t.Fatalf("firing: %d %s", r.status, r.body)
		}
		// Durable when answered: the rows are there.
		alerts := e.alertsByKey()
		a, b := alerts["alertmanager:fA"], alerts["alertmanager:fB"]
		if len(alerts) != 2 || a == nil || b == nil {
			t.Fatalf("alerts after firing: %v", alerts)
		}
		if a.Status != nightjar.AlertFiring || a.Service != "shop" || b.Service != "payments" || a.Severity != nightjar.SeverityTicket ||
			a.Summary != "A is broken" || a.Source != "alertmanager" || a.SourceID != k["id"] || a.Labels["alertname"] != "A" ||
			a.Details["runbook_url"] != "https://wiki.example/A" || !a.StartsAt.Equal(time.Date(2026, 3, 1, 11, 58, 0, 0, time.UTC)) {
			t.Fatalf("alert A: %+v", a)
		}
		wantLinks := []nightjar.Link{{Href: "https://wiki.example/A", Text: "Runbook"},
			{Href: "http://prometheus.example:9090/graph?g0.expr=up", Text: "Alert source"},
			{Href: "http://alertmanager.example:9093", Text: "Alertmanager"}}
		if !slices.Equal(a.Links, wantLinks) {
			t.Fatalf("links: %+v", a.Links)
		}
		sameList(t, "after firing", e.queued(), []string{"alert.firing alertmanager:fA", "alert.firing alertmanager:fB"})

		// Alertmanager resends the group when C joins and at every repeat
		// interval: only C is news.
		e.clock.Advance(time.Minute)
		if r := post(amBody("firing", amAlert("firing", "A", ""), amAlert("firing", "B", "payments"), amAlert("firing", "C", ""))); r.status != http.StatusOK {
			t.Fatalf("resend: %d %s", r.status, r.body)
		}
		sameList(t, "after a resend", e.queued(), []string{"alert.firing alertmanager:fA", "alert.firing alertmanager:fB", "alert.firing alertmanager:fC"})

		e.clock.Advance(time.Minute)
		resolved := strings.Replace(amAlert("resolved", "A", ""), "0001-01-01T00:00:00Z", "2026-03-01T12:01:00Z", 1)
		if r := post(amBody("firing", resolved, amAlert("firing", "B", "payments"))); r.status != http.StatusOK {
			t.Fatalf("resolve: %d %s", r.status, r.body)
		}
		a = e.alertsByKey()["alertmanager:fA"]
		if a.Status != nightjar.AlertResolved || !a.EndsAt.Equal(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)) {
			t.Fatalf("resolved A: %+v", a)
		}
		// A resolved alert sent again is dropped.
		post(amBody("resolved", resolved))
		sameList(t, "after resolving", e.queued(), []string{"alert.firing alertmanager:fA", "alert.firing alertmanager:fB",
			"alert.firing alertmanager:fC", "alert.resolved alertmanager:fA"})
	})
}

// pdEvent is an Events API v2 event.
func pdEvent(key, action, dedup string, payload map[string]any) map[string]any {
	ev := map[string]any{"routing_key": key, "event_action": action}
	if dedup != "" {
		ev["dedup_key"] = dedup
	}
	if payload != nil {
		ev["payload"] = payload
	}
	return ev
}

// The Events API answers as PagerDuty does: 202 with the dedup key,
// generated for a trigger without one; a repeated trigger notifies nobody
// again; acknowledge is recorded on the alert; resolve resolves it, and a
// trigger after that is a new, unacknowledged episode. Bad events are 400
// in PagerDuty's shape, naming the field.
func TestEventsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, Config{})
		e.addChannel("team")
		k := e.newIntegrationKey("app", "shop")
		key, keyID := k["key"].(string), k["id"].(string)
		payload := map[string]any{"summary": "Disk full on db-1", "source": "db-1", "severity": "critical", "component": "postgres",
			"custom_details": map[string]any{"free": 0, "mount": "/var"}}
		send := func(ev map[string]any) map[string]any {
			t.Helper()
			r := e.do("POST", "/api/v1/events/v2/enqueue", "", ev)
			if r.status != http.StatusAccepted {
				t.Fatalf("%v: %d %s", ev, r.status, r.body)
			}
			m := r.json(t)
			if m["status"] != "success" || m["message"] != "Event processed" {
				t.Fatalf("%v: %s", ev, r.body)
			}
			return m
		}

		for _, tc := range []struct {
			ev    any
			field string
		}{
			{`{"event_action": "trigger"`, "body"},
			{pdEvent("", "trigger", "", payload), "routing_key"},
			{pdEvent("short", "trigger", "", payload), "routing_key"},
			{pdEvent(strings.Repeat("z", 32), "trigger", "", payload), "routing_key"},
			{pdEvent(key, "escalate", "", payload), "event_action"},
			{pdEvent(key, "resolve", "", nil), "dedup_key"},
			{pdEvent(key, "trigger", "", nil), "payload"},
			{pdEvent(key, "trigger", "", map[string]any{"summary": "x", "source": "y", "severity": "fatal"}), "payload.severity"},
			{pdEvent(key, "trigger", "", map[string]any{"source": "y", "severity": "info"}), "payload.summary"},
		} {
			r := e.do("POST", "/api/v1/events/v2/enqueue", "", tc.ev)
			m := r.json(t)
			errs, _ := m["errors"].([]any)
			if r.status != http.StatusBadRequest || m["status"] != "invalid event" || m["message"] != "Event object is invalid" || len(errs) != 1 {
				t.Fatalf("%v: %d %s", tc.ev, r.status, r.body)
			}
			if msg := errs[0].(string); tc.field != "body" && !strings.HasPrefix(msg, tc.field+": ") {
				t.Errorf("%v: error %q does not name %s", tc.ev, msg, tc.field)
			}
		}
		if got := e.alertsByKey(); len(got) != 0 {
			t.Fatalf("bad events recorded alerts: %v", got)
		}

		dk := "pagerduty:" + keyID + ":disk-db-1"
		if m := send(pdEvent(key, "trigger", "disk-db-1", payload)); m["dedup_key"] != "disk-db-1" {
			t.Fatalf("trigger answered %v", m)
		}
		a := e.alertsByKey()[dk]
		if a == nil || a.Status != nightjar.AlertFiring || a.Service != "shop" || a.Severity != nightjar.SeverityPage || a.Summary != "Disk full on db-1" ||
			a.Details["free"] != "0" || a.Details["mount"] != "/var" || a.Labels["component"] != "postgres" || !a.StartsAt.Equal(t0) {
			t.Fatalf("triggered alert: %+v", a)
		}
		e.clock.Advance(time.Minute)
		send(pdEvent(key, "trigger", "disk-db-1", payload))
		sameList(t, "after triggering twice", e.queued(), []string{"alert.firing " + dk})

		gen := send(pdEvent(key, "trigger", "", map[string]any{"summary": "CPU hot", "source": "web-1", "severity": "info"}))["dedup_key"].(string)
		if len(gen) != 32 || e.alertsByKey()["pagerduty:"+keyID+":"+gen] == nil {
			t.Fatalf("generated dedup key %q: %v", gen, e.alertsByKey())
		}

		e.clock.Advance(time.Minute)
		send(pdEvent(key, "acknowledge", "disk-db-1", nil))
		send(pdEvent(key, "acknowledge", "never-heard-of", nil))
		if a := e.alertsByKey()[dk]; !a.AcknowledgedAt.Equal(t0.Add(2*time.Minute)) || a.Status != nightjar.AlertFiring {
			t.Fatalf("acknowledged alert: %+v", a)
		}

		e.clock.Advance(time.Minute)
		send(pdEvent(key, "resolve", "disk-db-1", nil))
		send(pdEvent(key, "resolve", "disk-db-1", nil))
		if a := e.alertsByKey()[dk]; a.Status != nightjar.AlertResolved || !a.EndsAt.Equal(t0.Add(3*time.Minute)) || !strings.HasSuffix(a.Summary, "Disk full on db-1") {
			t.Fatalf("resolved alert: %+v", a)
		}
		e.clock.Advance(time.Minute)
		send(pdEvent(key, "trigger", "disk-db-1", payload))
		if a := e.alertsByKey()[dk]; a.Status != nightjar.AlertFiring || !a.AcknowledgedAt.IsZero() {
			t.Fatalf("re-triggered alert: %+v", a)
		}
		sameList(t, "messages", e.queued(), []string{"alert.firing " + dk, "alert.firing pagerduty:" + keyID + ":" + gen,
			"alert.resolved " + dk, "alert.firing " + dk})
	})
}

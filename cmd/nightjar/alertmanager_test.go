package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/peerbin"
	"github.com/nightjar-dev/nightjar/store"
)

// EnvAlertmanager names the Alertmanager binary the integration test runs;
// "off" skips the test. Unset, it is Debian's prometheus-alertmanager,
// which scripts/ensure-alertmanager.sh installs.
const EnvAlertmanager = "NIGHTJAR_TEST_ALERTMANAGER"

// findAlertmanager returns the Alertmanager binary, skipping the test when
// there is none, except in CI (CI set), where it fails it.
func findAlertmanager(t testing.TB) string {
	t.Helper()
	return peerbin.Find(t, peerbin.Peer{Name: "Alertmanager", Env: EnvAlertmanager, Default: "/usr/bin/prometheus-alertmanager",
		Installer: "scripts/ensure-alertmanager.sh"})
}

// freePort returns a loopback port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// alertmanager is a real Alertmanager process.
type alertmanager struct {
	base string
}

// startAlertmanager runs Alertmanager on a free port with one route to a
// webhook at hook, grouping by alert name with short waits so a test sees
// a notification within seconds; it is stopped when the test ends.
func startAlertmanager(t testing.TB, bin, hook string, repeat time.Duration) *alertmanager {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`route:
  receiver: nightjar
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: %s
receivers:
  - name: nightjar
    webhook_configs:
      - url: %q
        send_resolved: true
`, repeat, hook)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var out bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", out.String())
		}
	})
	am := &alertmanager{base: "http://" + addr}
	deadline := time.Now().Add(guard)
	for {
		select {
		case err := <-exited:
			t.Fatalf("alertmanager exited: %v\n%s", err, out.String())
		default:
		}
		if res, err := http.Get(am.base + "/-/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return am
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready within %v\n%s", guard, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// post sends alerts to Alertmanager's API as Prometheus does.
func (am *alertmanager) post(t testing.TB, alerts []map[string]any) {
	t.Helper()
	b, _ := json.Marshal(alerts)
	res, err := http.Post(am.base+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("post alerts to alertmanager: %d %s", res.StatusCode, body)
	}
}

// guard bounds how long a test waits for something that happens within
// seconds when the code is right; it never measures speed.
const guard = 30 * time.Second

// eventually polls cond until it holds, failing the test after guard.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, guard)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hookReceiver is a project's webhook channel: it records the event and
// dedup key of every notification.
type hookReceiver struct {
	mu  sync.Mutex
	got []string
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Event string         `json:"event"`
		Alert nightjar.Alert `json:"alert"`
	}
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, p.Event+" "+p.Alert.DedupKey)
	h.mu.Unlock()
}

func (h *hookReceiver) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// webhookTap forwards Alertmanager's webhook calls to Nightjar and counts
// the ones Nightjar accepted, by the status of the notification.
type webhookTap struct {
	mu       sync.Mutex
	accepted map[string]int
}

func newWebhookTap(t testing.TB, to string) (*webhookTap, *httptest.Server) {
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	tap := &webhookTap{accepted: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var n struct {
			Alerts []struct {
				Status string `json:"status"`
			} `json:"alerts"`
		}
		_ = json.Unmarshal(body, &n)
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK && len(n.Alerts) > 0 {
			tap.mu.Lock()
			tap.accepted[n.Alerts[0].Status]++
			tap.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	return tap, srv
}

func (tap *webhookTap) count(status string) int {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.accepted[status]
}

// A real Alertmanager sends a Prometheus-style alert to Nightjar's
// receiver: firing records one alert and notifies once; Alertmanager's
// repeat of the firing notification records nothing new and notifies
// nobody; resolved resolves it and notifies once more. In a project
// without incident configuration the project's channel hears of the
// alert; in one with a service, its team and the team's escalation
// policy, firing opens one incident (the repeat opens no second), whose
// policy pages the channel, and resolved resolves the incident.
func TestRealAlertmanager(t *testing.T) {
	bin := findAlertmanager(t)
	t.Run("channels", func(t *testing.T) { testRealAlertmanager(t, bin, false) })
	t.Run("incidents", func(t *testing.T) { testRealAlertmanager(t, bin, true) })
}

func testRealAlertmanager(t *testing.T, bin string, withIncidents bool) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.AllowPrivateNetworks = true
	s := startServer(t, cfg)

	hook := &hookReceiver{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	ch := s.api(t, "POST", "/api/v1/channels", map[string]any{"kind": "webhook", "name": "team", "config": map[string]any{"url": hookSrv.URL}})
	projectID := ch["project_id"].(string)
	// The events the channel hears: of the alert, or of its incident.
	fired, resolved := "alert.firing", "alert.resolved"
	if withIncidents {
		fired, resolved = "incident.page", "incident.resolved"
		pol := s.api(t, "POST", "/api/v1/escalation-policies", map[string]any{"name": "storage on-call",
			"steps": []map[string]any{{"delay": "10m", "targets": []map[string]any{{"kind": "channel", "id": ch["id"]}}}}})
		team := s.api(t, "POST", "/api/v1/teams", map[string]any{"name": "storage", "members": []string{}, "policy": pol["id"]})
		s.api(t, "POST", "/api/v1/services", map[string]any{"name": "storage", "team": team["id"]})
	}
	incidents := func() []map[string]any {
		var got struct{ Incidents []map[string]any }
		b, _ := json.Marshal(s.api(t, "GET", "/api/v1/incidents", nil))
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		return got.Incidents
	}
	key := s.api(t, "POST", "/api/v1/integration-keys", map[string]any{"name": "alertmanager", "service": "storage"})["key"].(string)
	tap, tapSrv := newWebhookTap(t, s.base)
	am := startAlertmanager(t, bin, tapSrv.URL+"/api/v1/integrations/"+key+"/alertmanager", 2*time.Second)

	// Nightjar's own database, read beside the running server.
	db, err := store.Open(ctx, cfg.DatabaseDSN(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	queued := func() []string {
		items, err := outbox.New(db).ByProject(ctx, projectID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := len(items) - 1; i >= 0; i-- {
			out = append(out, items[i].Event+" "+items[i].Alert.DedupKey)
		}
		return out
	}
	alerts := func() []nightjar.Alert {
		var got struct{ Alerts []nightjar.Alert }
		b, _ := json.Marshal(s.api(t, "GET", "/api/v1/alerts", nil))
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		return got.Alerts
	}

	start := time.Now().UTC()
	alert := map[string]any{
		"labels":       map[string]string{"alertname": "DiskFull", "instance": "db-1:9100", "severity": "critical", "job": "node"},
		"annotations":  map[string]string{"summary": "Disk full on db-1", "runbook_url": "https://runbooks.example/disk-full"},
		"generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk_free+%3D%3D+0",
		"startsAt":     start.Format(time.RFC3339Nano),
		"endsAt":       start.Add(time.Hour).Format(time.RFC3339Nano),
	}
	am.post(t, []map[string]any{alert})

	var key0 string
	eventually(t, "the alert fires in Nightjar", func() bool {
		got := alerts()
		if len(got) == 1 && got[0].Status == nightjar.AlertFiring {
			key0 = got[0].DedupKey
			return true
		}
		return false
	})
	a := alerts()[0]
	if !strings.HasPrefix(a.DedupKey, "alertmanager:") || a.Service != "storage" || a.Severity != nightjar.SeverityPage ||
		a.Summary != "Disk full on db-1" || a.Labels["instance"] != "db-1:9100" || len(a.Links) < 2 || a.Links[0].Href != "https://runbooks.example/disk-full" {
		t.Fatalf("alert in Nightjar: %+v", a)
	}
	firing := fired + " " + key0
	eventually(t, "the channel hears of it", func() bool { return len(hook.received()) == 1 })
	wantIncident := func(status string) {
		t.Helper()
		incs := incidents()
		switch {
		case !withIncidents && len(incs) != 0:
			t.Fatalf("incidents without incident configuration: %v", incs)
		case withIncidents && (len(incs) != 1 || incs[0]["status"] != status || incs[0]["service"] != "storage"):
			t.Fatalf("incidents = %v, want one of storage, %s", incs, status)
		}
	}
	wantIncident("triggered")

	// Prometheus re-sends firing alerts; Alertmanager repeats the
	// notification after repeat_interval. Nightjar takes each and queues
	// nothing more.
	am.post(t, []map[string]any{alert})
	eventually(t, "alertmanager repeats the notification", func() bool { return tap.count("firing") >= 2 })
	if got := alerts(); len(got) != 1 || got[0].Status != nightjar.AlertFiring {
		t.Fatalf("alerts after the repeat: %+v", got)
	}
	if got := queued(); len(got) != 1 || got[0] != firing {
		t.Fatalf("queued after the repeat: %q", got)
	}
	wantIncident("triggered")

	alert["endsAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	am.post(t, []map[string]any{alert})
	eventually(t, "the alert resolves in Nightjar", func() bool {
		got := alerts()
		return len(got) == 1 && got[0].Status == nightjar.AlertResolved
	})
	eventually(t, "the channel hears of the resolve", func() bool { return len(hook.received()) == 2 })
	want := []string{firing, resolved + " " + key0}
	if got := hook.received(); got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("the channel received %q, want %q", got, want)
	}
	if got := queued(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("queued at the end: %q", got)
	}
	wantIncident("resolved")
	if tap.count("firing") < 2 || tap.count("resolved") < 1 {
		t.Fatalf("alertmanager's accepted notifications: %v", tap.accepted)
	}
}

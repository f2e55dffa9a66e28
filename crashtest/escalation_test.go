package crashtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/webhook"
	"github.com/nightjar-dev/nightjar/serverproc"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// Shape of the escalation under test: every incident pages steps × rounds
// times, each step to a webhook channel of its own.
const (
	escIncidents = 20
	escSteps     = 3
	escRepeat    = 1
	escFirings   = escSteps * (1 + escRepeat)
	// escStepDelay is each step's delay. The test does not wait for it:
	// it moves the incidents' escalation back by one delay at a time
	// (see advanceEscalation), so real time never makes a step due.
	escStepDelay = 10 * time.Minute
	// escKillFiring is the firing (from 0, across rounds) during which one
	// replica is killed: step 3 of round 1, after steps 1 and 2 have paged
	// and before round 2.
	escKillFiring = 2
	// escWait bounds every wait for a condition; a loaded machine meets
	// each in a second or two.
	escWait = 60 * time.Second
)

// TestKilledReplicaPagesOnce runs two `nightjar serve` processes on one
// PostgreSQL database, opens incidents through the Events API on both,
// and kills one replica with SIGKILL in the middle of an escalation step:
// while it holds an incident whose page it has decided on and written,
// but not committed. The survivor carries on, the killed replica is
// started again, and the escalation runs to its end.
//
// It asserts from what the webhook receiver got, strictly: every page
// (incident, step, round) arrived, and exactly once, counted by raw
// deliveries, by Idempotency-Key header and by what the payload says.
// A receiver would not need to drop anything here. That holds because
// the kill falls inside an escalation transaction, which the database
// rolls back, and at a moment when the killed replica has no delivery in
// flight (the outbox is drained before the step). A replica killed after
// a webhook was sent but before it recorded the result would leave the
// message leased for 2 minutes and then sent again with the same
// Idempotency-Key: at least once, with a key to drop the repeat. That
// case is not made here.
//
// Steps are at least a minute apart, so the test moves time for the
// escalation rather than waiting: between steps it moves every open
// incident's escalation start and next look back by one step delay, in
// the database, as an hour passing would. The replicas' escalation
// modules then find the next step due, on their own, at their next tick.
//
// To kill the replica mid-step, the test holds the outbox table locked
// while that step comes due: both replicas' escalation modules claim an
// incident each and stop at writing its page. The test kills one
// replica there and lets go of the lock.
func TestKilledReplicaPagesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real servers; skipped with -short")
	}
	dsn := storetest.PostgresURL(t) // skips when no PostgreSQL is configured
	bin := buildNightjar(t)
	ctx := context.Background()
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	rcv := newPageReceiver(t)
	started := time.Now()

	// The configuration: a service whose team's policy pages one webhook
	// channel per step, and never groups alerts, so each is an incident.
	dir := t.TempDir()
	var y strings.Builder
	y.WriteString("projects:\n  - name: Default\n    channels:\n")
	for s := 1; s <= escSteps; s++ {
		fmt.Fprintf(&y, "      - {name: step-%d, kind: webhook, url: %q}\n", s, fmt.Sprintf("%s/step-%d", rcv.srv.URL, s))
	}
	fmt.Fprintf(&y, "    escalation_policies:\n      - name: relay\n        repeat: %d\n        steps:\n", escRepeat)
	for s := 1; s <= escSteps; s++ {
		fmt.Fprintf(&y, "          - {delay: %s, targets: [{kind: channel, id: step-%d}]}\n", escStepDelay, s)
	}
	y.WriteString("    teams:\n      - {name: ops, members: [], policy: relay}\n")
	y.WriteString("    services:\n      - {name: checkout, team: ops, group_window: 0}\n")
	file := filepath.Join(dir, "nightjar.yaml")
	if err := os.WriteFile(file, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := exec.Command(bin, "apply", "-f", file, "--database-url", dsn)
	apply.Env = serverproc.Env("NIGHTJAR_ALLOW_PRIVATE_NETWORKS=true")
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("nightjar apply: %v\n%s", err, out)
	}

	// Two replicas, each with its own name in pg_stat_activity.
	apiKey := "killtest-" + serverproc.RandomHex(12)
	logDir := t.TempDir()
	replica := func(name string) *serverproc.Proc {
		return startServer(t, bin, backend{databaseURL: dsn + "&application_name=" + name}, apiKey, logDir,
			"NIGHTJAR_ALLOW_PRIVATE_NETWORKS=true")
	}
	survivor, victim := replica("nightjar-survivor"), replica("nightjar-victim")
	api := &client{t: t, base: survivor.Base, key: apiKey, http: newHTTPClient(4)}
	var ik struct {
		Key string `json:"key"`
	}
	api.mustDo(http.MethodPost, "/api/v1/integration-keys", map[string]any{"name": "killtest", "service": "checkout"}, &ik)

	// Incidents open through both replicas; each pages step 1 at once.
	for i := range escIncidents {
		api.base = []string{survivor.Base, victim.Base}[i%2]
		api.mustDo(http.MethodPost, "/api/v1/events/v2/enqueue", map[string]any{
			"routing_key": ik.Key, "event_action": "trigger", "dedup_key": fmt.Sprintf("db-%02d", i),
			"payload": map[string]any{"summary": fmt.Sprintf("db-%02d is down", i), "source": fmt.Sprintf("db-%02d", i), "severity": "critical"},
		}, nil)
	}
	api.base = survivor.Base
	waitFiring(t, raw, rcv, 0)

	var killedIn string
	var pagesAtKill int
	for n := 1; n < escFirings; n++ {
		if n != escKillFiring {
			advanceEscalation(t, raw, 0, escIncidents)
			waitFiring(t, raw, rcv, n)
			continue
		}
		// Half the incidents page this step while both replicas run…
		advanceEscalation(t, raw, 0, escIncidents/2)
		waitCount(t, "the first half of the step's pages", func() (int, int) {
			return rcv.pageCount(func(p page) bool { return p.firing() == n }), escIncidents / 2
		})
		// …and the other half comes due while the outbox is locked: each
		// replica's escalation stops at writing a page, inside its
		// transaction, and the victim is killed there.
		lock, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lock.Exec(`LOCK TABLE outbox IN EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		advanceEscalation(t, raw, escIncidents/2, escIncidents)
		deadline := time.Now().Add(escWait)
		for killedIn == "" {
			err := raw.QueryRow(`SELECT query FROM pg_stat_activity WHERE application_name = 'nightjar-victim'
				AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO outbox%' LIMIT 1`).Scan(&killedIn)
			if err != nil && err != sql.ErrNoRows {
				t.Fatal(err)
			}
			if killedIn == "" && time.Now().After(deadline) {
				_ = lock.Rollback()
				t.Fatalf("the victim's escalation never stopped at writing a page; its log:\n%s", victim.LogTail(20))
			}
			time.Sleep(20 * time.Millisecond)
		}
		pagesAtKill = rcv.pageCount(func(page) bool { return true })
		if err := victim.Kill(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if err := lock.Rollback(); err != nil {
			t.Fatal(err)
		}
		waitFiring(t, raw, rcv, n)
		// The killed replica comes back and shares the rest.
		victim = replica("nightjar-victim")
	}

	// Strict: each page once, by every count.
	got := rcv.deliveries()
	byPage, byKey := map[page]int{}, map[string]int{}
	other := 0
	for _, d := range got {
		if d.payload.Event != notify.EventIncidentPage {
			other++
			continue
		}
		p, err := d.page()
		if err != nil {
			t.Errorf("%s: %v", d.path, err)
			continue
		}
		byPage[p]++
		byKey[d.key]++
	}
	var missing, twice []string
	for num := int64(1); num <= escIncidents; num++ {
		for f := range escFirings {
			p := page{number: num, step: f%escSteps + 1, round: f/escSteps + 1}
			switch n := byPage[p]; {
			case n == 0:
				missing = append(missing, p.String())
			case n > 1:
				twice = append(twice, fmt.Sprintf("%s ×%d", p, n))
			}
			delete(byPage, p)
		}
	}
	for p, n := range byPage {
		twice = append(twice, fmt.Sprintf("unexpected %s ×%d", p, n))
	}
	repeatedKeys := 0
	for _, n := range byKey {
		if n > 1 {
			repeatedKeys++
		}
	}
	sort.Strings(missing)
	sort.Strings(twice)
	if len(missing) > 0 {
		t.Errorf("%d pages never arrived: %v", len(missing), missing)
	}
	if len(twice) > 0 {
		t.Errorf("pages that arrived more than once, or were not expected: %v", twice)
	}
	want := escIncidents * escFirings
	if len(byKey) != want || repeatedKeys > 0 {
		t.Errorf("%d idempotency keys among the pages, %d of them on more than one delivery; want %d keys, each once", len(byKey), repeatedKeys, want)
	}
	var outboxPages, notSent int
	if err := raw.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE status <> 'sent') FROM outbox WHERE event = $1`,
		notify.EventIncidentPage).Scan(&outboxPages, &notSent); err != nil {
		t.Fatal(err)
	}
	if outboxPages != want || notSent != 0 {
		t.Errorf("the outbox holds %d pages, %d of them not sent; want %d, all sent", outboxPages, notSent, want)
	}
	t.Logf("killed the victim in %q with %d pages delivered; %d raw deliveries (%d pages, %d other), %d distinct keys, %d outbox pages; took %s",
		killedIn, pagesAtKill, len(got), len(got)-other, other, len(byKey), outboxPages, time.Since(started).Round(time.Millisecond))
}

// advanceEscalation moves the escalation of the open incidents numbered
// from+1 to upTo back by one step delay, as if that long had passed:
// their start and their next look, together, so the step after the one
// paged last comes due now. A replica in the middle of an incident's step
// holds its row, and the update waits for it.
func advanceEscalation(t *testing.T, raw *sql.DB, from, upTo int) {
	t.Helper()
	if _, err := raw.Exec(`UPDATE incidents SET esc_since = esc_since - $1, esc_next = esc_next - $1
		WHERE esc_next > 0 AND number > $2 AND number <= $3`, escStepDelay.Milliseconds(), from, upTo); err != nil {
		t.Fatal(err)
	}
}

// waitFiring waits until firing n (from 0, across rounds) has paged every
// incident: each incident's escalation has moved past it, the outbox holds
// no message still to deliver, and the receiver has every page up to it.
func waitFiring(t *testing.T, raw *sql.DB, rcv *pageReceiver, n int) {
	t.Helper()
	waitCount(t, fmt.Sprintf("firing %d", n), func() (int, int) {
		var fired, pending, failed int
		var lastErr sql.NullString
		if err := raw.QueryRow(`SELECT
				(SELECT COUNT(*) FROM incidents WHERE esc_fired > $1),
				(SELECT COUNT(*) FROM outbox WHERE status = 'pending'),
				(SELECT COUNT(*) FROM outbox WHERE status = 'failed'),
				(SELECT MAX(last_error) FROM outbox WHERE status = 'failed')`, n).Scan(&fired, &pending, &failed, &lastErr); err != nil {
			t.Fatal(err)
		}
		if failed > 0 {
			t.Fatalf("%d notifications failed: %s", failed, lastErr.String)
		}
		got := rcv.pageCount(func(p page) bool { return p.firing() <= n })
		if fired < escIncidents || pending > 0 {
			got = min(got, escIncidents*(n+1)-1)
		}
		return got, escIncidents * (n + 1)
	})
}

// waitCount polls until have reaches want, or fails the test after escWait.
func waitCount(t *testing.T, what string, f func() (have, want int)) {
	t.Helper()
	deadline := time.Now().Add(escWait)
	for {
		have, want := f()
		if have >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d after %s", what, have, want, escWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// page names one page: an incident's step in a round.
type page struct {
	number      int64
	step, round int
}

func (p page) firing() int { return (p.round-1)*escSteps + p.step - 1 }

func (p page) String() string { return fmt.Sprintf("#%d step %d round %d", p.number, p.step, p.round) }

// delivery is one request the receiver was sent.
type delivery struct {
	path    string // the channel's URL path
	key     string // the Idempotency-Key header
	payload webhook.Payload
}

// page is the page a delivery says it is, checked against the channel it
// came to and its key header.
func (d delivery) page() (page, error) {
	inc := d.payload.Incident
	if inc == nil {
		return page{}, fmt.Errorf("a page without an incident: %+v", d.payload)
	}
	p := page{number: inc.Number, step: inc.Step, round: inc.Round}
	switch {
	case d.path != fmt.Sprintf("/step-%d", p.step):
		return p, fmt.Errorf("%s came to the channel of another step", p)
	case d.key == "" || d.key != d.payload.ID:
		return p, fmt.Errorf("%s: Idempotency-Key %q, payload id %q; want them equal and set", p, d.key, d.payload.ID)
	}
	return p, nil
}

// pageReceiver is the webhook endpoint behind the policy's channels: it
// records every request, raw, and answers 200.
type pageReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivery
}

func newPageReceiver(t *testing.T) *pageReceiver {
	r := &pageReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		d := delivery{path: req.URL.Path, key: req.Header.Get("Idempotency-Key")}
		if err == nil {
			err = json.Unmarshal(body, &d.payload)
		}
		if err != nil {
			// Recorded all the same: the test counts what was sent.
			d.payload.Event = "unreadable: " + err.Error()
		}
		r.mu.Lock()
		r.got = append(r.got, d)
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *pageReceiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// pageCount counts the distinct pages received that keep says to.
func (r *pageReceiver) pageCount(keep func(page) bool) int {
	seen := map[page]bool{}
	for _, d := range r.deliveries() {
		if d.payload.Event != notify.EventIncidentPage || d.payload.Incident == nil {
			continue
		}
		if p, err := d.page(); err == nil && keep(p) {
			seen[p] = true
		}
	}
	return len(seen)
}

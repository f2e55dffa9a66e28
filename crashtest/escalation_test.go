package crashtest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/webhook"
	"github.com/nightjar-dev/nightjar/serverproc"
	"github.com/nightjar-dev/nightjar/store"
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
	// escWait bounds every wait for a condition; a loaded machine meets
	// each in a second or two, or in the 5–10 s of a retry.
	escWait = 60 * time.Second
	// escPerDestination is how many attempts one destination may have in
	// flight across replicas: the delivery module's default.
	escPerDestination = 2
)

// What happens while each firing (from 0, across rounds) comes due.
const (
	// Firing 0 pages when the incidents open, through both replicas.
	// Firing 1 pages with both replicas running.
	// escKillInStep: a replica dies inside an escalation step, after
	// steps 1 and 2 have paged and half the incidents' step 3.
	escKillInStep = 2
	// escReceiverDown: the receiver refuses everything with 503 for a
	// while, then takes the retries.
	escReceiverDown = 3
	// escKillAfterSend: a replica dies after sending pages and before
	// recording that they were sent.
	escKillAfterSend = 4
	// Firing 5 pages with the survivor and the restarted replica.
)

// TestKilledReplicaPagesOnce runs two `nightjar serve` processes on one
// PostgreSQL database, opens incidents through the Events API on both,
// and lets their escalation policy page a webhook receiver step by step,
// round after round, while one replica is killed with SIGKILL twice (and
// started again each time) and the receiver is down for a while.
//
// It asserts from what the receiver got: every page (incident, step,
// round) arrived, and each exactly once, counted by raw deliveries, by
// Idempotency-Key header and by what the payload says; the receiver drops
// nothing. (What it refused with 503 while down was not delivered, and is
// counted apart.) The one exception is the kill after sending
// (escKillAfterSend): a page whose webhook was sent by a replica that died
// before it recorded the answer is sent again, with the same
// Idempotency-Key, by the survivor once its lease runs out. That is the
// outbox's contract, at least once with a key to drop the repeat, and the
// test asserts exactly that: those pages arrive twice with one key, and
// no other page does.
//
// The kill inside an escalation step (escKillInStep) is strict: the
// killed replica had decided on a page and written it, uncommitted, and
// the database rolls that back; the survivor pages the step once.
//
// Steps are at least a minute apart, so the test moves time for the
// escalation rather than waiting: between steps it moves every open
// incident's escalation start and next look back by one step delay, in
// the database, as that delay passing would. The replicas' escalation
// modules then find the next step due, on their own, at their next tick.
// The same goes for the 2-minute lease of the pages a killed replica was
// sending: the test ends those leases, as 2 minutes would.
func TestKilledReplicaPagesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills real servers; skipped with -short")
	}
	dsn := storetest.PostgresURL(t) // skips when no PostgreSQL is configured
	bin := buildNightjar(t)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	r := &escRun{t: t, bin: bin, dsn: dsn, raw: raw, rcv: newPageReceiver(t),
		apiKey: "killtest-" + serverproc.RandomHex(12), logDir: t.TempDir()}
	started := time.Now()

	// The configuration: a service whose team's policy pages one webhook
	// channel per step, and never groups alerts, so each is an incident.
	var y strings.Builder
	y.WriteString("projects:\n  - name: Default\n    channels:\n")
	for s := 1; s <= escSteps; s++ {
		fmt.Fprintf(&y, "      - {name: step-%d, kind: webhook, url: %q}\n", s, fmt.Sprintf("%s/step-%d", r.rcv.srv.URL, s))
	}
	fmt.Fprintf(&y, "    escalation_policies:\n      - name: relay\n        repeat: %d\n        steps:\n", escRepeat)
	for s := 1; s <= escSteps; s++ {
		fmt.Fprintf(&y, "          - {delay: %s, targets: [{kind: channel, id: step-%d}]}\n", escStepDelay, s)
	}
	y.WriteString("    teams:\n      - {name: ops, members: [], policy: relay}\n")
	y.WriteString("    services:\n      - {name: checkout, team: ops, group_window: 0}\n")
	file := filepath.Join(t.TempDir(), "nightjar.yaml")
	if err := os.WriteFile(file, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	apply := exec.Command(bin, "apply", "-f", file, "--database-url", dsn)
	apply.Env = serverproc.Env("NIGHTJAR_ALLOW_PRIVATE_NETWORKS=true")
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("nightjar apply: %v\n%s", err, out)
	}

	survivor := r.start("nightjar-survivor")
	r.victim = r.start(victimName)
	api := &client{t: t, base: survivor.Base, key: r.apiKey, http: newHTTPClient(4)}
	var ik struct {
		Key string `json:"key"`
	}
	api.mustDo(http.MethodPost, "/api/v1/integration-keys", map[string]any{"name": "killtest", "service": "checkout"}, &ik)

	// Incidents open through both replicas; each pages step 1 at once.
	for i := range escIncidents {
		api.base = []string{survivor.Base, r.victim.Base}[i%2]
		api.mustDo(http.MethodPost, "/api/v1/events/v2/enqueue", map[string]any{
			"routing_key": ik.Key, "event_action": "trigger", "dedup_key": fmt.Sprintf("db-%02d", i),
			"payload": map[string]any{"summary": fmt.Sprintf("db-%02d is down", i), "source": fmt.Sprintf("db-%02d", i), "severity": "critical"},
		}, nil)
	}
	r.waitFiring(0)

	for n := 1; n < escFirings; n++ {
		switch n {
		case escKillInStep:
			r.killInStep(n)
		case escReceiverDown:
			r.receiverDown(n)
		case escKillAfterSend:
			r.killAfterSend(n, survivor)
		default:
			advanceEscalation(t, raw, 0, escIncidents)
		}
		r.waitFiring(n)
	}
	r.check(time.Since(started))
}

// escRun is the state of one TestKilledReplicaPagesOnce.
type escRun struct {
	t      *testing.T
	bin    string
	dsn    string
	raw    *sql.DB // the test's own connections to the database
	rcv    *pageReceiver
	apiKey string
	logDir string
	// victim is the replica that is killed, and started again.
	victim *serverproc.Proc
	// killedIn is the statement the victim was in when killed inside a
	// step; pagesAtKill how many pages had arrived then.
	killedIn    string
	pagesAtKill int
	// resent are the keys of the pages whose sending was cut by the
	// second kill, which the survivor sends again.
	resent map[string]bool
}

// victimName is the killed replica's name in pg_stat_activity.
const victimName = "nightjar-victim"

// start starts a replica named name in pg_stat_activity.
func (r *escRun) start(name string) *serverproc.Proc {
	u, err := url.Parse(r.dsn)
	if err != nil {
		r.t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return startServer(r.t, r.bin, backend{databaseURL: u.String()}, r.apiKey, r.logDir, "NIGHTJAR_ALLOW_PRIVATE_NETWORKS=true")
}

// pending counts the messages not yet delivered.
func (r *escRun) pending() int {
	var n int
	if err := r.raw.QueryRow(`SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// killInStep kills the victim inside firing n: half the incidents page
// with both replicas running; the other half comes due while the test
// holds the outbox table locked, so each replica's escalation stops at
// writing a page, inside its transaction. The victim is killed there,
// the lock let go, and the victim started again.
func (r *escRun) killInStep(n int) {
	t := r.t
	advanceEscalation(t, r.raw, 0, escIncidents/2)
	// Delivered, and recorded as sent: the victim has nothing in flight
	// to be cut by the kill.
	waitCount(t, "the first half of the step's pages", func() (int, int) {
		if r.pending() > 0 {
			return 0, escIncidents / 2
		}
		return r.rcv.pageCount(func(p page) bool { return p.firing() == n }), escIncidents / 2
	})
	lock, err := r.raw.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`LOCK TABLE outbox IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	advanceEscalation(t, r.raw, escIncidents/2, escIncidents)
	waitCount(t, "the victim's escalation stopped at writing a page", func() (int, int) {
		err := r.raw.QueryRow(`SELECT query FROM pg_stat_activity WHERE application_name = $1
			AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO outbox%' LIMIT 1`, victimName).Scan(&r.killedIn)
		if err != nil && err != sql.ErrNoRows {
			t.Fatal(err)
		}
		return min(len(r.killedIn), 1), 1
	})
	r.pagesAtKill = r.rcv.pageCount(func(page) bool { return true })
	if err := r.victim.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	r.waitFiring(n)
	r.victim = r.start(victimName)
}

// receiverDown has the receiver answer 503 until every page of firing n
// has been refused once, then take them.
func (r *escRun) receiverDown(n int) {
	r.rcv.setDown(true)
	advanceEscalation(r.t, r.raw, 0, escIncidents)
	waitCount(r.t, "pages refused while the receiver is down", func() (int, int) {
		return r.rcv.refusedCount(), escIncidents
	})
	r.rcv.setDown(false)
}

// killAfterSend kills the victim while the receiver holds the pages it
// sent, unanswered: the survivor is paused (SIGSTOP), so that the victim
// alone pages firing n and starts sending; once every message it claimed
// has reached the receiver, it is killed. The survivor goes on, sends the
// rest, and, once the cut messages' leases end, those again.
func (r *escRun) killAfterSend(n int, survivor *serverproc.Proc) {
	t := r.t
	if err := syscall.Kill(survivor.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	paused := true
	defer func() {
		if paused {
			_ = syscall.Kill(survivor.Pid(), syscall.SIGCONT)
		}
	}()
	r.rcv.setHold(true)
	advanceEscalation(t, r.raw, 0, escIncidents)
	// Every incident has paged, and the victim has claimed as many of
	// the step's messages as one destination may have in flight, all of
	// them held at the receiver: it can claim no more, so every message
	// it holds a lease on is one whose sending the kill cuts.
	waitCount(t, "pages held at the receiver", func() (int, int) {
		var fired, leased int
		if err := r.raw.QueryRow(`SELECT (SELECT COUNT(*) FROM incidents WHERE esc_fired > $1),
			(SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND leased_until > $2)`, n, time.Now().UnixMilli()).Scan(&fired, &leased); err != nil {
			t.Fatal(err)
		}
		held := r.rcv.heldCount()
		if fired < escIncidents || held != leased {
			return 0, escPerDestination
		}
		return held, escPerDestination
	})
	if err := r.victim.Kill(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The receiver sees the victim's connections go: every held request
	// is cut.
	var cut []string
	waitCount(t, "held requests cut by the kill", func() (int, int) {
		cut = r.rcv.cutKeys()
		return len(cut), escPerDestination
	})
	r.rcv.setHold(false)
	if err := syscall.Kill(survivor.Pid(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	paused = false
	// The cut messages' leases end now, as they would 2 minutes on.
	res, err := r.raw.Exec(`UPDATE outbox SET leased_until = $1 WHERE status = 'pending' AND leased_until > $1
		AND idempotency_key IN (`+store.Placeholders(2, len(cut))+`)`, append([]any{time.Now().UnixMilli()}, anys(cut)...)...)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := res.RowsAffected(); err != nil || int(m) != len(cut) {
		t.Fatalf("ended the leases of %d messages (%v), want the %d cut ones", m, err, len(cut))
	}
	r.resent = map[string]bool{}
	for _, k := range cut {
		r.resent[k] = true
	}
	r.waitFiring(n)
	r.victim = r.start(victimName)
}

// check asserts what the receiver got, and what the outbox says.
func (r *escRun) check(took time.Duration) {
	t := r.t
	got := r.rcv.deliveries()
	byPage, byKey := map[page]int{}, map[string]int{}
	keyOf := map[page]string{}
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
		if k, ok := keyOf[p]; ok && k != d.key {
			t.Errorf("%s came with two keys: %q and %q", p, k, d.key)
		}
		keyOf[p] = d.key
	}
	var missing, wrong []string
	for num := int64(1); num <= escIncidents; num++ {
		for f := range escFirings {
			p := page{number: num, step: f%escSteps + 1, round: f/escSteps + 1}
			want := 1
			if r.resent[keyOf[p]] {
				want = 2
			}
			switch n := byPage[p]; {
			case n == 0:
				missing = append(missing, p.String())
			case n != want:
				wrong = append(wrong, fmt.Sprintf("%s ×%d (want %d)", p, n, want))
			}
			delete(byPage, p)
		}
	}
	for p, n := range byPage {
		wrong = append(wrong, fmt.Sprintf("unexpected %s ×%d", p, n))
	}
	sort.Strings(missing)
	sort.Strings(wrong)
	if len(missing) > 0 {
		t.Errorf("%d pages never arrived: %v", len(missing), missing)
	}
	if len(wrong) > 0 {
		t.Errorf("pages that arrived too often, or were not expected: %v", wrong)
	}
	want := escIncidents * escFirings
	repeated := 0
	for k, n := range byKey {
		if n > 1 && !r.resent[k] {
			repeated++
		}
	}
	if len(byKey) != want || repeated > 0 {
		t.Errorf("%d idempotency keys among the pages, %d of them (not cut by the kill) on more than one delivery; want %d keys, each once",
			len(byKey), repeated, want)
	}
	if len(r.resent) == 0 {
		t.Error("no page was cut by the kill after sending; that part proves nothing")
	}
	var outboxPages, notSent int
	if err := r.raw.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE status <> 'sent') FROM outbox WHERE event = $1`,
		notify.EventIncidentPage).Scan(&outboxPages, &notSent); err != nil {
		t.Fatal(err)
	}
	if outboxPages != want || notSent != 0 {
		t.Errorf("the outbox holds %d pages, %d of them not sent; want %d, all sent", outboxPages, notSent, want)
	}
	t.Logf("first kill in %q with %d pages delivered; %d refused while down; second kill cut %d sends, sent again; "+
		"%d raw deliveries (%d pages, %d other), %d distinct keys, %d outbox pages; took %s",
		firstWords(r.killedIn, 3), r.pagesAtKill, r.rcv.refusedCount(), len(r.resent),
		len(got), len(got)-other, other, len(byKey), outboxPages, took.Round(time.Millisecond))
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
func (r *escRun) waitFiring(n int) {
	t, raw, rcv := r.t, r.raw, r.rcv
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
// records every request and answers 200, unless it is down (503, and the
// request is counted as refused, not recorded) or holding (the request is
// recorded and left unanswered until the hold ends or its sender goes).
type pageReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []delivery
	down    bool
	refused map[string]int // Idempotency-Key → requests refused
	hold    chan struct{}  // closed when the hold ends; nil when not holding
	held    int            // requests waiting for the hold to end
	cut     []string       // keys of held requests whose sender went
}

func newPageReceiver(t *testing.T) *pageReceiver {
	r := &pageReceiver{refused: map[string]int{}}
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
		if r.down {
			r.refused[d.key]++
			r.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.got = append(r.got, d)
		hold := r.hold
		if hold != nil {
			r.held++
		}
		r.mu.Unlock()
		if hold == nil {
			return
		}
		select {
		case <-hold:
			r.mu.Lock()
		case <-req.Context().Done():
			r.mu.Lock()
			r.cut = append(r.cut, d.key)
		}
		r.held--
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	t.Cleanup(func() { r.setHold(false) }) // runs before Close
	return r
}

func (r *pageReceiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

// setHold starts holding requests, or ends the hold and lets the held
// ones be answered.
func (r *pageReceiver) setHold(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case on && r.hold == nil:
		r.hold = make(chan struct{})
	case !on && r.hold != nil:
		close(r.hold)
		r.hold = nil
	}
}

// refusedCount is how many distinct messages were refused while down.
func (r *pageReceiver) refusedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.refused)
}

func (r *pageReceiver) heldCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held
}

func (r *pageReceiver) cutKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.cut...)
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

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// firstWords returns the first n words of s, for a log line.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

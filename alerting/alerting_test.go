package alerting_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/outbox"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a project with channels on a real database.
type fixture struct {
	t        *testing.T
	db       *store.DB
	project  *nightjar.Project
	channels []*nightjar.Channel
}

func newFixture(t *testing.T, db *store.DB, names ...string) *fixture {
	t.Helper()
	return newProjectFixture(t, db, "P", names...)
}

// newProjectFixture is newFixture with a project of the name given.
func newProjectFixture(t *testing.T, db *store.DB, project string, names ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, db: db, project: storetest.NewProject(t, db, project, t0)}
	for i, name := range names {
		ch := &nightjar.Channel{ProjectID: f.project.ID, Kind: nightjar.ChannelWebhook, Name: name,
			Config: nightjar.ChannelConfig{URL: "https://" + name + ".example/hook"}}
		if err := channels.New(db).Create(ctx, ch, t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
		f.channels = append(f.channels, ch)
	}
	return f
}

func (f *fixture) alert(key string, status nightjar.AlertStatus) *nightjar.Alert {
	return &nightjar.Alert{ProjectID: f.project.ID, DedupKey: key, Source: "test", SourceID: key, Service: "svc",
		Severity: nightjar.SeverityPage, Summary: key + " " + string(status), Status: status, StartsAt: t0,
		Details: map[string]string{"reason": "because"}}
}

// handle hands one change to the stage in a transaction of its own.
func (f *fixture) handle(s *alerting.Stage, ch alerting.Change) {
	f.t.Helper()
	if ch.At.IsZero() {
		ch.At = t0
	}
	if err := f.db.WithTx(context.Background(), func(tx *store.Tx) error { return s.Handle(context.Background(), tx, ch) }); err != nil {
		f.t.Fatal(err)
	}
}

// sent lists the messages queued so far, as "event channel-name
// dedup-key".
func (f *fixture) sent() []string {
	f.t.Helper()
	items, err := outbox.New(f.db).ByProject(context.Background(), f.project.ID, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	names := map[string]string{}
	for _, ch := range f.channels {
		names[ch.ID] = ch.Name
	}
	out := []string{}
	for _, it := range items {
		if it.To.Kind != outbox.ToChannel || names[it.To.ID] == "" {
			f.t.Fatalf("a message to %s, not to one of the project's channels", it.To)
		}
		out = append(out, fmt.Sprintf("%s %s %s", it.Event, names[it.To.ID], it.Alert.DedupKey))
	}
	slices.Sort(out) // rows of one change share a creation time
	return out
}

func (f *fixture) alerts(s *alerting.Stage) []*nightjar.Alert {
	f.t.Helper()
	list, err := s.List(context.Background(), f.project.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// One alert per project and dedup key, however often it fires; a resolve
// of an alert that is not firing is dropped unrecorded and untold; events
// are notify's.
func TestHandleDedupsAndDropsStrayResolves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "a", "b")
		s := alerting.New(db)
		firing, resolved := notify.EventAlertFiring, notify.EventAlertResolved

		// A resolve of an alert nobody heard of: nothing.
		f.handle(s, alerting.Change{Alert: f.alert("k", nightjar.AlertResolved)})
		if got := f.alerts(s); len(got) != 0 {
			t.Fatalf("a stray resolve was recorded: %+v", got)
		}
		same(t, "after a stray resolve", f.sent(), nil)

		f.handle(s, alerting.Change{Alert: f.alert("k", nightjar.AlertFiring)})
		f.handle(s, alerting.Change{Alert: f.alert("k", nightjar.AlertFiring), At: t0.Add(time.Hour)}) // a re-alert
		got := f.alerts(s)
		if len(got) != 1 || got[0].Status != nightjar.AlertFiring || got[0].DedupKey != "k" || got[0].Details["reason"] != "because" {
			t.Fatalf("alerts after firing twice: %+v", got)
		}
		same(t, "after firing twice", f.sent(), []string{firing + " a k", firing + " b k", firing + " a k", firing + " b k"})

		resolve := f.alert("k", nightjar.AlertResolved)
		resolve.EndsAt = t0.Add(2 * time.Hour)
		f.handle(s, alerting.Change{Alert: resolve, At: t0.Add(2 * time.Hour)})
		f.handle(s, alerting.Change{Alert: resolve, At: t0.Add(3 * time.Hour)}) // already resolved: dropped
		got = f.alerts(s)
		if len(got) != 1 || got[0].Status != nightjar.AlertResolved || !got[0].EndsAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("alerts after resolving: %+v", got)
		}
		same(t, "after resolving twice", f.sent(), []string{firing + " a k", firing + " b k", firing + " a k", firing + " b k",
			resolved + " a k", resolved + " b k"})

		// Dedup keys are per project: the same key elsewhere is its own alert.
		other := newFixture(t, db, "c")
		a := other.alert("k", nightjar.AlertFiring)
		other.handle(s, alerting.Change{Alert: a})
		if got := other.alerts(s); len(got) != 1 || got[0].Status != nightjar.AlertFiring {
			t.Fatalf("the other project's alerts: %+v", got)
		}
		if got := f.alerts(s); len(got) != 1 || got[0].Status != nightjar.AlertResolved {
			t.Fatalf("the first project's alert changed: %+v", got)
		}
	})
}

// The default route tells the channels the source chose, all the
// project's channels when it chose none, and no channel for an empty
// choice (the alert is still recorded).
func TestDefaultRoute(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "a", "b", "c")
		s := alerting.New(db)
		firing := notify.EventAlertFiring
		f.handle(s, alerting.Change{Alert: f.alert("all", nightjar.AlertFiring)})
		f.handle(s, alerting.Change{Alert: f.alert("chosen", nightjar.AlertFiring), Channels: []string{f.channels[0].ID, f.channels[2].ID}})
		f.handle(s, alerting.Change{Alert: f.alert("none", nightjar.AlertFiring), Channels: []string{}})
		// A channel id of another project is nobody's here.
		other := newFixture(t, db, "x")
		f.handle(s, alerting.Change{Alert: f.alert("foreign", nightjar.AlertFiring), Channels: []string{other.channels[0].ID}})
		same(t, "messages", f.sent(), []string{firing + " a all", firing + " b all", firing + " c all",
			firing + " a chosen", firing + " c chosen"})
		if got := f.alerts(s); len(got) != 4 {
			t.Fatalf("%d alerts recorded, want 4: %+v", len(got), got)
		}
		same(t, "the other project's messages", other.sent(), nil)
	})
}

// serviceRoute sends the alerts of one service to one channel and settles
// them, or (settle false) adds that channel and leaves the rest to the
// routes after it.
type serviceRoute struct {
	service, channelID string
	settle             bool
	asked              *[]string
}

func (r serviceRoute) Route(_ context.Context, _ *store.Tx, rec alerting.Recorded) ([]outbox.Message, bool, error) {
	*r.asked = append(*r.asked, rec.Alert.DedupKey+" was "+string(rec.Was))
	if rec.Alert.Service != r.service {
		return nil, false, nil
	}
	return []outbox.Message{{ProjectID: rec.Alert.ProjectID, To: outbox.Destination{Kind: outbox.ToChannel, ID: r.channelID},
		Event: notify.AlertEvent(rec.Alert.Status), Alert: *rec.Alert}}, r.settle, nil
}

// Routes are asked in order with what the stage recorded; the first that
// settles a change ends the asking, so the default route (last) hears only
// what nobody settled.
func TestRoutesInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, "a", "b", "oncall")
		var asked []string
		s := alerting.New(db,
			serviceRoute{service: "db", channelID: f.channels[2].ID, settle: true, asked: &asked},
			serviceRoute{service: "web", channelID: f.channels[2].ID, settle: false, asked: &asked})
		firing, resolved := notify.EventAlertFiring, notify.EventAlertResolved
		dbAlert := f.alert("db-down", nightjar.AlertFiring)
		dbAlert.Service = "db"
		webAlert := f.alert("web-down", nightjar.AlertFiring)
		webAlert.Service = "web"
		f.handle(s, alerting.Change{Alert: dbAlert})
		f.handle(s, alerting.Change{Alert: webAlert})
		f.handle(s, alerting.Change{Alert: f.alert("other", nightjar.AlertFiring), Channels: []string{f.channels[0].ID}})
		dbResolved := f.alert("db-down", nightjar.AlertResolved)
		dbResolved.Service = "db"
		f.handle(s, alerting.Change{Alert: dbResolved})
		same(t, "messages", f.sent(), []string{
			firing + " oncall db-down", // settled by the first route
			firing + " oncall web-down", firing + " a web-down", firing + " b web-down", firing + " oncall web-down",
			firing + " a other",
			resolved + " oncall db-down",
		})
		want := []string{"db-down was ", "web-down was ", "web-down was ", "other was ", "other was ", "db-down was firing"}
		if !slices.Equal(asked, want) {
			t.Fatalf("routes asked %q, want %q", asked, want)
		}
	})
}

// failingRoute fails every change.
type failingRoute struct{}

func (failingRoute) Route(context.Context, *store.Tx, alerting.Recorded) ([]outbox.Message, bool, error) {
	return nil, false, errors.New("no route today")
}

// An alert change commits with the transaction it was handed in, or not
// at all: the alert and its messages go when the transaction rolls back,
// and a route's failure fails the transaction.
func TestHandleIsTransactional(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "a")
		s := alerting.New(db)
		rollback := errors.New("the state change failed")
		err := db.WithTx(ctx, func(tx *store.Tx) error {
			if err := s.Handle(ctx, tx, alerting.Change{Alert: f.alert("k", nightjar.AlertFiring), At: t0}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("transaction: %v", err)
		}
		if got := f.alerts(s); len(got) != 0 {
			t.Fatalf("a rolled-back alert was kept: %+v", got)
		}
		same(t, "messages after the rollback", f.sent(), nil)

		broken := alerting.New(db, failingRoute{})
		err = db.WithTx(ctx, func(tx *store.Tx) error {
			return broken.Handle(ctx, tx, alerting.Change{Alert: f.alert("k", nightjar.AlertFiring), At: t0})
		})
		if err == nil || !strings.Contains(err.Error(), "no route today") {
			t.Fatalf("a failing route: %v", err)
		}
		if got := f.alerts(s); len(got) != 0 {
			t.Fatalf("an alert whose routing failed was kept: %+v", got)
		}
	})
}

// Resolve ends a firing alert whose source went away, telling the same
// channels, and leaves alone one that is not firing or does not exist.
func TestResolve(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "a", "b")
		s := alerting.New(db)
		f.handle(s, alerting.Change{Alert: f.alert("k", nightjar.AlertFiring), Channels: []string{f.channels[1].ID}})
		resolve := func(key string) {
			t.Helper()
			if err := db.WithTx(ctx, func(tx *store.Tx) error {
				return s.Resolve(ctx, tx, f.project.ID, key, []string{f.channels[1].ID}, t0.Add(time.Hour))
			}); err != nil {
				t.Fatal(err)
			}
		}
		resolve("k")
		resolve("k")
		resolve("never-fired")
		got := f.alerts(s)
		if len(got) != 1 || got[0].Status != nightjar.AlertResolved || got[0].Summary != "Resolved: k firing" || !got[0].EndsAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("alerts: %+v", got)
		}
		same(t, "messages", f.sent(), []string{notify.EventAlertFiring + " b k", notify.EventAlertResolved + " b k"})
	})
}

// List shows firing alerts first, then the newest.
func TestList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		s := alerting.New(db)
		for i, key := range []string{"old", "new", "gone"} {
			a := f.alert(key, nightjar.AlertFiring)
			a.StartsAt = t0.Add(time.Duration(i) * time.Hour)
			f.handle(s, alerting.Change{Alert: a})
		}
		gone := f.alert("gone", nightjar.AlertResolved)
		gone.StartsAt = t0.Add(2 * time.Hour)
		f.handle(s, alerting.Change{Alert: gone})
		var keys []string
		for _, a := range f.alerts(s) {
			keys = append(keys, a.DedupKey+" "+string(a.Status))
		}
		if want := []string{"new firing", "old firing", "gone resolved"}; !slices.Equal(keys, want) {
			t.Fatalf("alerts %q, want %q", keys, want)
		}
	})
}

// ackRoute records the acknowledgements the stage tells it of, as the
// incident route acknowledges an incident.
type ackRoute struct{ acked *[]string }

func (ackRoute) Route(context.Context, *store.Tx, alerting.Recorded) ([]outbox.Message, bool, error) {
	return nil, false, nil
}

func (r ackRoute) Acknowledge(_ context.Context, _ *store.Tx, a *nightjar.Alert) error {
	*r.acked = append(*r.acked, a.DedupKey+" at "+a.AcknowledgedAt.Format(time.TimeOnly))
	return nil
}

// A resent firing alert (an external system repeating itself) is recorded
// with what it says now, labels and links included, but routed to nobody;
// a check's re-alert is not resent and is routed. An acknowledgement of a
// firing alert is recorded and told to the Acknowledger routes once; one
// of an alert not firing changes nothing; a new firing after a resolve
// starts unacknowledged.
func TestResentAndAcknowledged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, "a")
		var acked []string
		s := alerting.New(db, ackRoute{acked: &acked})
		firing, resolved := notify.EventAlertFiring, notify.EventAlertResolved
		ack := func(key string, at time.Time) bool {
			t.Helper()
			var ok bool
			if err := db.WithTx(ctx, func(tx *store.Tx) error {
				var err error
				ok, err = s.Acknowledge(ctx, tx, f.project.ID, key, at)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return ok
		}

		a := f.alert("ext", nightjar.AlertFiring)
		a.Labels = map[string]string{"team": "db"}
		f.handle(s, alerting.Change{Alert: a, Resent: true})
		again := f.alert("ext", nightjar.AlertFiring)
		again.Summary = "ext still firing"
		again.Labels = map[string]string{"team": "db", "zone": "b"}
		again.Links = []nightjar.Link{{Href: "https://runbook.example/ext", Text: "Runbook"}}
		f.handle(s, alerting.Change{Alert: again, Resent: true, At: t0.Add(time.Minute)})
		f.handle(s, alerting.Change{Alert: f.alert("check", nightjar.AlertFiring)})
		f.handle(s, alerting.Change{Alert: f.alert("check", nightjar.AlertFiring), At: t0.Add(time.Minute)})
		same(t, "messages", f.sent(), []string{firing + " a ext", firing + " a check", firing + " a check"})
		got, err := s.Get(ctx, f.project.ID, "ext")
		if err != nil {
			t.Fatal(err)
		}
		if got.Summary != "ext still firing" || got.Labels["zone"] != "b" || !slices.Equal(got.Links, again.Links) || !got.AcknowledgedAt.IsZero() {
			t.Fatalf("resent alert: %+v", got)
		}

		if ack("nobody", t0) || len(acked) != 0 {
			t.Fatalf("an unknown alert was acknowledged: %q", acked)
		}
		if !ack("ext", t0.Add(2*time.Minute)) || ack("ext", t0.Add(3*time.Minute)) {
			t.Fatal("the first acknowledgement must count, and only it")
		}
		if got, _ := s.Get(ctx, f.project.ID, "ext"); !got.AcknowledgedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("acknowledged at %v", got.AcknowledgedAt)
		}
		if want := []string{"ext at 12:02:00"}; !slices.Equal(acked, want) {
			t.Fatalf("routes told %q, want %q", acked, want)
		}

		// Still firing and acknowledged, resent unchanged: the alert is not
		// written again (its last change stays the acknowledgement's), and
		// the acknowledgement stays.
		f.handle(s, alerting.Change{Alert: again, Resent: true, At: t0.Add(4 * time.Minute)})
		if got, _ := s.Get(ctx, f.project.ID, "ext"); got.AcknowledgedAt.IsZero() {
			t.Fatal("a resend cleared the acknowledgement")
		}
		var updated int64
		if err := db.QueryRow(ctx, `SELECT updated_at FROM alerts WHERE project_id = $1 AND dedup_key = 'ext'`, f.project.ID).Scan(&updated); err != nil {
			t.Fatal(err)
		}
		if !store.Time(updated).Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("an unchanged resend was written: updated at %v", store.Time(updated))
		}
		f.handle(s, alerting.Change{Alert: f.alert("ext", nightjar.AlertResolved), Resent: true, At: t0.Add(5 * time.Minute)})
		if ack("ext", t0.Add(6*time.Minute)) {
			t.Fatal("a resolved alert was acknowledged")
		}
		f.handle(s, alerting.Change{Alert: f.alert("ext", nightjar.AlertFiring), Resent: true, At: t0.Add(7 * time.Minute)})
		if got, _ := s.Get(ctx, f.project.ID, "ext"); !got.AcknowledgedAt.IsZero() || got.Status != nightjar.AlertFiring {
			t.Fatalf("a new firing kept the old acknowledgement: %+v", got)
		}
		same(t, "messages at the end", f.sent(), []string{firing + " a ext", firing + " a check", firing + " a check",
			resolved + " a ext", firing + " a ext"})
	})
}

// HandleAll, which reads all its alerts' rows with one query, records and
// tells exactly what Handle does for each change in turn, also when one
// alert changes several times in the list.
func TestHandleAllIsHandleInTurn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := alerting.New(db)
		firing, resolved := nightjar.AlertFiring, nightjar.AlertResolved
		// What each project's alerts have been before: "old" fires, "gone"
		// fired and resolved.
		before := []struct {
			key    string
			status nightjar.AlertStatus
		}{{"old", firing}, {"gone", firing}, {"gone", resolved}}
		steps := []struct {
			key     string
			status  nightjar.AlertStatus
			summary string
			resent  bool
		}{
			{"new", firing, "", true},
			{"stray", resolved, "", true},    // not firing: dropped
			{"old", firing, "", true},        // says nothing new
			{"old", firing, "changed", true}, // recorded, told nobody
			{"old", resolved, "", true},      // resolves
			{"new", firing, "", true},        // fires already, in this very list
			{"gone", firing, "", true},       // fires again: a new episode
			{"new", resolved, "", false},     // resolves what this list fired
			{"new", firing, "again", false},  // and fires it again
			{"stray", resolved, "", false},   // still not firing
			{"old", firing, "back", true},    // fires again after its resolve above
		}
		changes := func(f *fixture) []alerting.Change {
			var out []alerting.Change
			for _, st := range steps {
				a := f.alert(st.key, st.status)
				if st.summary != "" {
					a.Summary = st.summary
				}
				out = append(out, alerting.Change{Alert: a, At: t0.Add(time.Minute), Resent: st.resent})
			}
			return out
		}
		state := func(f *fixture) []string {
			var out []string
			for _, a := range f.alerts(s) {
				out = append(out, fmt.Sprintf("%s %s %q", a.DedupKey, a.Status, a.Summary))
			}
			slices.Sort(out)
			return out
		}

		one, all := newProjectFixture(t, db, "one", "a"), newProjectFixture(t, db, "all", "a")
		for _, f := range []*fixture{one, all} {
			for _, b := range before {
				f.handle(s, alerting.Change{Alert: f.alert(b.key, b.status)})
			}
		}
		for _, ch := range changes(one) {
			one.handle(s, ch)
		}
		if err := db.WithTx(context.Background(), func(tx *store.Tx) error {
			return s.HandleAll(context.Background(), tx, changes(all))
		}); err != nil {
			t.Fatal(err)
		}
		same(t, "alerts recorded by HandleAll", state(all), state(one))
		same(t, "messages queued by HandleAll", all.sent(), one.sent())
		if len(one.sent()) < 6 {
			t.Fatalf("the steps told too little to compare: %q", one.sent())
		}
	})
}

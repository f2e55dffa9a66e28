package incident_test

import (
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// The db policy of newWorld: alice at once, whoever is on call for
// "primary" (bob) five minutes later, carol and channel ops ten minutes
// after that.

func TestEscalation(t *testing.T) {
	runTimelines(t, []timeline{
		{
			name: "paged, escalated to the schedule, acknowledged: nothing more is sent",
			steps: []step{
				{at: 0, what: "the alert fires", do: fire("check:c1"),
					sent: []string{"#1 page step 1: alice"}, states: "#1 triggered",
					more: entry(1, incident.EntryTriggered, "Opened with page urgency by alert: Alert check:c1")},
				{at: 5*m - s, what: "a second before step 2", do: nothing},
				{at: 5 * m, what: "step 2 pages whoever is on call for primary", do: nothing,
					sent: []string{"#1 page step 2: bob"}, more: entry(1, incident.EntryPaged, "Paged bob at step 2")},
				{at: 6 * m, what: "bob acknowledges", do: ack(1, "bob"),
					sent: []string{"#1 acknowledged: alice"}, states: "#1 acknowledged",
					more: entry(1, incident.EntryAcknowledged, "Acknowledged by bob")},
				{at: 15 * m, what: "step 3 would have been due", do: nothing},
				{at: 3 * h, what: "hours later", do: nothing, states: "#1 acknowledged"},
				{at: 3*h + m, what: "bob resolves", do: resolve(1, "bob"),
					sent: []string{"#1 resolved: alice"}, states: "#1 resolved"},
				{at: 3*h + 2*m, what: "the alert resolves", do: resolves("check:c1"), states: "#1 resolved",
					more: entry(1, incident.EntryAlertResolved, "Alert resolved")},
			},
		},
		{
			name:  "nobody acknowledges: the policy runs its rounds and stops",
			setup: func(w *world) { w.policies["db"].Repeat = 1 },
			steps: []step{
				{at: 0, what: "fires", do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: 5 * m, do: nothing, sent: []string{"#1 page step 2: bob"}},
				{at: 15 * m, do: nothing, sent: []string{"#1 page step 3: carol, channel ops"}},
				{at: 25 * m, do: nothing, sent: []string{"#1 page step 1 round 2: alice"}},
				{at: 30 * m, do: nothing, sent: []string{"#1 page step 2 round 2: bob"}},
				{at: 40 * m, do: nothing, sent: []string{"#1 page step 3 round 2: carol, channel ops"},
					more: entry(1, incident.EntryPolicyExhausted, "Every step of policy db has been paged")},
				{at: 2 * h, what: "nothing after the last round", do: nothing, states: "#1 triggered"},
				{at: 2*h + m, what: "escalating past the end", do: escalate(1, "alice"), err: "has been through every step"},
				{at: 2*h + 2*m, what: "an acknowledgement tells everyone paged", do: ack(1, "carol"),
					sent: []string{"#1 acknowledged: alice, bob, channel ops"}},
			},
		},
		{
			name:  "an engine that ran late sends every due step at once, each person once",
			setup: func(w *world) { w.policies["db"].Repeat = 1 },
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: 31 * m, what: "the first tick in half an hour", do: nothing, sent: []string{
					"#1 page step 2: bob",
					"#1 page step 3: carol, channel ops",
					"#1 page step 1 round 2: alice",
				}},
				{at: 40 * m, what: "step 3 of round 2 keeps its time", do: nothing,
					sent: []string{"#1 page step 3 round 2: carol, channel ops"}},
			},
		},
		{
			name: "the schedule is asked at the moment of the page",
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: 3 * m, what: "dave takes over primary", do: onCall("primary", "dave", "erin")},
				{at: 5 * m, do: nothing, sent: []string{"#1 page step 2: dave, erin"}},
			},
		},
		{
			name: "a schedule with nobody on call is recorded, and the policy goes on",
			steps: []step{
				{at: 0, do: both(onCall("primary"), fire("check:c1")), sent: []string{"#1 page step 1: alice"}},
				{at: 5 * m, do: nothing,
					more: entry(1, incident.EntryNobodyPaged, "Nobody was paged at step 2: nobody on call for schedule primary")},
				{at: 15 * m, do: nothing, sent: []string{"#1 page step 3: carol, channel ops"}},
			},
		},
		{
			name: "escalating by hand pages the next step now; later steps keep their delays from now",
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: 2 * m, what: "alice escalates", do: escalate(1, "alice"), sent: []string{"#1 page step 2: bob"},
					more: entry(1, incident.EntryEscalated, "Escalated by alice")},
				{at: 5 * m, what: "step 2's old time", do: nothing},
				{at: 12*m - s, do: nothing},
				{at: 12 * m, do: nothing, sent: []string{"#1 page step 3: carol, channel ops"}},
			},
		},
		{
			name: "escalating an acknowledged incident triggers it again",
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: m, what: "alice acknowledges: nobody else to tell", do: ack(1, "alice"), states: "#1 acknowledged"},
				{at: 3 * m, what: "alice needs help", do: escalate(1, "alice"),
					sent: []string{"#1 page step 2: bob"}, states: "#1 triggered"},
				{at: 13 * m, do: nothing, sent: []string{"#1 page step 3: carol, channel ops"}},
			},
		},
		{
			name: "transitions that are not allowed are refused and change nothing",
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: m, do: ack(1, "bob"), sent: []string{"#1 acknowledged: alice"}},
				{at: 2 * m, what: "acknowledged twice", do: ack(1, "carol"), err: "only a triggered incident can be acknowledged",
					states: "#1 acknowledged"},
				{at: 3 * m, what: "resolved from acknowledged", do: resolve(1, "carol"),
					sent: []string{"#1 resolved: alice"}, states: "#1 resolved"},
				{at: 4 * m, do: resolve(1, "carol"), err: "already resolved"},
				{at: 5 * m, do: ack(1, "carol"), err: "only a triggered incident"},
				{at: 6 * m, do: escalate(1, "carol"), err: "resolved incidents are not escalated", states: "#1 resolved"},
			},
		},
		{
			name:  "an incident without a policy records that nobody was told",
			setup: func(w *world) { w.fallback = "" },
			steps: []step{
				{at: 0, do: fire("check:c1"), states: "#1 triggered",
					more: entry(1, incident.EntryNobodyPaged, "no escalation policy")},
				{at: m, do: escalate(1, "alice"), err: "no escalation policy"},
				{at: 2 * m, do: resolve(1, "alice"), states: "#1 resolved"},
			},
		},
	})
}

func TestGrouping(t *testing.T) {
	runTimelines(t, []timeline{
		{
			name: "a service's alerts join its incident within the window; duplicates change nothing; all resolved resolves it",
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: m, do: ack(1, "alice")},
				{at: 2 * m, what: "a second db alert joins", do: fire("check:c2"),
					more: all(entry(1, incident.EntryAlertJoined, "Alert joined: Alert check:c2"), alerts(1, "check:c1:firing", "check:c2:firing"))},
				{at: 3 * m, what: "the first fires again: a duplicate", do: fire("check:c1"),
					more: alerts(1, "check:c1:firing", "check:c2:firing")},
				{at: 9 * m, what: "another service opens its own", do: fire("check:w1", service("web")),
					sent: []string{"#2 page step 1: alice"}, states: "#1 acknowledged, #2 triggered"},
				{at: 10 * m, what: "the window's last instant", do: fire("check:c3"),
					more: alerts(1, "check:c1:firing", "check:c2:firing", "check:c3:firing")},
				{at: 10*m + s, what: "past the window", do: fire("check:c4"),
					sent: []string{"#3 page step 1: alice"}, states: "#1 acknowledged, #2 triggered, #3 triggered"},
				{at: 11 * m, do: ack(2, "alice")},
				{at: 12 * m, do: ack(3, "alice")},
				{at: 20 * m, do: resolves("check:c1"), states: "#1 acknowledged, #2 acknowledged, #3 acknowledged",
					more: alerts(1, "check:c1:resolved", "check:c2:firing", "check:c3:firing")},
				{at: 21 * m, do: resolves("check:c2")},
				{at: 22 * m, what: "the last alert resolves", do: resolves("check:c3"),
					sent: []string{"#1 resolved: alice"}, states: "#1 resolved, #2 acknowledged, #3 acknowledged",
					more: entry(1, incident.EntryResolved, "Resolved automatically: all its alerts resolved")},
				{at: 23 * m, what: "resolving an unknown alert", do: resolves("check:nope")},
				{at: 24 * m, what: "resolving it again", do: resolves("check:c3")},
			},
		},
		{
			name:  "without automatic resolution a person must resolve",
			setup: func(w *world) { w.cfg.AutoResolve = false },
			steps: []step{
				{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
				{at: m, do: resolves("check:c1"), states: "#1 triggered", more: alerts(1, "check:c1:resolved")},
				{at: 5 * m, what: "escalation goes on", do: nothing, sent: []string{"#1 page step 2: bob"}},
			},
		},
		{
			name:  "a window of zero never groups",
			setup: func(w *world) { w.cfg.GroupWindow = 0 },
			steps: []step{
				{at: 0, do: both(fire("check:c1"), fire("check:c2")),
					sent: []string{"#1 page step 1: alice", "#2 page step 1: alice"}},
				{at: m, do: both(ack(1, "alice"), ack(2, "alice"), resolves("check:c1"), resolves("check:c2")),
					sent: []string{"#1 resolved: alice", "#2 resolved: alice"}},
				{at: 2 * m, what: "no re-trigger either", do: fire("check:c1"), sent: []string{"#3 page step 1: alice"}},
			},
		},
	})
}

func TestRetrigger(t *testing.T) {
	w := newWorld(t)
	w.run([]step{
		{at: 0, do: fire("check:c1"), sent: []string{"#1 page step 1: alice"}},
		{at: m, do: ack(1, "alice")},
		{at: 20 * m, what: "resolves by itself", do: resolves("check:c1"),
			sent: []string{"#1 resolved: alice"}, states: "#1 resolved"},
		{at: 22 * m, what: "another db alert does not re-open it", do: fire("check:c2"),
			sent: []string{"#2 page step 1: alice"}, states: "#1 resolved, #2 triggered"},
		{at: 23 * m, do: both(ack(2, "alice"), resolves("check:c2")), sent: []string{"#2 resolved: alice"}},
		{at: 25 * m, what: "its own alert fires again within the window", do: fire("check:c1"),
			sent: []string{"#1 page step 1: alice"}, states: "#1 triggered, #2 resolved",
			more: all(entry(1, incident.EntryRetriggered, "Triggered again"), alerts(1, "check:c1:firing"))},
		{at: 30 * m, what: "the policy starts over", do: nothing, sent: []string{"#1 page step 2: bob"}},
		{at: 31 * m, what: "resolved by hand while the alert still fires", do: resolve(1, "bob"),
			sent: []string{"#1 resolved: alice"}},
		{at: 35 * m, what: "the alert still firing is no news", do: fire("check:c1"), states: "#1 resolved, #2 resolved"},
		{at: 36 * m, do: resolves("check:c1"), more: alerts(1, "check:c1:resolved")},
		{at: 46 * m, what: "fires again at the window's last instant after the alert resolved", do: fire("check:c1"),
			sent: []string{"#1 page step 1: alice"}, states: "#1 triggered, #2 resolved"},
		{at: 47 * m, what: "everyone woken for the incident so far hears", do: both(ack(1, "alice"), resolves("check:c1")),
			sent: []string{"#1 acknowledged: bob", "#1 resolved: alice, bob"}, states: "#1 resolved, #2 resolved"},
		{at: 57*m + s, what: "past the window it opens a new incident", do: fire("check:c1"),
			sent: []string{"#3 page step 1: alice"}, states: "#1 resolved, #2 resolved, #3 triggered"},
	})
}

func TestRoutingAndUrgency(t *testing.T) {
	w := newWorld(t)
	w.routes = []incident.Route{
		{Matchers: mustMatchers(t, `alertname="Watchdog"`), Urgency: nightjar.SeverityInfo},
		{Matchers: mustMatchers(t, `team="web"`), Policy: "web", Urgency: nightjar.SeverityTicket},
		{Matchers: mustMatchers(t, `service="db"`, `severity=~"critical|page"`), Policy: "db"},
	}
	w.policies["web"] = &incident.Policy{
		ID: "web",
		Steps: []incident.Step{{Delay: 30 * m, Targets: []incident.Target{
			{Kind: incident.TargetChannel, ID: "web-chat"}, {Kind: incident.TargetUser, ID: "wendy"}}}},
		// Weekdays 09:00-17:00 in Berlin.
		WorkingHours: []incident.Window{{Schedule: "0 9 * * 1-5", Zone: "Europe/Berlin", Duration: 8 * h}},
	}
	watchdog := []alertOpt{service("monitoring"), label("alertname", "Watchdog"), severity(nightjar.SeverityPage)}
	web := []alertOpt{service("web"), label("team", "web")}
	w.run([]step{
		{at: 0, what: "info records and tells nobody", do: fire("am:watchdog", watchdog...), states: "#1 triggered"},
		{at: m, what: "a ticket in working hours tells the channel, and pages nobody", do: fire("am:web1", web...),
			sent: []string{"#2 ticket: channel web-chat"}},
		{at: 3 * m, what: "a page alert joining a ticket incident raises it and pages", do: fire("check:web2", service("web")),
			sent: []string{"#2 page step 1: wendy, channel web-chat"},
			more: entry(2, incident.EntryUrgencyRaised, "Urgency raised from ticket to page")},
		{at: 4 * m, what: "the info incident's end tells nobody; wendy's acknowledgement tells the channel",
			do:   both(resolves("am:watchdog", watchdog...), ack(2, "wendy")),
			sent: []string{"#2 acknowledged: channel web-chat"}, states: "#1 resolved, #2 acknowledged"},
		// Monday 22:00 UTC is 23:00 in Berlin.
		{at: 12 * h, what: "a ticket at night waits", do: fire("am:shop", service("shop"), label("team", "web")),
			states: "#1 resolved, #2 acknowledged, #3 triggered"},
		{at: 22*h - s, what: "08:59:59 in Berlin", do: nothing},
		{at: 22 * h, what: "09:00 in Berlin", do: nothing, sent: []string{"#3 ticket: channel web-chat"}},
		{at: 23 * h, what: "told once", do: nothing},
	})
	if got := w.incident(1).Urgency; got != nightjar.SeverityInfo {
		t.Errorf("watchdog incident urgency %s", got)
	}
	if got := w.incident(3).Policy; got != "web" {
		t.Errorf("ticket incident policy %q, want web", got)
	}
}

func TestUrgencyRaised(t *testing.T) {
	w := newWorld(t)
	w.fallback = "web"
	w.routes = []incident.Route{
		{Matchers: mustMatchers(t, `alertname="Watchdog"`), Urgency: nightjar.SeverityInfo},
		{Matchers: mustMatchers(t, `team="web"`), Urgency: nightjar.SeverityTicket},
	}
	w.policies["web"] = &incident.Policy{ID: "web", Steps: []incident.Step{{Delay: 30 * m, Targets: []incident.Target{
		{Kind: incident.TargetChannel, ID: "web-chat"}, {Kind: incident.TargetUser, ID: "wendy"}}}}}
	w.run([]step{
		{at: 0, what: "an info incident", do: fire("am:wd", service("web"), label("alertname", "Watchdog"))},
		{at: m, what: "a ticket alert joins: the channel hears", do: fire("am:web1", service("web"), label("team", "web")),
			sent: []string{"#1 ticket: channel web-chat"}, more: entry(1, incident.EntryUrgencyRaised, "from info to ticket")},
		{at: 2 * m, what: "a page alert joins: wendy is paged", do: fire("check:web2", service("web")),
			sent: []string{"#1 page step 1: wendy, channel web-chat"}, more: entry(1, incident.EntryUrgencyRaised, "from ticket to page")},
		{at: 3 * m, what: "a less urgent alert lowers nothing", do: fire("am:web3", service("web"), label("team", "web")),
			more: alerts(1, "am:wd:firing", "am:web1:firing", "check:web2:firing", "am:web3:firing")},
	})
}

func TestSuppression(t *testing.T) {
	w := newWorld(t)
	w.silences = []incident.Silence{{ID: "s1", Matchers: mustMatchers(t, `alertname="DiskFull"`),
		StartsAt: base, EndsAt: base.Add(h), CreatedBy: "alice", Comment: "resizing the disk"}}
	// Every Sunday 02:00-04:00 in Berlin, for the db service.
	w.windows = []incident.Maintenance{{ID: "m1", Name: "db upgrades", Matchers: mustMatchers(t, `service="db"`),
		Window: incident.Window{Schedule: "0 2 * * SUN", Zone: "Europe/Berlin", Duration: 2 * h}}}
	sunday := 5*24*h + 15*h // Sunday 11 January, 01:00 UTC = 02:00 Berlin
	w.run([]step{
		{at: 10 * m, what: "silenced", do: fire("am:disk", label("alertname", "DiskFull")), states: "",
			more: suppressed("am:disk by silence s1")},
		{at: 10 * m, what: "another alert is not", do: fire("am:cpu", label("alertname", "HighCPU")),
			sent: []string{"#1 page step 1: alice"}},
		{at: 11 * m, what: "the silenced alert resolving is heard", do: resolves("am:disk", label("alertname", "DiskFull"))},
		{at: 12 * m, do: ack(1, "alice")},
		{at: h, what: "the silence has ended", do: fire("am:disk", label("alertname", "DiskFull")),
			sent: []string{"#2 page step 1: alice"}},
		{at: h + m, do: ack(2, "alice")},
		{at: sunday - s, what: "01:59:59 in Berlin", do: fire("check:early"), sent: []string{"#3 page step 1: alice"}},
		{at: sunday, do: ack(3, "alice")},
		{at: sunday + 30*m, what: "02:30 in Berlin", do: fire("check:during"), more: suppressed("check:during by maintenance m1")},
		{at: sunday + 30*m, what: "another service is not in maintenance", do: fire("check:web", service("web")),
			sent: []string{"#4 page step 1: alice"}},
		{at: sunday + 31*m, do: ack(4, "alice")},
		{at: sunday + 2*h, what: "04:00 in Berlin: over", do: fire("check:after"),
			sent: []string{"#5 page step 1: alice"}},
	})
}

func mustMatchers(t *testing.T, items ...string) incident.Matchers {
	t.Helper()
	ms, err := incident.ParseMatcherList("matchers", items)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestSuppressedDecision(t *testing.T) {
	disk := newAlert("am:disk", nightjar.AlertFiring, label("alertname", "DiskFull"))
	short := incident.Silence{ID: "short", Matchers: mustMatchers(t, `alertname="DiskFull"`),
		StartsAt: base, EndsAt: base.Add(h), CreatedBy: "alice", Comment: "resizing"}
	long := incident.Silence{ID: "long", Matchers: mustMatchers(t, `alertname=~"Disk.*"`),
		StartsAt: base, EndsAt: base.Add(3 * h), CreatedBy: "bob", Comment: "new disks"}
	maint := incident.Maintenance{ID: "m", Matchers: nil,
		Window: incident.Window{Start: base.Add(-h), End: base.Add(2 * h)}}

	tests := []struct {
		name      string
		at        time.Time
		alert     *nightjar.Alert
		silences  []incident.Silence
		windows   []incident.Maintenance
		wantID    string
		wantUntil time.Time
	}{
		{"nothing", base, disk, nil, nil, "", time.Time{}},
		{"the longest silence wins", base.Add(m), disk, []incident.Silence{short, long}, nil, "long", base.Add(3 * h)},
		{"a maintenance of the whole project outlasts the short silence", base.Add(m), disk, []incident.Silence{short}, []incident.Maintenance{maint}, "m", base.Add(2 * h)},
		{"before the silence starts", base.Add(-s), disk, []incident.Silence{short}, nil, "", time.Time{}},
		{"at the silence's end", base.Add(h), disk, []incident.Silence{short}, nil, "", time.Time{}},
		{"a resolved alert is never suppressed", base.Add(m), newAlert("am:disk", nightjar.AlertResolved, label("alertname", "DiskFull")),
			[]incident.Silence{long}, []incident.Maintenance{maint}, "", time.Time{}},
		{"a silence without matchers mutes nothing", base.Add(m), disk, []incident.Silence{{ID: "empty", StartsAt: base, EndsAt: base.Add(h)}}, nil, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := incident.Suppressed(tt.alert, tt.at, tt.silences, tt.windows)
			if tt.wantID == "" {
				if got != nil {
					t.Fatalf("suppressed by %+v, want nothing", got)
				}
				return
			}
			if got == nil || got.ID != tt.wantID || !got.Until.Equal(tt.wantUntil) || got.Reason == "" {
				t.Fatalf("suppression %+v, want %s until %s", got, tt.wantID, tt.wantUntil)
			}
		})
	}
}

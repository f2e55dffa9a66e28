package incident_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestWindowActive(t *testing.T) {
	nightly := incident.Window{Schedule: "30 2 * * *", Zone: "Europe/Berlin", Duration: h}
	tests := []struct {
		name   string
		w      incident.Window
		at     string
		active bool
		until  string
		next   string
	}{
		{"one-off: before", incident.Window{Start: utc("2026-01-05T10:00:00Z"), End: utc("2026-01-05T12:00:00Z")},
			"2026-01-05T09:59:59Z", false, "", "2026-01-05T10:00:00Z"},
		{"one-off: at the start", incident.Window{Start: utc("2026-01-05T10:00:00Z"), End: utc("2026-01-05T12:00:00Z")},
			"2026-01-05T10:00:00Z", true, "2026-01-05T12:00:00Z", "2026-01-05T10:00:00Z"},
		{"one-off: at the end", incident.Window{Start: utc("2026-01-05T10:00:00Z"), End: utc("2026-01-05T12:00:00Z")},
			"2026-01-05T12:00:00Z", false, "", ""},
		{"nightly: 02:30 CET", nightly, "2026-01-05T01:30:00Z", true, "2026-01-05T02:30:00Z", "2026-01-05T01:30:00Z"},
		{"nightly: 03:30 CET is over", nightly, "2026-01-05T02:30:00Z", false, "", "2026-01-06T01:30:00Z"},
		// Clocks go forward at 02:00 on 29 March 2026: 02:30 does not
		// happen, and the cron daemon runs the job at 03:00 CEST.
		{"spring forward: starts at the change", nightly, "2026-03-29T01:00:00Z", true, "2026-03-29T02:00:00Z", "2026-03-29T01:00:00Z"},
		{"spring forward: not before", nightly, "2026-03-29T00:59:59Z", false, "", "2026-03-29T01:00:00Z"},
		// Clocks go back at 03:00 on 25 October 2026: 02:30 happens twice,
		// the daemon runs once, at the first; the hour is absolute.
		{"fall back: first 02:30", nightly, "2026-10-25T00:30:00Z", true, "2026-10-25T01:30:00Z", "2026-10-25T00:30:00Z"},
		{"fall back: second 02:15 is still the first run's hour", nightly, "2026-10-25T01:15:00Z", true, "2026-10-25T01:30:00Z", "2026-10-25T01:15:00Z"},
		{"fall back: second 02:45 runs no second time", nightly, "2026-10-25T01:45:00Z", false, "", "2026-10-26T01:30:00Z"},
		{"bounded: before its first start", incident.Window{Schedule: "30 2 * * *", Zone: "Europe/Berlin", Duration: h,
			Start: utc("2026-01-06T00:00:00Z")}, "2026-01-05T01:30:00Z", false, "", "2026-01-06T01:30:00Z"},
		{"bounded: cut short at its end", incident.Window{Schedule: "30 2 * * *", Zone: "Europe/Berlin", Duration: h,
			End: utc("2026-01-05T02:00:00Z")}, "2026-01-05T01:45:00Z", true, "2026-01-05T02:00:00Z", "2026-01-05T01:45:00Z"},
		{"bounded: never again after its end", incident.Window{Schedule: "30 2 * * *", Zone: "Europe/Berlin", Duration: h,
			End: utc("2026-01-05T02:00:00Z")}, "2026-01-05T02:00:00Z", false, "", ""},
		{"overlapping instances", incident.Window{Schedule: "*/10 * * * *", Zone: "UTC", Duration: h},
			"2026-01-05T10:05:00Z", true, "2026-01-05T10:10:00Z", "2026-01-05T10:05:00Z"},
		{"an unusable window is never active", incident.Window{Schedule: "not cron", Zone: "UTC", Duration: h},
			"2026-01-05T10:05:00Z", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := utc(tt.at)
			active, until := tt.w.ActiveAt(at)
			if active != tt.active || (tt.until != "" && !until.Equal(utc(tt.until))) || (tt.until == "" && !until.IsZero()) {
				t.Errorf("ActiveAt(%s) = %v until %s, want %v until %q", tt.at, active, until.UTC().Format(time.RFC3339), tt.active, tt.until)
			}
			next := tt.w.NextStart(at)
			if (tt.next == "" && !next.IsZero()) || (tt.next != "" && !next.Equal(utc(tt.next))) {
				t.Errorf("NextStart(%s) = %s, want %q", tt.at, next.UTC().Format(time.RFC3339), tt.next)
			}
		})
	}
}

// wantField checks that err is an invalid-input error naming field, with
// a message that starts with the field and contains text.
func wantField(t *testing.T, what string, err error, field, text string) {
	t.Helper()
	msg := nightjar.ErrorMessage(err)
	if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != field ||
		!strings.HasPrefix(msg, field+": ") || !strings.Contains(msg, text) {
		t.Errorf("%s: error %v, want a field error on %s containing %q", what, err, field, text)
	}
}

// invalid is a change that makes a good definition invalid, and the
// field error it must cause.
type invalid[T any] struct {
	name, field, text string
	change            func(v T)
}

// checkInvalid checks that good() validates and that each case's change
// to it is refused with the case's field error.
func checkInvalid[T interface{ Validate() error }](t *testing.T, good func() T, cases []invalid[T]) {
	t.Helper()
	if err := good().Validate(); err != nil {
		t.Fatalf("good %T: %v", good(), err)
	}
	for _, c := range cases {
		v := good()
		c.change(v)
		wantField(t, fmt.Sprintf("%T: %s", v, c.name), v.Validate(), c.field, c.text)
	}
}

func TestValidate(t *testing.T) {
	goodPolicy := func() *incident.Policy {
		return &incident.Policy{ID: "db", Name: "DB", Steps: []incident.Step{
			{Delay: 5 * m, Targets: []incident.Target{{Kind: incident.TargetUser, ID: "alice"}}},
			{Delay: 5 * m, Targets: []incident.Target{{Kind: incident.TargetSchedule, ID: "primary"}, {Kind: incident.TargetChannel, ID: "ops"}}},
		}, WorkingHours: []incident.Window{{Schedule: "0 9 * * 1-5", Zone: "Europe/Berlin", Duration: 8 * h}}}
	}
	checkInvalid(t, goodPolicy, []invalid[*incident.Policy]{
		{"no steps", "steps", "at least one step", func(p *incident.Policy) { p.Steps = nil }},
		{"short delay", "steps[1].delay", "between 60 and 86400 seconds", func(p *incident.Policy) { p.Steps[1].Delay = 30 * s }},
		{"no targets", "steps[0].targets", "at least one target", func(p *incident.Policy) { p.Steps[0].Targets = nil }},
		{"bad kind", "steps[1].targets[1].kind", "user, schedule or channel", func(p *incident.Policy) { p.Steps[1].Targets[1].Kind = "team" }},
		{"empty id", "steps[0].targets[0].id", "required", func(p *incident.Policy) { p.Steps[0].Targets[0].ID = "" }},
		{"bad id", "steps[0].targets[0].id", "valid UTF-8", func(p *incident.Policy) { p.Steps[0].Targets[0].ID = "a\x00" }},
		{"repeat", "repeat", "between 0 and 9", func(p *incident.Policy) { p.Repeat = 10 }},
		{"name", "name", "at most 100", func(p *incident.Policy) { p.Name = strings.Repeat("n", 101) }},
		{"one-off hours", "working_hours[0].schedule", "must recur", func(p *incident.Policy) {
			p.WorkingHours[0] = incident.Window{Start: base, End: base.Add(h)}
		}},
		{"hours zone", "working_hours[0].zone", "IANA", func(p *incident.Policy) { p.WorkingHours[0].Zone = "Mars/Base" }},
		{"hours schedule", "working_hours[0].schedule", "", func(p *incident.Policy) { p.WorkingHours[0].Schedule = "0 25 * * *" }},
		{"hours duration", "working_hours[0].duration", "between 60", func(p *incident.Policy) { p.WorkingHours[0].Duration = 0 }},
	})

	goodSilence := func() *incident.Silence {
		return &incident.Silence{Matchers: mustMatchers(t, `alertname="DiskFull"`), StartsAt: base, EndsAt: base.Add(h),
			CreatedBy: "alice", Comment: "resizing"}
	}
	checkInvalid(t, goodSilence, []invalid[*incident.Silence]{
		{"no matchers", "matchers", "at least one matcher", func(s *incident.Silence) { s.Matchers = nil }},
		{"matches everything", "matchers", "does not match the empty string", func(s *incident.Silence) {
			s.Matchers = mustMatchers(t, `team=~".*"`, `env!="prod"`)
		}},
		{"ends before it starts", "ends_at", "after starts_at", func(s *incident.Silence) { s.EndsAt = s.StartsAt }},
		{"no end", "ends_at", "start and an end", func(s *incident.Silence) { s.EndsAt = time.Time{} }},
		{"no creator", "created_by", "required", func(s *incident.Silence) { s.CreatedBy = "" }},
		{"no comment", "comment", "required", func(s *incident.Silence) { s.Comment = "" }},
		{"long comment", "comment", "at most 1000", func(s *incident.Silence) { s.Comment = strings.Repeat("é", 1001) }},
	})

	windows := []struct {
		name, field, text string
		w                 incident.Window
	}{
		{"one-off without an end", "window.start", "both start and end", incident.Window{Start: base}},
		{"one-off backwards", "window.end", "after start", incident.Window{Start: base, End: base}},
		{"one-off with a duration", "window.duration", "only a window with a schedule", incident.Window{Start: base, End: base.Add(h), Duration: h}},
		{"recurring without a zone", "window.zone", "IANA", incident.Window{Schedule: "@daily", Duration: h}},
		{"recurring too long", "window.duration", "between 60", incident.Window{Schedule: "@daily", Zone: "UTC", Duration: 32 * 24 * h}},
		{"recurring bad text", "window.schedule", "valid UTF-8", incident.Window{Schedule: "\xff", Zone: "UTC", Duration: h}},
	}
	for _, tt := range windows {
		mw := incident.Maintenance{Window: tt.w}
		wantField(t, "window: "+tt.name, mw.Validate(), tt.field, tt.text)
	}
	if err := (&incident.Maintenance{Name: "Sunday upgrades", Window: incident.Window{Schedule: "0 2 * * SUN", Zone: "Europe/Berlin", Duration: 2 * h}}).Validate(); err != nil {
		t.Errorf("good maintenance: %v", err)
	}

	wantField(t, "service config", incident.ServiceConfig{GroupWindow: 25 * h}.Validate(), "group_window", "between 0 and 86400")
	if err := incident.DefaultServiceConfig().Validate(); err != nil {
		t.Errorf("default service config: %v", err)
	}
	wantField(t, "route urgency", incident.ValidateRoutes([]incident.Route{{}, {Urgency: "urgent"}}), "routes[1].urgency", "page, ticket or info")
	wantField(t, "route policy", incident.ValidateRoutes([]incident.Route{{Policy: "\xff"}}), "routes[0].policy", "valid UTF-8")
	if err := incident.ValidateRoutes([]incident.Route{{Matchers: mustMatchers(t, `a="b"`), Policy: "db", Urgency: nightjar.SeverityTicket}}); err != nil {
		t.Errorf("good routes: %v", err)
	}
}

func TestPolicyDueAfter(t *testing.T) {
	p := &incident.Policy{Repeat: 2, Steps: []incident.Step{{Delay: 5 * m}, {Delay: 10 * m}, {Delay: 15 * m}}}
	want := []time.Duration{0, 5 * m, 15 * m, 30 * m, 35 * m, 45 * m, 60 * m, 65 * m, 75 * m}
	if p.Firings() != len(want) {
		t.Fatalf("Firings() = %d, want %d", p.Firings(), len(want))
	}
	for n, d := range want {
		if got := p.DueAfter(n); got != d {
			t.Errorf("DueAfter(%d) = %s, want %s", n, got, d)
		}
	}
}

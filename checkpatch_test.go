package nightjar_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
)

func ptr[T any](v T) *T { return &v }

var patchNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// projectChannels are the channels a patch resolves references against.
var projectChannels = []*nightjar.Channel{{ID: "ch-ops", Name: "ops"}, {ID: "ch-dev", Name: "dev"}}

// The rules every front door shares are the patch's: name and slug fill
// in for each other, a timeout makes a simple check and a schedule a cron
// or OnCalendar one, a kind chosen in a form switches between them,
// channels resolve by id or name, lists are never absent and durations
// are whole milliseconds.
func TestCheckPatchApply(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func() *nightjar.Check
		patch nightjar.CheckPatch
		want  func(c *nightjar.Check)
	}{
		{"slug from the name", nil, nightjar.CheckPatch{Name: ptr("Nightly DB backup")},
			func(c *nightjar.Check) { c.Name, c.Slug = "Nightly DB backup", "nightly-db-backup" }},
		{"name from the slug", nil, nightjar.CheckPatch{Slug: ptr("nightly")},
			func(c *nightjar.Check) { c.Name, c.Slug = "nightly", "nightly" }},
		{"both given", nil, nightjar.CheckPatch{Name: ptr("Nightly"), Slug: ptr("db")},
			func(c *nightjar.Check) { c.Name, c.Slug = "Nightly", "db" }},
		{"an emptied slug is made from the name again", named("Old name", "custom"), nightjar.CheckPatch{Slug: ptr("")},
			func(c *nightjar.Check) { c.Name, c.Slug = "Old name", "old-name" }},
		{"a new name keeps a slug", named("Old name", "custom"), nightjar.CheckPatch{Name: ptr("New name")},
			func(c *nightjar.Check) { c.Name, c.Slug = "New name", "custom" }},
		{"nothing named", nil, nightjar.CheckPatch{}, func(c *nightjar.Check) {}},
		{"a schedule makes a cron check", nil, nightjar.CheckPatch{Schedule: ptr("0 3 * * *"), TZ: ptr("Europe/Berlin")},
			func(c *nightjar.Check) { c.Kind, c.Schedule, c.TZ = nightjar.KindCron, "0 3 * * *", "Europe/Berlin" }},
		{"an OnCalendar schedule makes an oncalendar check", nil, nightjar.CheckPatch{Schedule: ptr("Mon..Fri 09:00")},
			func(c *nightjar.Check) { c.Kind, c.Schedule = nightjar.KindOnCalendar, "Mon..Fri 09:00" }},
		{"a timeout makes a simple check again", cron("0 3 * * *"), nightjar.CheckPatch{Timeout: ptr(time.Hour)},
			func(c *nightjar.Check) { c.Kind, c.Schedule, c.Timeout = nightjar.KindSimple, "", time.Hour }},
		{"a schedule wins over a timeout", nil, nightjar.CheckPatch{Timeout: ptr(time.Hour), Schedule: ptr("0 3 * * *")},
			func(c *nightjar.Check) { c.Kind, c.Schedule, c.Timeout = nightjar.KindCron, "0 3 * * *", time.Hour }},
		{"the form's simple kind drops the schedule", cron("0 3 * * *"),
			nightjar.CheckPatch{Kind: ptr(nightjar.KindSimple), Timeout: ptr(time.Hour), Schedule: ptr("0 3 * * *")},
			func(c *nightjar.Check) { c.Kind, c.Schedule, c.Timeout = nightjar.KindSimple, "", time.Hour }},
		{"the form's scheduled kind follows the syntax", nil,
			nightjar.CheckPatch{Kind: ptr(nightjar.KindCron), Schedule: ptr("*-*-* 03:00")},
			func(c *nightjar.Check) { c.Kind, c.Schedule = nightjar.KindOnCalendar, "*-*-* 03:00" }},
		{"channels by name and id, once each", nil, nightjar.CheckPatch{Channels: &nightjar.ChannelSelection{Refs: []string{"ops", "ch-dev", "ch-ops"}}},
			func(c *nightjar.Check) { c.Channels = []string{"ch-ops", "ch-dev"} }},
		{"no channels", nil, nightjar.CheckPatch{Channels: &nightjar.ChannelSelection{}},
			func(c *nightjar.Check) { c.Channels = []string{} }},
		{"all channels again", some("ch-ops"), nightjar.CheckPatch{Channels: &nightjar.ChannelSelection{All: true}},
			func(c *nightjar.Check) { c.Channels = nil }},
		{"channels left alone", some("ch-ops"), nightjar.CheckPatch{Name: ptr("x")},
			func(c *nightjar.Check) { c.Name, c.Channels = "x", []string{"ch-ops"} }},
		{"absent lists are empty", nil, nightjar.CheckPatch{Tags: ptr([]string(nil)), MetricRules: ptr([]string(nil))},
			func(c *nightjar.Check) {}},
		{"durations in whole milliseconds", nil,
			nightjar.CheckPatch{Timeout: ptr(time.Hour + 400*time.Microsecond), Grace: ptr(time.Minute + 999*time.Microsecond)},
			func(c *nightjar.Check) { c.Timeout, c.Grace = time.Hour, time.Minute }},
		{"every other setting", nil, nightjar.CheckPatch{
			Tags: ptr([]string{"db", "prod"}), Desc: ptr("d"), Service: ptr("pg"), Grace: ptr(2 * time.Hour),
			EarlyTolerance: ptr(time.Duration(0)), MaxRuntime: ptr(time.Hour), MinRuntime: ptr(time.Minute),
			FailureThreshold: ptr(3), RealertInterval: ptr(6 * time.Hour), Methods: ptr("POST"), ManualResume: ptr(true),
			MetricRules: ptr([]string{"bytes > 0"}), FilterBody: ptr(true), FilterHTTPBody: ptr(true), FilterDefaultFail: ptr(true),
			StartKeywords: ptr("go"), SuccessKeywords: ptr("ok"), FailureKeywords: ptr("err"),
		}, func(c *nightjar.Check) {
			c.Tags, c.Desc, c.Service, c.Grace = []string{"db", "prod"}, "d", "pg", 2*time.Hour
			c.EarlyTolerance, c.MaxRuntime, c.MinRuntime = 0, time.Hour, time.Minute
			c.FailureThreshold, c.RealertInterval, c.Methods, c.ManualResume = 3, 6*time.Hour, "POST", true
			c.MetricRules, c.FilterBody, c.FilterHTTPBody, c.FilterDefaultFail = []string{"bytes > 0"}, true, true, true
			c.StartKeywords, c.SuccessKeywords, c.FailureKeywords = "go", "ok", "err"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := nightjar.NewCheck("p", "")
			if tc.start != nil {
				start = tc.start()
			}
			got, want := *start, *start
			if err := tc.patch.Apply(&got, projectChannels, patchNow); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func named(name, slug string) func() *nightjar.Check {
	return func() *nightjar.Check {
		c := nightjar.NewCheck("p", name)
		c.Slug = slug
		return c
	}
}

func cron(expr string) func() *nightjar.Check {
	return func() *nightjar.Check {
		c := nightjar.NewCheck("p", "c")
		c.Kind, c.Schedule = nightjar.KindCron, expr
		return c
	}
}

func some(ids ...string) func() *nightjar.Check {
	return func() *nightjar.Check {
		c := nightjar.NewCheck("p", "c")
		c.Channels = ids
		return c
	}
}

// A patch that makes an invalid check is refused with the field at fault,
// whichever front door it came from.
func TestCheckPatchRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		patch nightjar.CheckPatch
		field string
	}{
		{"unknown channel", nightjar.CheckPatch{Channels: &nightjar.ChannelSelection{Refs: []string{"pager"}}}, "channels"},
		{"unknown unique field", nightjar.CheckPatch{Unique: []string{"desc"}}, "unique"},
		{"bad slug", nightjar.CheckPatch{Slug: ptr("Not Valid")}, "slug"},
		{"a bad slug names no check", nightjar.CheckPatch{Slug: ptr("a\x00b")}, "slug"},
		{"grace too short", nightjar.CheckPatch{Grace: ptr(59 * time.Second)}, "grace"},
		{"timeout too long", nightjar.CheckPatch{Timeout: ptr(nightjar.MaxTimeout + time.Second)}, "timeout"},
		{"never runs", nightjar.CheckPatch{Schedule: ptr("0 0 31 2 *")}, "schedule"},
		{"a kind no form offers", nightjar.CheckPatch{Kind: ptr("weekly")}, "kind"},
		{"a scheduled kind without a schedule", nightjar.CheckPatch{Kind: ptr(nightjar.KindCron)}, "schedule"},
		{"too many tags", nightjar.CheckPatch{Tags: ptr(strings.Fields(strings.Repeat("t ", nightjar.MaxTags+1)))}, "tags"},
		{"min not below max", nightjar.CheckPatch{MaxRuntime: ptr(time.Minute), MinRuntime: ptr(time.Minute)}, "min_runtime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := nightjar.NewCheck("p", "c")
			err := tc.patch.Apply(c, projectChannels, patchNow)
			if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tc.field {
				t.Fatalf("Apply: %v, want an invalid %s", err, tc.field)
			}
		})
	}
	// Nothing is created from a refused patch.
	if c, err := (&nightjar.CheckPatch{Grace: ptr(time.Second)}).NewCheck("p", nil, patchNow); c != nil || err == nil {
		t.Fatalf("NewCheck = %v, %v", c, err)
	}
}

// A create with Unique updates the check that has the same values for
// every setting named, as Healthchecks' upsert does.
func TestCheckPatchMatchesUnique(t *testing.T) {
	existing := nightjar.NewCheck("p", "Backups")
	existing.Tags = []string{"db", "prod"}
	for _, tc := range []struct {
		unique []string
		patch  nightjar.CheckPatch
		want   bool
	}{
		{nil, nightjar.CheckPatch{Name: ptr("Backups")}, false},
		{[]string{"name"}, nightjar.CheckPatch{Name: ptr("Backups")}, true},
		{[]string{"name"}, nightjar.CheckPatch{Name: ptr("backups")}, false},
		{[]string{"slug"}, nightjar.CheckPatch{Name: ptr("Backups!")}, true},
		{[]string{"name", "tags"}, nightjar.CheckPatch{Name: ptr("Backups"), Tags: ptr([]string{"db", "prod"})}, true},
		{[]string{"name", "tags"}, nightjar.CheckPatch{Name: ptr("Backups"), Tags: ptr([]string{"prod", "db"})}, false},
		{[]string{"timeout", "grace"}, nightjar.CheckPatch{Name: ptr("other")}, true},
		{[]string{"grace"}, nightjar.CheckPatch{Grace: ptr(2 * time.Hour)}, false},
	} {
		tc.patch.Unique = tc.unique
		candidate, err := tc.patch.NewCheck("p", nil, patchNow)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.patch.MatchesUnique(existing, candidate); got != tc.want {
			t.Errorf("unique %v, patch %+v: %v, want %v", tc.unique, tc.patch, got, tc.want)
		}
	}
}

// API keys are made through a patch from every door; a bad name or scope
// is refused with the field.
func TestAPIKeyPatch(t *testing.T) {
	k := &nightjar.APIKey{ProjectID: "p"}
	if err := (nightjar.APIKeyPatch{Name: ptr("ci"), Scope: ptr(nightjar.ScopeReadOnly)}).Apply(k); err != nil || k.Name != "ci" || k.Scope != nightjar.ScopeReadOnly {
		t.Fatalf("Apply: %+v %v", k, err)
	}
	for _, tc := range []struct {
		patch nightjar.APIKeyPatch
		field string
	}{
		{nightjar.APIKeyPatch{Name: ptr(" ")}, "name"},
		{nightjar.APIKeyPatch{Name: ptr("a\x00b")}, "name"},
		{nightjar.APIKeyPatch{Scope: ptr(nightjar.Scope("admin"))}, "scope"},
	} {
		c := *k
		if err := tc.patch.Apply(&c); nightjar.ErrorField(err) != tc.field {
			t.Errorf("%+v: %v, want an error about %s", tc.patch, err, tc.field)
		}
	}
}

// FuzzCheckPatch applies patches built from arbitrary text: Apply never
// panics, and what it accepts validates.
func FuzzCheckPatch(f *testing.F) {
	f.Add("Backups", "", "0 3 * * *", "Europe/Berlin", "db prod", "ops", int64(3600), "cron")
	f.Add("", "x", "", "", "", "", int64(-1), "simple")
	f.Add("\xff", "a\x00", "Mon *-*-* 25:00", "Mars", "a  b", "*", int64(1<<62), "")
	f.Fuzz(func(t *testing.T, name, slug, sched, tz, tags, channel string, secs int64, kind string) {
		p := nightjar.CheckPatch{Name: &name, Slug: &slug, TZ: &tz, Tags: ptr(strings.Fields(tags)),
			Grace: ptr(nightjar.Seconds(secs)), Kind: &kind, Channels: &nightjar.ChannelSelection{Refs: []string{channel}}}
		if sched != "" {
			p.Schedule = &sched
		}
		c := nightjar.NewCheck("p", "")
		if err := p.Apply(c, projectChannels, patchNow); err == nil {
			if err := c.ValidateAt(patchNow); err != nil {
				t.Fatalf("accepted %+v, which does not validate: %v", c, err)
			}
		} else if nightjar.ErrorCode(err) != nightjar.EINVALID {
			t.Fatalf("error %v is not a field error", err)
		}
	})
}

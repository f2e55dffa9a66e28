package incident_test

import (
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

func TestMatchers(t *testing.T) {
	amCritical := newAlert("am:1", nightjar.AlertFiring, label("severity", "critical"), label("alertname", "DiskFull"),
		label("instance", "db-1:9100"), func(a *nightjar.Alert) { a.Source = "alertmanager" })
	check := newAlert("check:c1", nightjar.AlertFiring)
	noService := newAlert("check:c2", nightjar.AlertFiring, service(""))

	tests := []struct {
		expr  string
		alert *nightjar.Alert
		want  bool
	}{
		// The brief's example: Alertmanager's vocabulary and Nightjar's.
		{`severity=~"critical|page"`, amCritical, true},
		{`severity=~"critical|page"`, check, true},
		{`severity="page"`, amCritical, true},
		{`severity="critical"`, check, false},
		{`severity!="critical"`, amCritical, false},
		{`severity!="page"`, amCritical, false},
		{`severity!="ticket"`, amCritical, true},
		{`severity!~"crit.*"`, amCritical, false},
		{`severity!~"crit.*"`, check, true},
		// Regular expressions are anchored at both ends.
		{`alertname=~"Disk"`, amCritical, false},
		{`alertname=~"Disk.*"`, amCritical, true},
		{`instance=~"db-[0-9]+:9100"`, amCritical, true},
		// Fields.
		{`service="db"`, check, true},
		{`source="alertmanager"`, amCritical, true},
		{`source="check"`, amCritical, false},
		// Missing labels have the empty value.
		{`team=""`, check, true},
		{`team!=""`, check, false},
		{`team=~".*"`, check, true},
		{`service=""`, noService, true},
		{`service!=""`, check, true},
		// Lists, braces, bare words, quoted names, several at once.
		{`{service="db", severity="page"}`, check, true},
		{`service=db,severity=page`, check, true},
		{`{service="db", severity="ticket"}`, check, false},
		{`{}`, check, true},
		{``, check, true},
		{`"alertname"="DiskFull"`, amCritical, true},
		{"instance=\"db-1:9100\",\n alertname=~\"Disk.*\"", amCritical, true},
	}
	for _, tt := range tests {
		ms, err := incident.ParseMatchers(tt.expr)
		if err != nil {
			t.Errorf("ParseMatchers(%q): %v", tt.expr, err)
			continue
		}
		if got := ms.Matches(tt.alert); got != tt.want {
			t.Errorf("%q matches %s (labels %v): %v, want %v", tt.expr, tt.alert.DedupKey, tt.alert.Labels, got, tt.want)
		}
		again, err := incident.ParseMatchers(ms.String())
		if err != nil || again.String() != ms.String() {
			t.Errorf("%q prints as %q, which parses to %q (%v)", tt.expr, ms.String(), again, err)
		}
	}
}

func TestMatcherParts(t *testing.T) {
	m, err := incident.ParseMatcher(`severity =~ "critical|page"`)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name() != "severity" || m.Op() != incident.OpRegexp || m.Value() != "critical|page" || m.String() != `severity=~"critical|page"` {
		t.Errorf("matcher %q: name %q op %q value %q", m, m.Name(), m.Op(), m.Value())
	}
	m, err = incident.ParseMatcher(`"team name"!="a \"b\""`)
	if err != nil || m.Name() != "team name" || m.Op() != incident.OpNotEqual || m.Value() != `a "b"` {
		t.Errorf("quoted name and value: %q %v", m, err)
	}
	if _, err := incident.ParseMatcher(`a="1", b="2"`); err == nil {
		t.Error("ParseMatcher took two matchers")
	}
}

func TestMatcherErrors(t *testing.T) {
	tests := []struct {
		items []string
		field string
		msg   string
	}{
		{[]string{`severity="page"`, `severity`}, "match[1]", "expected"},
		{[]string{`severity=~"(critical"`}, "match[0]", "must be a regular expression: missing closing )"},
		{[]string{`severity=="page"`}, "match[0]", "cannot parse"},
		{[]string{`{severity="page"`}, "match[0]", "cannot parse"},
		{[]string{`severity="page"}`}, "match[0]", "cannot parse"},
		{[]string{`severity="page`}, "match[0]", "cannot parse"},
		{[]string{`severity="\xff"`}, "match[0]", "invalid input"},
		{[]string{"severity=\"\xff\""}, "match[0]", "valid UTF-8"},
		{[]string{"severity=\"a\x00\""}, "match[0]", "valid UTF-8"},
		{[]string{`a=` + strings.Repeat("x", 5000)}, "match[0]", "at most 4096 bytes"},
		{[]string{strings.Repeat(`a="b",`, 51)}, "match", "at most 50 matchers"},
		{make([]string, 51), "match", "at most 50 matchers"},
	}
	for _, tt := range tests {
		_, err := incident.ParseMatcherList("match", tt.items)
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tt.field ||
			!strings.Contains(nightjar.ErrorMessage(err), tt.msg) || !strings.HasPrefix(nightjar.ErrorMessage(err), tt.field+": ") {
			t.Errorf("ParseMatcherList(%.40q) = %v, want a field error on %s containing %q", tt.items, err, tt.field, tt.msg)
		}
	}
}

func TestDecide(t *testing.T) {
	routes := []incident.Route{
		{Matchers: mustMatchers(t, `alertname="Watchdog"`), Urgency: nightjar.SeverityInfo},
		{Matchers: mustMatchers(t, `service="db"`, `severity=~"critical|page"`), Policy: "dba"},
		{Matchers: mustMatchers(t, `service="db"`), Policy: "dba", Urgency: nightjar.SeverityTicket},
	}
	tests := []struct {
		name  string
		alert *nightjar.Alert
		want  incident.Decision
	}{
		{"the first matching rule wins", newAlert("a", nightjar.AlertFiring), incident.Decision{Route: 1, Policy: "dba", Urgency: nightjar.SeverityPage}},
		{"a later rule", newAlert("a", nightjar.AlertFiring, severity(nightjar.SeverityTicket)),
			incident.Decision{Route: 2, Policy: "dba", Urgency: nightjar.SeverityTicket}},
		{"a rule without a policy keeps the fallback", newAlert("a", nightjar.AlertFiring, label("alertname", "Watchdog")),
			incident.Decision{Route: 0, Policy: "owner", Urgency: nightjar.SeverityInfo}},
		{"no rule: the fallback and the alert's severity", newAlert("a", nightjar.AlertFiring, service("web"), severity(nightjar.SeverityTicket)),
			incident.Decision{Route: -1, Policy: "owner", Urgency: nightjar.SeverityTicket}},
		{"an alert without a severity pages", newAlert("a", nightjar.AlertFiring, service("web"), severity("")),
			incident.Decision{Route: -1, Policy: "owner", Urgency: nightjar.SeverityPage}},
	}
	for _, tt := range tests {
		if got := incident.Decide(routes, tt.alert, "owner"); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

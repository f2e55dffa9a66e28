package incident_test

import (
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
)

// FuzzParseMatchers checks that no input makes the matcher parser panic,
// that a refused input is a field error naming the list item, and that an
// accepted one prints as text that parses back to the same matchers, each
// of which holds for an alert carrying exactly its equality.
func FuzzParseMatchers(f *testing.F) {
	for _, seed := range []string{
		`severity=~"critical|page"`, `{service="db", severity!="info"}`, `a=b,c!~d`, `"a b"="c\"d"`,
		`{}`, ``, `{`, `}`, `a=`, `=b`, `a=~"("`, `a="\xff"`, "a=\"\x00\"", `a="b",`, `,`, `a=b c=d`,
		`🙂="😀"`, `a!~".*"`, `a=~"[[:alpha:]]+"`, `a="\u00e9"`, `a=~"(?i)PAGE"`, `{a="b"}}`, `a=~"x{1000}{1000}"`, "\U0001F642=\"\x12\x12\"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := incident.ParseMatcherList("match", []string{s})
		if err != nil {
			if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != "match[0]" ||
				!strings.HasPrefix(nightjar.ErrorMessage(err), "match[0]: ") {
				t.Fatalf("ParseMatcherList(%q) = %v, want a field error on match[0]", s, err)
			}
			return
		}
		// Printing escapes control characters, so it may outgrow the
		// input limit; below it, it must read back the same.
		if printed := ms.String(); len(printed) <= 4096 {
			again, err := incident.ParseMatchers(printed)
			if err != nil || again.String() != printed {
				t.Fatalf("%q prints as %q, which parses to %q (%v)", s, printed, again, err)
			}
		}
		for _, m := range ms {
			a := &nightjar.Alert{Labels: map[string]string{m.Name(): m.Value()}, Service: "db", Source: "check", Severity: nightjar.SeverityPage}
			got := m.Matches(a)
			switch m.Op() {
			case incident.OpEqual:
				if !got {
					t.Fatalf("%s does not match an alert with %s=%q", m, m.Name(), m.Value())
				}
			case incident.OpNotEqual:
				if got {
					t.Fatalf("%s matches an alert with %s=%q", m, m.Name(), m.Value())
				}
			}
		}
	})
}

package incidents

import (
	"strings"
	"testing"
	"time"
)

var fuzzKey = []byte("0123456789abcdef0123456789abcdef")

// FuzzParseToken feeds arbitrary link tokens, as anyone may send them, to
// the parser: it never panics, accepts only what the key signed, and
// what it accepts signs back to the same token.
func FuzzParseToken(f *testing.F) {
	good := sign(fuzzKey, Link{ProjectID: "p", IncidentID: "i", Action: ActionAcknowledge, User: "u", Expires: time.Unix(1800000000, 0)})
	for _, s := range []string{good, "", ".", "a.b", good + "x", strings.Replace(good, ".", "..", 1), strings.Repeat("A", 2000), "cA.cA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		l, err := parseToken(fuzzKey, token)
		if err != nil {
			return
		}
		if again := sign(fuzzKey, l); again != token {
			t.Fatalf("accepted %q, which signs back as %q", token, again)
		}
		if _, err := parseToken([]byte("another key, another signature!!"), token); err == nil {
			t.Fatalf("a token signed with one key passed with another: %q", token)
		}
	})
}

func TestTokenRoundTrip(t *testing.T) {
	l := Link{ProjectID: "p1", IncidentID: "inc", Action: ActionResolve, User: "", Expires: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	got, err := parseToken(fuzzKey, sign(fuzzKey, l))
	if err != nil || got != l {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, l)
	}
}

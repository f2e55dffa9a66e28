package alertin

import (
	"encoding/json"
	"testing"
)

// Reading a JSON string field gives what encoding/json gives, whether the
// string takes the fast path (no escapes) or not.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain", "ünïcödé ✓", `with \"quotes\"`, `tab\t`, `\u00e9`, "\t", `\\`, "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw := json.RawMessage(`"` + s + `"`)
		if !json.Valid(raw) {
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		var o object
		got, ok := o.text("", "f", string(raw))
		if ok && got != want {
			t.Fatalf("%q read as %q, want %q", raw, got, want)
		}
		if !ok && o.err == nil {
			t.Fatalf("%q: refused without an error", raw)
		}
	})
}

// The one-pass reading of a body takes exactly what encoding/json takes,
// and finds in an object the members, and their values' bytes, that
// encoding/json finds (the last of members of one name).
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"a": 1, "a": "x"}`, `{"a": {"b": [1, 2, {"c": null}]}}`, ` {"\u00e9": "\ud800"} `,
		`{"a": 1} x`, `{"a": "` + "\xff" + `"}`, `[1, 2]`, `"x"`, `{"a": 01}`, `{"a": "\u0000"}`, `{"a":` + "\t-1.5e3}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseBody(b)
		if (err == nil) != json.Valid(b) {
			t.Fatalf("%q: parsed with error %v, but json.Valid says %v", b, err, json.Valid(b))
		}
		if err != nil {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil || want == nil {
			return
		}
		if len(n.members) != len(want) {
			t.Fatalf("%q: %d members, want %d", b, len(n.members), len(want))
		}
		for _, m := range n.members {
			if w, ok := want[m.name]; !ok || string(w) != m.value.raw {
				t.Fatalf("%q: member %q is %q, want %q", b, m.name, m.value.raw, w)
			}
		}
	})
}

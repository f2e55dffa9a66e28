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
		got, ok := o.text("f", raw)
		if ok && got != want {
			t.Fatalf("%q read as %q, want %q", raw, got, want)
		}
		if !ok && o.err == nil {
			t.Fatalf("%q: refused without an error", raw)
		}
	})
}

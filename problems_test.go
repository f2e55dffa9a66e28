package nightjar_test

import (
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
)

func TestProblems(t *testing.T) {
	var p nightjar.Problems
	if p.Err() != nil {
		t.Fatal("no problems must be no error")
	}
	for _, tc := range []struct {
		s        string
		required bool
		ok       bool
	}{{"fine", true, true}, {"", false, true}, {"", true, false}, {"  ", true, false}, {"a\tb", false, false}, {"\xff", false, false}, {"abcdef", false, false}} {
		if got := p.Text("name", tc.s, 5, tc.required); got != tc.ok {
			t.Errorf("Text(%q, required %v) = %v, want %v", tc.s, tc.required, got, tc.ok)
		}
	}
	p.Add("window", "must be set")
	err := p.Err()
	if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != "name" || len(p) != 6 ||
		!strings.Contains(nightjar.ErrorMessage(err), "; window: must be set") {
		t.Errorf("Err() = %v with %d problems", err, len(p))
	}
}

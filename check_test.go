package nightjar_test

import (
	"testing"

	"github.com/nightjar-dev/nightjar"
)

func TestLoadLocation(t *testing.T) {
	a, err := nightjar.LoadLocation("Europe/Berlin")
	if err != nil || a.String() != "Europe/Berlin" {
		t.Fatalf("LoadLocation = %v, %v", a, err)
	}
	if b, _ := nightjar.LoadLocation("Europe/Berlin"); b != a {
		t.Fatal("the zone was loaded again instead of shared")
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd"} {
		if loc, err := nightjar.LoadLocation(bad); err == nil {
			t.Errorf("LoadLocation(%q) = %v, want an error", bad, loc)
		}
	}
}

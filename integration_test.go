package nightjar_test

import (
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
)

// An integration key needs a name and the service its alerts are for,
// both text of bounded length; every problem is reported at once.
func TestIntegrationKeyValidate(t *testing.T) {
	for _, tc := range []struct {
		name, service string
		field         string
		parts         int
	}{
		{"prometheus", "shop", "", 0},
		{"", "shop", "name", 1},
		{"  ", "shop", "name", 1},
		{"prometheus", "", "service", 1},
		{"", "", "name", 2},
		{strings.Repeat("n", nightjar.MaxNameLength+1), "shop", "name", 1},
		{"prometheus", strings.Repeat("s", nightjar.MaxServiceLength+1), "service", 1},
		{"prom\x00", "shop", "name", 1},
		{"prom\ttab", "shop", "name", 1},
		{"prometheus", "sh\xffop", "service", 1},
	} {
		err := (&nightjar.IntegrationKey{Name: tc.name, Service: tc.service}).Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%q/%q: %v", tc.name, tc.service, err)
			}
			continue
		}
		if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tc.field ||
			len(strings.Split(nightjar.ErrorMessage(err), "; ")) != tc.parts {
			t.Errorf("%q/%q: %v, want field %s with %d problems", tc.name, tc.service, err, tc.field, tc.parts)
		}
	}
}

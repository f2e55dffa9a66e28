package heartbeat

import (
	"testing"

	"github.com/nightjar-dev/nightjar"
)

func TestClassifyBody(t *testing.T) {
	withKw := &nightjar.Check{FilterBody: true, SuccessKeywords: "OK, DONE", FailureKeywords: "FAIL", StartKeywords: "BEGIN"}
	failOnly := &nightjar.Check{FilterBody: true, FailureKeywords: "FAIL"}
	off := &nightjar.Check{SuccessKeywords: "OK"}
	for _, tc := range []struct {
		c    *nightjar.Check
		body string
		kind string
	}{
		{withKw, "all DONE", nightjar.PingSuccess},
		{withKw, "FAIL after OK", nightjar.PingFail},
		{withKw, "BEGIN", nightjar.PingStart},
		{withKw, "nothing", nightjar.PingIgnored},
		{withKw, "", nightjar.PingIgnored},
		{withKw, "done", nightjar.PingIgnored}, // keywords are case-sensitive
		{failOnly, "FAILED", nightjar.PingFail},
		{failOnly, "fine", nightjar.PingSuccess},
		{off, "FAIL", nightjar.PingSuccess},
	} {
		if got, _ := ClassifyBody(tc.c, []byte(tc.body)); got != tc.kind {
			t.Errorf("%+v with %q: %s, want %s", tc.c, tc.body, got, tc.kind)
		}
	}
}

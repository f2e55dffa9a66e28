package heartbeat

import (
	"testing"

	"github.com/nightjar-dev/nightjar"
)

func TestClassifyBody(t *testing.T) {
	const (
		success = nightjar.PingSuccess
		fail    = nightjar.PingFail
		start   = nightjar.PingStart
		log     = nightjar.PingLog
		ign     = nightjar.PingIgnored
	)
	// Nightjar's older filter_body: plain pings only.
	withKw := &nightjar.Check{FilterBody: true, SuccessKeywords: "OK, DONE", FailureKeywords: "FAIL", StartKeywords: "BEGIN"}
	failOnly := &nightjar.Check{FilterBody: true, FailureKeywords: "FAIL"}
	failOnlyDefaultFail := &nightjar.Check{FilterBody: true, FailureKeywords: "FAIL", FilterDefaultFail: true}
	off := &nightjar.Check{SuccessKeywords: "OK"}
	// Healthchecks' filter_http_body, with the cases of its own tests.
	httpSuccess := &nightjar.Check{FilterHTTPBody: true, SuccessKeywords: "SUCCESS"}
	httpFail := &nightjar.Check{FilterHTTPBody: true, FailureKeywords: "FAIL"}
	httpStart := &nightjar.Check{FilterHTTPBody: true, StartKeywords: "START"}
	httpDefaultFail := &nightjar.Check{FilterHTTPBody: true, SuccessKeywords: "SUCCESS", FilterDefaultFail: true}
	defaultFailAlone := &nightjar.Check{SuccessKeywords: "SUCCESS", FilterDefaultFail: true}
	for _, tc := range []struct {
		c     *nightjar.Check
		kind  string // from the URL
		plain bool
		body  string
		want  string
	}{
		{withKw, success, true, "all DONE", success},
		{withKw, success, true, "FAIL after OK", fail},
		{withKw, success, true, "BEGIN", start},
		{withKw, success, true, "nothing", ign},
		{withKw, success, true, "", ign},
		{withKw, success, true, "done", ign}, // keywords are case-sensitive
		{withKw, fail, false, "all DONE", fail},
		{withKw, success, false, "FAIL", success}, // exit status 0
		{failOnly, success, true, "FAILED", fail},
		{failOnly, success, true, "fine", success},
		{failOnlyDefaultFail, success, true, "fine", fail},
		{off, success, true, "FAIL", success},

		{httpSuccess, success, true, "SUCCESS!", success},
		{httpSuccess, success, true, "hello world", ign},
		{httpFail, success, true, "FAIL!", fail},
		{httpFail, success, true, "---", ign},
		{httpStart, success, true, "STARTING", start},
		{httpFail, success, true, "\xff\xfe FAIL", fail},
		{httpDefaultFail, success, true, "no keywords", fail},
		{httpDefaultFail, success, true, "", fail},
		// Healthchecks classifies every ping by its body, whatever the
		// URL said, except one already ignored.
		{httpSuccess, fail, false, "SUCCESS", success},
		{httpSuccess, log, false, "a log line", ign},
		{httpDefaultFail, ign, false, "", ign},
		{defaultFailAlone, success, true, "", success},
	} {
		if got, _ := ClassifyBody(tc.c, tc.kind, tc.plain, []byte(tc.body)); got != tc.want {
			t.Errorf("%+v, %s ping (plain %v) with %q: %s, want %s", tc.c, tc.kind, tc.plain, tc.body, got, tc.want)
		}
	}
}

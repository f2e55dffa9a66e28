package heartbeat

import (
	"testing"
	"time"

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

// Classify applies the method rule before the body's keywords, and says
// when the start of the run a ping finishes must be looked up.
func TestClassify(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	started := at.Add(-time.Minute)
	exit0, exit3 := 0, 3
	postOnly := &nightjar.Check{Methods: "POST"}
	postOnlyKw := &nightjar.Check{Methods: "POST", FilterBody: true, FailureKeywords: "FAIL"}
	kw := &nightjar.Check{FilterBody: true, FailureKeywords: "FAIL"}
	running := &nightjar.Check{State: nightjar.CheckState{LastStart: started, LastStartRID: "r1"}}
	for _, tc := range []struct {
		name     string
		c        *nightjar.Check
		r        Received
		kind     string
		note     string
		findRun  string
		runStart time.Time
	}{
		{"any method", &nightjar.Check{}, Received{Kind: nightjar.PingSuccess, Method: "GET"}, nightjar.PingSuccess, "", "", time.Time{}},
		{"GET on POST-only", postOnly, Received{Kind: nightjar.PingSuccess, Method: "GET"}, nightjar.PingIgnored, "only POST pings count for this check", "", time.Time{}},
		{"HEAD on POST-only", postOnly, Received{Kind: nightjar.PingFail, Method: "HEAD"}, nightjar.PingIgnored, "only POST pings count for this check", "", time.Time{}},
		{"POST on POST-only", postOnly, Received{Kind: nightjar.PingStart, Method: "POST"}, nightjar.PingStart, "", "", time.Time{}},
		// The method rule wins over the body's keywords.
		{"GET with a failure keyword", postOnlyKw, Received{Kind: nightjar.PingSuccess, Method: "GET", Body: []byte("FAIL")}, nightjar.PingIgnored, "only POST pings count for this check", "", time.Time{}},
		{"POST with a failure keyword", postOnlyKw, Received{Kind: nightjar.PingSuccess, Method: "POST", Body: []byte("FAIL")}, nightjar.PingFail, `body contains "FAIL"`, "", time.Time{}},
		// Only a plain ping is filtered by FilterBody: exit status 0 is not plain.
		{"exit 0 with a failure keyword", kw, Received{Kind: nightjar.PingSuccess, ExitStatus: &exit0, Body: []byte("FAIL")}, nightjar.PingSuccess, "", "", time.Time{}},
		{"exit 3", kw, Received{Kind: nightjar.PingFail, ExitStatus: &exit3, Body: []byte("fine")}, nightjar.PingFail, "", "", time.Time{}},
		// Runs: the check's own run is known, another run is looked up.
		{"finishes the run in progress", running, Received{Kind: nightjar.PingSuccess, RID: "r1"}, nightjar.PingSuccess, "", "", started},
		{"fails the run in progress", running, Received{Kind: nightjar.PingFail, RID: "r1"}, nightjar.PingFail, "", "", started},
		{"finishes an older run", running, Received{Kind: nightjar.PingSuccess, RID: "r0"}, nightjar.PingSuccess, "", "r0", time.Time{}},
		{"no run id", running, Received{Kind: nightjar.PingSuccess}, nightjar.PingSuccess, "", "", time.Time{}},
		{"a start names no run to find", running, Received{Kind: nightjar.PingStart, RID: "r2"}, nightjar.PingStart, "", "", time.Time{}},
		{"a log names no run to find", running, Received{Kind: nightjar.PingLog, RID: "r0"}, nightjar.PingLog, "", "", time.Time{}},
		{"an ignored ping names no run to find", postOnly, Received{Kind: nightjar.PingSuccess, RID: "r0", Method: "GET"}, nightjar.PingIgnored, "only POST pings count for this check", "", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.At = at
			in, findRun := Classify(tc.c, tc.r)
			if in.Kind != tc.kind || in.Note != tc.note || findRun != tc.findRun || !in.RunStart.Equal(tc.runStart) {
				t.Fatalf("Classify = %+v, find %q; want kind %s note %q find %q run start %v", in, findRun, tc.kind, tc.note, tc.findRun, tc.runStart)
			}
			if !in.At.Equal(at) || in.RID != tc.r.RID || in.ExitStatus != tc.r.ExitStatus {
				t.Fatalf("Classify lost the ping's time, run id or exit status: %+v", in)
			}
		})
	}
}

// The classification's note reaches the outcome unless the state machine
// has a note of its own.
func TestClassificationNote(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c := nightjar.NewCheck("p", "job")
	c.FilterBody, c.FailureKeywords, c.FailureThreshold = true, "FAIL", 2
	in, _ := Classify(c, Received{Kind: nightjar.PingSuccess, Method: "POST", Body: []byte("FAIL"), At: at})
	if out := ApplyPing(c, in); out.Kind != nightjar.PingFail || out.Note != "the job reported failure (failure 1 of 2 before alerting)" {
		t.Fatalf("below the threshold: %+v", out)
	}
	in, _ = Classify(c, Received{Kind: nightjar.PingSuccess, Method: "POST", Body: []byte("FAIL"), At: at.Add(time.Minute)})
	if out := ApplyPing(c, in); out.Kind != nightjar.PingFail || out.Note != `body contains "FAIL"` || c.State.Status != nightjar.StatusDown {
		t.Fatalf("at the threshold: %+v, status %s", out, c.State.Status)
	}
}

package heartbeat

import (
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Received is a ping as it arrived, before the check's rules said what it
// counts as: the kind its URL named, and what the request carried.
type Received struct {
	// Kind is start, success, fail or log, from the URL.
	Kind string
	// ExitStatus is the exit status the URL named, if any.
	ExitStatus *int
	Method     string
	Body       []byte
	RID        string
	At         time.Time
	Metrics    map[string]float64
}

// Classify decides what a received ping counts as for its check, before
// the state machine sees it. As in Healthchecks the method rule comes
// first: a POST-only check ignores other methods; then the body's
// keywords (see ClassifyBody). note says why the kind changed, if it did.
//
// A success or failure with a run id finishes that run, whose start the
// state machine needs for the run's duration. When the run is the one the
// check knows is in progress, in.RunStart is set here; otherwise findRun
// names the run, and the caller looks up when its start ping arrived and
// sets in.RunStart before ApplyPing (zero when it finds none). Looking it
// up is the caller's I/O, so this stays pure.
func Classify(c *nightjar.Check, r Received) (in PingInput, findRun string) {
	kind, note := r.Kind, ""
	if c.Methods == "POST" && r.Method != "POST" {
		kind, note = nightjar.PingIgnored, "only POST pings count for this check"
	} else {
		plain := kind == nightjar.PingSuccess && r.ExitStatus == nil
		kind, note = ClassifyBody(c, kind, plain, r.Body)
	}
	in = PingInput{Kind: kind, At: r.At, RID: r.RID, ExitStatus: r.ExitStatus, Metrics: r.Metrics, Note: note}
	if r.RID != "" && (kind == nightjar.PingSuccess || kind == nightjar.PingFail) {
		if r.RID == c.State.LastStartRID {
			in.RunStart = c.State.LastStart
		} else {
			findRun = r.RID
		}
	}
	return in, findRun
}

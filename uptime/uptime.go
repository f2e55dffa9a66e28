// Package uptime measures meaningful availability (Hauer et al., "Meaningful
// Availability", NSDI 2020): how much of their time users spent able to use
// a service, rather than what share of requests succeeded, which busy users
// and users who give up during an outage both distort.
//
// It sits in the evaluation stage beside the slo package. Ingest feeds a
// [Tracker] every request as (user, time, success); the tracker turns them
// into up and down user-time per minute, which ingest adds to the
// objective's buckets (slo.Counts' UpMs and DownMs), and answers "how many
// customers are having a bad time now". [Windowed] turns a period's minutes
// into windowed user-uptime: for each window size, the worst window's
// ratio. Like the other evaluation packages it is pure: time is passed in
// and nothing is stored, read from a clock or sent.
//
// # The model
//
// For each user, the time between two consecutive requests is up if the
// earlier request succeeded and down if it failed, unless the gap is longer
// than the cutoff (30 minutes unless configured): then the user was not
// using the service, and the gap counts as neither. User-uptime is the sum
// of up time over the sum of up and down time, over all users.
//
// So a user's first request (and the first after a pause longer than the
// cutoff) only opens a stretch; their last request's outcome counts only if
// they come back within the cutoff. A user who fails once and leaves adds
// no down time: user-uptime sees people who keep trying, and the request
// ratio of an availability objective, and [Tracker.BadTimeNow], see the
// others.
//
// # Minutes
//
// A stretch is split at minute boundaries to the millisecond: a failure at
// 11:59:50 followed by a request at 12:00:20 is 10 seconds of down time in
// the 11:59 minute and 20 in the 12:00 minute. A stretch's time thus lands
// in the minutes it covers, and a failure in a window's last seconds counts
// mostly in the next window, where its user waited.
//
// Whether a stretch counts is known only when the next request comes or
// the cutoff passes, so a minute is final once the cutoff has passed since
// its end: [Tracker.Advance] hands out minutes with that lag and never
// changes one it handed out. A request that arrives after the minutes it
// would change were handed out adds only to the minutes still open; the
// tracker counts what it could not place ([Tracker.Late]).
package uptime

import (
	"fmt"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// DefaultCutoff is the longest gap between two requests that still counts
// as time spent using the service.
const DefaultCutoff = 30 * time.Minute

// MinCutoff and MaxCutoff bound the cutoffs a Tracker takes.
const (
	MinCutoff = time.Minute
	MaxCutoff = 24 * time.Hour
)

// UserTime is up and down user-time in milliseconds.
type UserTime struct {
	UpMs   int64 `json:"up_ms"`
	DownMs int64 `json:"down_ms"`
}

// Ratio returns user-uptime: up over up and down, and false when there is
// no user-time at all.
func (u UserTime) Ratio() (float64, bool) {
	if u.UpMs+u.DownMs <= 0 {
		return 0, false
	}
	return float64(u.UpMs) / float64(u.UpMs+u.DownMs), true
}

// Minute is the user-time of one UTC minute.
type Minute struct {
	Start time.Time
	UserTime
}

// Tracker follows users' requests and turns them into user-time per
// minute. It keeps each user's last request in a Recent (about 24 bytes a
// user, measured by BenchmarkUserMemory), and forgets users idle longer
// than the cutoff. Users are told apart by Key, a 64-bit hash of their id.
// It is not safe for concurrent use.
type Tracker struct {
	cutoff int64 // ms
	users  *Recent
	open   map[int64]UserTime // minutes not handed out yet, by Unix minute
	// final is the first minute not handed out; stretches before it are
	// late.
	final        int64
	late, lateMs int64
}

// New returns a tracker with the given cutoff: DefaultCutoff when zero,
// otherwise whole seconds from one minute to one day.
func New(cutoff time.Duration) (*Tracker, error) {
	if cutoff == 0 {
		cutoff = DefaultCutoff
	}
	if cutoff < MinCutoff || cutoff > MaxCutoff || cutoff%time.Second != 0 {
		return nil, nightjar.FieldError("cutoff", "must be whole seconds from 1m to 24h; got %s", cutoff)
	}
	return &Tracker{cutoff: cutoff.Milliseconds(), users: NewRecent(), open: map[int64]UserTime{}, final: -1 << 62}, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Observe records one request of a user at a time, successful or not.
// Requests should come in roughly time order; one older than the user's
// last request (or from before 1970) is counted in Late and otherwise
// ignored.
func (t *Tracker) Observe(user string, at time.Time, ok bool) { t.ObserveKey(Key(user), at, ok) }

// ObserveKey is Observe of the user whose Key is key, for a caller that
// hashed the id once for several trackers.
func (t *Tracker) ObserveKey(key uint64, at time.Time, ok bool) {
	ms := at.UnixMilli()
	if ms < 0 {
		t.late++
		return
	}
	if last, seen := t.users.Get(key); seen {
		if ms < last.AtMs {
			t.late++
			return
		}
		if ms-last.AtMs <= t.cutoff {
			t.credit(last.AtMs, ms, last.Failed)
		}
	}
	t.users.Set(Last{Key: key, AtMs: ms, Failed: !ok})
}

// credit adds the stretch [from, to) as up or down time to the minutes it
// covers.
func (t *Tracker) credit(from, to int64, down bool) {
	if first := t.final * 60000; from < first {
		t.lateMs += min(to, first) - from
		if to <= first {
			return
		}
		from = first
	}
	for from < to {
		m := floorDiv(from, 60000)
		end := min(to, (m+1)*60000)
		u := t.open[m]
		if down {
			u.DownMs += end - from
		} else {
			u.UpMs += end - from
		}
		t.open[m] = u
		from = end
	}
}

// Advance hands out, in order, the minutes that became final by now (those
// that ended at least the cutoff ago) and had any user-time; a minute not
// handed out had none. It also forgets users idle longer than the cutoff,
// whose next request cannot extend a stretch. Call it about once a minute.
func (t *Tracker) Advance(now time.Time) []Minute {
	nowMs := now.UnixMilli()
	// Minute m is final when (m+1) minutes' end plus the cutoff is past.
	limit := floorDiv(nowMs-t.cutoff, 60000) // minutes before limit are final
	var out []Minute
	for m, u := range t.open {
		if m < limit {
			out = append(out, Minute{Start: time.UnixMilli(m * 60000).UTC(), UserTime: u})
			delete(t.open, m)
		}
	}
	slices.SortFunc(out, func(a, b Minute) int { return a.Start.Compare(b.Start) })
	t.final = max(t.final, limit)
	t.users.Forget(nowMs - t.cutoff)
	return out
}

// Users returns how many users the tracker holds: those whose last request
// was within the cutoff of the last Advance.
func (t *Tracker) Users() int { return t.users.Len() }

// Recent returns the tracker's users' last requests, which a replica
// reads to write out the changed ones (Recent.Changed) and to count the
// customers having a bad time.
func (t *Tracker) Recent() *Recent { return t.users }

// Late returns how many requests came older than their user's last one,
// and how much user-time fell in minutes already handed out.
func (t *Tracker) Late() (requests, ms int64) { return t.late, t.lateMs }

// BadTimeNow answers "how many customers are using the service now, and
// how many of them are having a bad time": the users whose last request
// came in the recent window before now (at most the cutoff, since older
// users are forgotten), and how many of them are in a down stretch, their
// last request having failed.
func (t *Tracker) BadTimeNow(now time.Time, recent time.Duration) (active, down int) {
	b := t.users.BadTimeNow(now, min(recent, time.Duration(t.cutoff)*time.Millisecond))
	return b.Active, b.Down
}

// String describes the tracker for logs.
func (t *Tracker) String() string {
	return fmt.Sprintf("uptime tracker: %d users, %d open minutes, cutoff %s", t.users.Len(), len(t.open), time.Duration(t.cutoff)*time.Millisecond)
}

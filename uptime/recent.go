package uptime

import (
	"time"

	"github.com/cespare/xxhash/v2"
)

// Key is the 64-bit hash users are told apart by. It is the same in every
// process (unlike a map's seed), so that replicas can merge what each saw
// of one user; two of a billion users may, once in several billion times,
// be taken for one.
func Key(user string) uint64 { return xxhash.Sum64String(user) }

// Last is a user's last request: when, and whether it was bad.
type Last struct {
	Key    uint64
	AtMs   int64 // Unix milliseconds
	Failed bool
}

// Supersedes reports whether l is a later last request than old: it came
// later, or at the same millisecond and failed where old did not. Replicas
// merging what each saw of a user keep, by this one rule, the same answer
// whichever order they see the two in.
func (l Last) Supersedes(old Last) bool {
	return l.AtMs > old.AtMs || (l.AtMs == old.AtMs && l.Failed && !old.Failed)
}

// Recent holds each user's last request, 8 bytes per user and its map's
// share of a slot (about 24 bytes a user in all), and remembers which
// users' last request changed since they were last handed out (Changed),
// so that a replica writes only those. A Tracker keeps one per objective;
// ingest keeps one more per service. It is not safe for concurrent use.
type Recent struct {
	// users holds each user's last request packed: its time in Unix ms
	// shifted left by two, two if it changed since Changed, and one if it
	// failed.
	users map[uint64]uint64
}

const (
	failedBit  = 1
	changedBit = 2
)

// NewRecent returns an empty Recent.
func NewRecent() *Recent { return &Recent{users: map[uint64]uint64{}} }

func unpack(key, p uint64) Last { return Last{Key: key, AtMs: int64(p >> 2), Failed: p&failedBit != 0} }

// Get returns a user's last request, and false when the user is unknown.
func (r *Recent) Get(key uint64) (Last, bool) {
	p, ok := r.users[key]
	return unpack(key, p), ok
}

// Set records a user's last request as it is, and marks it changed. At
// must not be before 1970.
func (r *Recent) Set(l Last) {
	p := uint64(l.AtMs)<<2 | changedBit
	if l.Failed {
		p |= failedBit
	}
	r.users[l.Key] = p
}

// Observe records a request if it supersedes the user's last one (see
// Supersedes: an older request, or an ok one at the same millisecond as a
// failed one, changes nothing), and reports whether it did.
func (r *Recent) Observe(l Last) bool {
	if old, ok := r.Get(l.Key); ok && !l.Supersedes(old) {
		return false
	}
	r.Set(l)
	return true
}

// Len returns how many users Recent holds.
func (r *Recent) Len() int { return len(r.users) }

// Forget drops users whose last request came before the Unix millisecond
// before.
func (r *Recent) Forget(before int64) {
	for k, p := range r.users {
		if int64(p>>2) < before {
			delete(r.users, k)
		}
	}
}

// Changed hands out the users whose last request changed since the last
// call, and clears their mark. When writing them out fails, MarkChanged
// puts the mark back.
func (r *Recent) Changed() []Last {
	var out []Last
	for k, p := range r.users {
		if p&changedBit != 0 {
			out = append(out, unpack(k, p))
			r.users[k] = p &^ changedBit
		}
	}
	return out
}

// MarkChanged marks the users of ls that Recent still holds as changed, so
// the next Changed hands them out again.
func (r *Recent) MarkChanged(ls []Last) {
	for _, l := range ls {
		if p, ok := r.users[l.Key]; ok {
			r.users[l.Key] = p | changedBit
		}
	}
}

// Pending calls f with each user whose last request changed since the
// last Changed: what has not been handed out to be written yet.
func (r *Recent) Pending(f func(Last)) {
	for k, p := range r.users {
		if p&changedBit != 0 {
			f(unpack(k, p))
		}
	}
}

// Between calls f with each user whose last request came in the Unix
// milliseconds [from, to].
func (r *Recent) Between(from, to int64, f func(Last)) {
	for k, p := range r.users {
		if at := int64(p >> 2); at >= from && at <= to {
			f(unpack(k, p))
		}
	}
}

// BadTime counts users' last requests: those in [from, to] are active,
// and those of them that failed are down.
type BadTime struct {
	Active, Down int
}

// Add counts one user's last request if it came in [from, to].
func (b *BadTime) Add(l Last, from, to int64) {
	if l.AtMs >= from && l.AtMs <= to {
		b.Active++
		if l.Failed {
			b.Down++
		}
	}
}

// Remove takes back what Add counted of l.
func (b *BadTime) Remove(l Last, from, to int64) {
	if l.AtMs >= from && l.AtMs <= to {
		b.Active--
		if l.Failed {
			b.Down--
		}
	}
}

// BadTimeNow counts the users whose last request came in the recent
// window before now, and how many of them are in a down segment, their
// last request having failed.
func (r *Recent) BadTimeNow(now time.Time, recent time.Duration) BadTime {
	var b BadTime
	to := now.UnixMilli()
	from := to - recent.Milliseconds()
	r.Between(from, to, func(l Last) { b.Add(l, from, to) })
	return b
}

// Merge returns each user's latest last request among lists of them (as
// several replicas saw them), by Supersedes.
func Merge(lists ...[]Last) map[uint64]Last {
	out := map[uint64]Last{}
	for _, ls := range lists {
		for _, l := range ls {
			if old, ok := out[l.Key]; !ok || l.Supersedes(old) {
				out[l.Key] = l
			}
		}
	}
	return out
}

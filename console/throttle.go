package console

import (
	"strings"
	"sync"
	"time"
)

// Limits on password checks, after what well-known systems do: failures
// are counted per account and client, so a guesser locks out only
// themselves and the real user still gets in from anywhere else, and every
// check is counted per client, so one client cannot spray guesses across
// many accounts or keep the server hashing. A client is an IPv4 address or
// an IPv6 /64 as the trusted proxies report it. The counts live in memory,
// so each replica keeps its own.
const (
	// maxFailures failed checks of one account from one client.
	maxFailures    = 10
	failuresWindow = 15 * time.Minute
	// maxClientChecks password checks of any kind from one client.
	maxClientChecks    = 30
	clientChecksWindow = 10 * time.Minute
)

// guard decides whether a password may be checked now.
type guard struct {
	failures *limiter
	clients  *limiter
}

func newGuard() *guard {
	return &guard{failures: newLimiter(maxFailures, failuresWindow), clients: newLimiter(maxClientChecks, clientChecksWindow)}
}

// attempt is a password check the guard let through. It counts as a
// failure until succeeded says otherwise, so checks running at the same
// time cannot overrun the limit.
type attempt struct {
	g          *guard
	failureKey string
}

// succeeded takes back the failure the attempt was counted as.
func (a attempt) succeeded() {
	if a.failureKey != "" {
		a.g.failures.give(a.failureKey)
	}
}

// allow counts a password check by client whose failures are counted under
// failureKey ("" for a check that cannot be a guess, such as choosing a
// new password). When the check is not allowed it returns how long until
// it would be.
func (g *guard) allow(failureKey, client string, now time.Time) (attempt, time.Duration, bool) {
	if failureKey != "" {
		if wait, ok := g.failures.take(failureKey, now); !ok {
			return attempt{}, wait, false
		}
	}
	if wait, ok := g.clients.take(client, now); !ok {
		if failureKey != "" {
			g.failures.give(failureKey)
		}
		return attempt{}, wait, false
	}
	return attempt{g: g, failureKey: failureKey}, 0, true
}

// loginKey is what failed logins are counted under: the email as the
// store matches it, and the client.
func loginKey(email, client string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		email = email[:254] // no longer address exists; keep keys small
	}
	return "login\x00" + email + "\x00" + client
}

// accountKey is what failed checks of a logged-in user's current password
// are counted under: the user alone, since whoever is logged in as them is
// the one guessing, from wherever they connect.
func accountKey(userID string) string { return "account\x00" + userID }

// limiter counts events per key in a sliding window, keeping the times of
// at most max events a key: a refused event is not recorded, so a client
// that keeps trying costs no more memory.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string][]time.Time
	swept  time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, hits: map[string][]time.Time{}}
}

// take records an event for key and reports whether it is within the
// limit; when it is not, it is not recorded and take says how long until
// it would be.
func (l *limiter) take(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	ts := l.hits[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.max {
		l.hits[key] = ts
		return ts[0].Add(l.window).Sub(now), false
	}
	l.hits[key] = append(ts, now)
	return 0, true
}

// give takes back key's newest event.
func (l *limiter) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ts := l.hits[key]; len(ts) > 1 {
		l.hits[key] = ts[:len(ts)-1]
	} else {
		delete(l.hits, key)
	}
}

// sweep forgets keys whose events are all older than the window, at most
// once a window and only when there are many keys.
func (l *limiter) sweep(now time.Time) {
	if len(l.hits) < 10_000 || now.Sub(l.swept) < l.window {
		return
	}
	l.swept = now
	for k, ts := range l.hits {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.window {
			delete(l.hits, k)
		}
	}
}

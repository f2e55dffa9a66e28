package uptime_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/uptime"
)

var t0 = time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return t0.Add(d)
}

func render(minutes []uptime.Minute) []string {
	var out []string
	for _, m := range minutes {
		out = append(out, fmt.Sprintf("%s up %gs down %gs", m.Start.Format("15:04"), float64(m.UpMs)/1000, float64(m.DownMs)/1000))
	}
	return out
}

func newTracker(t testing.TB, cutoff time.Duration) *uptime.Tracker {
	t.Helper()
	tr, err := uptime.New(cutoff)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// One user's afternoon, read as the model says: time after a success is
// up, time after a failure is down, a gap longer than the cutoff is
// neither, and stretches split at minute boundaries.
func TestTrackerTimeline(t *testing.T) {
	tr := newTracker(t, 0)
	for _, ev := range []struct {
		at string
		ok bool
	}{
		{"0s", true},   // opens a stretch: no time before it
		{"50s", false}, // 50s up (12:00)
		{"70s", true},  // 10s down in 12:00, 10s down in 12:01
		{"100s", true}, // 30s up in 12:01
		{"40m", true},  // gap over 30 minutes: inactive
		{"40m30s", false},
		// a failure and silence: no down time without a next request
	} {
		tr.Observe("ann", at(ev.at), ev.ok)
	}
	tr.Observe("bob", at("10s"), false)
	tr.Observe("bob", at("30m10s"), true) // exactly the cutoff: 30 minutes down
	if got := render(tr.Advance(at("30m59s"))); len(got) != 0 {
		t.Fatalf("minutes handed out before the cutoff passed their end: %q", got)
	}
	if a, d := tr.BadTimeNow(at("40m31s"), 5*time.Minute); a != 1 || d != 1 {
		t.Errorf("at 12:40:31 %d active and %d down, want ann alone, down", a, d)
	}
	got := render(tr.Advance(at("2h")))
	want := []string{"12:00 up 50s down 60s", "12:01 up 30s down 70s"}
	for m := 2; m < 30; m++ {
		want = append(want, fmt.Sprintf("12:%02d up 0s down 60s", m))
	}
	want = append(want, "12:30 up 0s down 10s", "12:40 up 30s down 0s")
	if !slices.Equal(got, want) {
		t.Errorf("minutes:\n got  %q\n want %q", got, want)
	}
	if tr.Users() != 0 {
		t.Errorf("%d users held two hours later, want none", tr.Users())
	}
	// ann's next request starts afresh.
	tr.Observe("ann", at("2h1m"), true)
	tr.Observe("ann", at("2h1m10s"), true)
	if got := render(tr.Advance(at("3h"))); !slices.Equal(got, []string{"14:01 up 10s down 0s"}) {
		t.Errorf("after the pause: %q", got)
	}
}

func TestTrackerLateRequests(t *testing.T) {
	tr := newTracker(t, time.Minute)
	tr.Observe("a", at("0s"), true)
	tr.Observe("a", at("10s"), false)
	tr.Observe("a", at("5s"), true) // older than a's last: ignored
	if got := render(tr.Advance(at("2m"))); !slices.Equal(got, []string{"12:00 up 10s down 0s"}) {
		t.Errorf("12:00 final: %q", got)
	}
	// b's requests come late, after 12:00 was handed out: what falls in
	// 12:00 is counted as late, the rest lands in 12:01.
	tr.Observe("b", at("5s"), true)
	tr.Observe("b", at("20s"), true)
	tr.Observe("b", at("65s"), false)
	tr.Observe("b", at("70s"), true)
	if n, ms := tr.Late(); n != 1 || ms != 55000 {
		t.Errorf("Late() = %d, %d; want 1 request and 55,000 ms", n, ms)
	}
	tr.Observe("b", time.UnixMilli(-5), true)
	if n, _ := tr.Late(); n != 2 {
		t.Errorf("a request from before 1970 must count as late")
	}
	if got := render(tr.Advance(at("10m"))); !slices.Equal(got, []string{"12:01 up 5s down 5s"}) {
		t.Errorf("minutes %q", got)
	}
	if _, err := uptime.New(30 * time.Second); nightjar.ErrorField(err) != "cutoff" {
		t.Errorf("a 30s cutoff: %v, want a field error naming cutoff", err)
	}
	if !strings.Contains(tr.String(), "cutoff 1m0s") {
		t.Errorf("String() = %q", tr.String())
	}
}

type event struct {
	user int
	ms   int64
	ok   bool
}

// reference computes per-minute user-time from every user's whole list of
// requests (at whole seconds) the slow and obvious way, a second at a
// time.
func reference(events []event, cutoff int64) map[int64]uptime.UserTime {
	byUser := map[int][]event{}
	for _, e := range events {
		byUser[e.user] = append(byUser[e.user], e)
	}
	out := map[int64]uptime.UserTime{}
	for _, evs := range byUser {
		for i := 1; i < len(evs); i++ {
			a, b := evs[i-1], evs[i]
			if b.ms-a.ms > cutoff {
				continue
			}
			for ms := a.ms; ms < b.ms; ms += 1000 {
				u := out[ms/60000]
				if a.ok {
					u.UpMs += 1000
				} else {
					u.DownMs += 1000
				}
				out[ms/60000] = u
			}
		}
	}
	return out
}

// The tracker's minutes are the reference's, however the requests of
// many users interleave and however often Advance is called.
func TestTrackerMatchesReference(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 11))
		cutoff := time.Duration(1+rng.IntN(5)) * time.Minute
		var events []event
		base := t0.UnixMilli()
		for u := range 1 + rng.IntN(8) {
			ms := base + 1000*rng.Int64N(600)
			for range rng.IntN(30) {
				events = append(events, event{u, ms, rng.IntN(4) > 0})
				ms += 1000 * rng.Int64N(int64(cutoff/time.Second)*3/2)
			}
		}
		slices.SortStableFunc(events, func(a, b event) int { return int(a.ms - b.ms) })
		tr := newTracker(t, cutoff)
		got := map[int64]uptime.UserTime{}
		collect := func(ms []uptime.Minute) {
			for _, m := range ms {
				k := m.Start.UnixMilli() / 60000
				if _, dup := got[k]; dup {
					t.Fatalf("seed %d: minute %v handed out twice", seed, m.Start)
				}
				got[k] = m.UserTime
			}
		}
		for _, e := range events {
			if rng.IntN(5) == 0 {
				collect(tr.Advance(time.UnixMilli(e.ms)))
			}
			tr.Observe(fmt.Sprintf("user-%d", e.user), time.UnixMilli(e.ms), e.ok)
		}
		collect(tr.Advance(time.UnixMilli(base + 1e9)))
		want := reference(events, cutoff.Milliseconds())
		for k, u := range want {
			if u == (uptime.UserTime{}) {
				delete(want, k)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d minutes, want %d", seed, len(got), len(want))
		}
		for k, u := range want {
			if got[k] != u {
				t.Fatalf("seed %d: minute %d = %+v, want %+v", seed, k, got[k], u)
			}
		}
		if n, ms := tr.Late(); n != 0 || ms != 0 || tr.Users() != 0 {
			t.Fatalf("seed %d: late %d/%d, %d users left", seed, n, ms, tr.Users())
		}
	}
}

func TestBadTimeNow(t *testing.T) {
	tr := newTracker(t, 0)
	for i := range 10 {
		tr.Observe(fmt.Sprint("u", i), at(fmt.Sprintf("%dm", i)), i%3 != 0) // u0, u3, u6, u9 failed
	}
	for _, tc := range []struct {
		recent       time.Duration
		active, down int
	}{{time.Minute, 2, 1}, {5 * time.Minute, 6, 2}, {time.Hour, 10, 4}} {
		if a, d := tr.BadTimeNow(at("9m"), tc.recent); a != tc.active || d != tc.down {
			t.Errorf("last %v: %d active, %d down; want %d, %d", tc.recent, a, d, tc.active, tc.down)
		}
	}
	tr.Observe("u9", at("9m30s"), true)
	if _, d := tr.BadTimeNow(at("10m"), time.Hour); d != 3 {
		t.Errorf("u9 succeeded again: %d down, want 3", d)
	}
}

// BenchmarkTrackerMemory measures what the tracker holds per active user:
// 100,000 users each making a request, with 36-character ids (UUIDs). The
// baseline in the same run is the heap before the users came.
func BenchmarkTrackerMemory(b *testing.B) {
	const users = 100000
	ids := make([]string, users)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919)
	}
	var perUser float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr := newTracker(b, 0)
		for i, id := range ids {
			tr.Observe(id, t0.Add(time.Duration(i)*time.Millisecond), i%10 != 0)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perUser = float64(after.HeapAlloc-before.HeapAlloc) / users
		runtime.KeepAlive(tr)
	}
	b.ReportMetric(perUser, "bytes/user")
}

// BenchmarkObserve measures the cost of one request on a tracker holding
// 100,000 users.
func BenchmarkObserve(b *testing.B) {
	tr := newTracker(b, 0)
	ids := make([]string, 100000)
	for i := range ids {
		ids[i] = fmt.Sprint("user-", i)
	}
	i := 0
	for b.Loop() {
		tr.Observe(ids[i%len(ids)], t0.Add(time.Duration(i)*time.Millisecond), i%7 != 0)
		i++
	}
}

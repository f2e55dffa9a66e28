package oncall_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/oncall"
)

// propertyZones have changes of every kind: an hour forward and back in
// both hemispheres, half an hour, a whole day skipped, a change at
// midnight, and none at all.
var propertyZones = []string{
	"Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
	"Pacific/Apia", "America/Santiago", "Asia/Kolkata", "UTC",
}

// randomCase returns a random definition and a range of up to 40 days to
// look at, placed near the seasons' clock changes (or Apia's missing day)
// in years inside and beyond the zone database's listed changes.
func randomCase(r *rand.Rand) (oncall.Definition, time.Time, time.Time) {
	zoneName := propertyZones[r.IntN(len(propertyZones))]
	loc, err := time.LoadLocation(zoneName)
	if err != nil {
		panic(err)
	}
	year := []int{2011, 2012, 2024, 2040}[r.IntN(4)]
	month := []time.Month{3, 4, 9, 10, 11, 12, time.Month(1 + r.IntN(12))}[r.IntN(7)]
	from := time.Date(year, month, 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, loc)
	to := from.Add(time.Duration(1+r.IntN(40*24*60)) * time.Minute)

	users := []string{"ann", "ben", "cat", "dan", "eve"}
	pick := func() string { return users[r.IntN(len(users))] }
	clock := func() string {
		// Often inside the hours that clock changes touch.
		h := r.IntN(24)
		if r.IntN(2) == 0 {
			h = r.IntN(5)
		}
		return fmt.Sprintf("%02d:%02d", h, []int{0, 15, 30, 45, r.IntN(60)}[r.IntN(5)])
	}
	local := func(t time.Time) string {
		return t.In(loc).Format("2006-01-02T") + clock()
	}
	shifts := []string{"hourly", "daily", "weekly", "2w", "3d", "1d", "12h", "8h", "36h", fmt.Sprintf("%dh", 1+r.IntN(30))}
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

	d := oncall.Definition{TimeZone: zoneName}
	for range 1 + r.IntN(3) {
		l := oncall.Layer{Shift: shifts[r.IntN(len(shifts))]}
		for range 1 + r.IntN(4) {
			l.Participants = append(l.Participants, pick())
		}
		// Mostly started before the range, sometimes within it.
		l.Start = local(from.AddDate(0, 0, r.IntN(25)-20))
		for range r.IntN(4) / 2 * (1 + r.IntN(2)) {
			w := oncall.Restriction{Start: clock(), End: clock()}
			if r.IntN(4) == 0 {
				w.End = "24:00"
			}
			for _, day := range days {
				if r.IntN(2) == 0 {
					w.Days = append(w.Days, day)
				}
			}
			l.Restrictions = append(l.Restrictions, w)
		}
		d.Layers = append(d.Layers, l)
	}
	for range r.IntN(6) {
		start := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)+48*time.Hour))) - 24*time.Hour).Truncate(time.Minute)
		end := start.Add(time.Duration(10+r.IntN(3*24*60)) * time.Minute)
		o := oncall.Override{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339)}
		if r.IntN(2) == 0 {
			// A local time resolves to start or, in a repeated hour,
			// earlier: never past the end.
			o.Start = start.In(loc).Format("2006-01-02T15:04")
		}
		switch r.IntN(3) {
		case 0:
			o.AddUser = pick()
		case 1:
			o.RemoveUser = pick()
		default:
			o.RemoveUser = pick()
			for o.AddUser = pick(); o.AddUser == o.RemoveUser; o.AddUser = pick() {
			}
		}
		d.Overrides = append(d.Overrides, o)
	}
	return d, from, to
}

// onCallFromShifts returns who the shifts have on call at t, ordered as
// OnCallAt orders them: the layer's person, then by override.
func onCallFromShifts(shifts []oncall.Shift, t time.Time) []string {
	var at []oncall.Shift
	for _, sh := range shifts {
		if !sh.Start.After(t) && sh.End.After(t) {
			at = append(at, sh)
		}
	}
	slices.SortFunc(at, func(a, b oncall.Shift) int { return cmp.Compare(a.Override, b.Override) })
	users := []string{}
	for _, sh := range at {
		users = append(users, sh.UserID)
	}
	return users
}

// joinAt concatenates the shifts of [from, m) and [m, to), joining a
// shift cut at m with its continuation.
func joinAt(first, second []oncall.Shift, m time.Time) []oncall.Shift {
	out := slices.Clone(first)
	for _, sh := range second {
		i := slices.IndexFunc(out, func(p oncall.Shift) bool {
			return p.End.Equal(m) && sh.Start.Equal(m) && p.UserID == sh.UserID && p.Layer == sh.Layer && p.Override == sh.Override
		})
		if i >= 0 {
			out[i].End = sh.End
		} else {
			out = append(out, sh)
		}
	}
	return out
}

func sameShifts(a, b []oncall.Shift) bool {
	return slices.EqualFunc(a, b, func(x, y oncall.Shift) bool {
		return x.UserID == y.UserID && x.Start.Equal(y.Start) && x.End.Equal(y.End) && x.Layer == y.Layer && x.Override == y.Override
	})
}

// TestPropertiesOfRandomSchedules checks, on random schedules in zones
// with clock changes, that who is on call at any instant is what the shift
// list says, that the shifts of adjacent ranges concatenate to the shifts
// of their union, that shifts are well formed, and that the handoffs are
// exactly the changes of who is on call.
func TestPropertiesOfRandomSchedules(t *testing.T) {
	r := rand.New(rand.NewPCG(20240331, 20241027))
	cases := 400
	if testing.Short() {
		cases = 60
	}
	for i := range cases {
		def, from, to := randomCase(r)
		s, err := oncall.New(def)
		if err != nil {
			t.Fatalf("case %d: New(%+v): %v", i, def, err)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("case %d, %s to %s, %+v:\n"+format, append([]any{i, from.Format(time.RFC3339), to.Format(time.RFC3339), def}, args...)...)
		}
		shifts, err := s.Shifts(from, to)
		if err != nil {
			fail("Shifts: %v", err)
		}

		// Well formed: inside the range, not empty, ordered, and one
		// person never holds two shifts at once.
		for j, sh := range shifts {
			if !sh.Start.Before(sh.End) || sh.Start.Before(from) || sh.End.After(to) {
				fail("shift %+v is empty or outside the range", sh)
			}
			if j > 0 && sh.Start.Before(shifts[j-1].Start) {
				fail("shifts out of order: %+v after %+v", sh, shifts[j-1])
			}
			for _, other := range shifts[:j] {
				if other.UserID == sh.UserID && other.End.After(sh.Start) {
					fail("%s holds overlapping shifts %+v and %+v", sh.UserID, other, sh)
				}
			}
		}

		// Who is on call agrees with the shifts: at random instants, and
		// at every shift's first and last second.
		var samples []time.Time
		for range 40 {
			samples = append(samples, from.Add(time.Duration(r.Int64N(int64(to.Sub(from))))).Truncate(time.Second))
		}
		for _, sh := range shifts {
			samples = append(samples, sh.Start, sh.End.Add(-time.Second))
		}
		for _, at := range samples {
			if at.Before(from) {
				continue
			}
			if got, want := s.OnCallAt(at), onCallFromShifts(shifts, at); !slices.Equal(got, want) {
				fail("OnCallAt(%s) = %q, the shifts say %q", at.Format(time.RFC3339), got, want)
			}
		}

		// Adjacent ranges concatenate to their union.
		m := from.Add(time.Duration(r.Int64N(int64(to.Sub(from))))).Truncate(time.Second)
		if m.Before(from) {
			m = from
		}
		first, err1 := s.Shifts(from, m)
		second, err2 := s.Shifts(m, to)
		if err1 != nil || err2 != nil {
			fail("Shifts split at %s: %v, %v", m, err1, err2)
		}
		joined := joinAt(first, second, m)
		slices.SortStableFunc(joined, func(a, b oncall.Shift) int {
			return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Override, b.Override))
		})
		if !sameShifts(joined, shifts) {
			fail("shifts split at %s and joined:\n%s\nwhole:\n%s", m.Format(time.RFC3339), render(joined), render(shifts))
		}

		// Handoffs are exactly the changes of who is on call.
		handoffs := s.NextHandoffs(from, 30)
		prev := from
		for _, h := range handoffs {
			if !h.At.After(prev) {
				fail("handoff at %s does not come after %s", h.At, prev)
			}
			if got := s.OnCallAt(h.At); !slices.Equal(got, h.After) {
				fail("handoff at %s says %q on call after, OnCallAt says %q", h.At, h.After, got)
			}
			if got := s.OnCallAt(h.At.Add(-time.Second)); !slices.Equal(got, h.Before) {
				fail("handoff at %s says %q on call before, OnCallAt says %q", h.At, h.Before, got)
			}
			if sameSet(h.Before, h.After) {
				fail("handoff at %s changes nobody: %q", h.At, h.After)
			}
			// Between handoffs the same people stay on call.
			for range 3 {
				between := prev.Add(time.Duration(r.Int64N(int64(h.At.Sub(prev))))).Truncate(time.Second)
				if between.Before(prev) {
					continue
				}
				if got := s.OnCallAt(between); !sameSet(got, s.OnCallAt(prev)) {
					fail("between %s and the handoff at %s, OnCallAt(%s) = %q differs from %q", prev, h.At, between, got, s.OnCallAt(prev))
				}
			}
			prev = h.At
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

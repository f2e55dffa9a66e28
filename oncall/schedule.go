package oncall

import (
	"cmp"
	"slices"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Schedule is a compiled [Definition]: the form that answers questions.
// It never changes once made, so one may be shared between goroutines.
type Schedule struct {
	zone      zone
	layers    []*layer
	overrides []override
	// everyOverride lists every override's index, for queries at one
	// instant.
	everyOverride []int
}

// layer is a compiled rotation.
type layer struct {
	name  string
	users []string
	// step is the shift length: wall seconds when calendar is set (whole
	// local days), absolute seconds otherwise.
	step     int64
	calendar bool
	// anchorWall is the first handoff as a local time; anchor is the
	// instant it resolves to.
	anchorWall int64
	anchor     int64
	// windows are the restrictions; nil means none, always on.
	windows []window
}

// window is a compiled restriction: on the weekdays in days (bit 0 is
// Sunday), from start to end seconds after local midnight; end is after
// start and at most a day later.
type window struct {
	days       uint8
	start, end int64
}

// override is a compiled override.
type override struct {
	start, end  int64
	add, remove string
}

// New compiles a definition, or returns the error [Definition.Validate]
// returns for it.
func New(d Definition) (*Schedule, error) {
	s, problems := compile(&d)
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return s, nil
}

// Location returns the schedule's time zone; the times the schedule
// returns are expressed in it.
func (s *Schedule) Location() *time.Location { return s.zone.loc }

// Shift is a stretch of time during which one person is on call through
// one source: a layer's rotation or an override.
type Shift struct {
	// UserID is the person on call.
	UserID string `json:"user_id"`
	// Start and End bound the shift, End excluded, in the schedule's
	// zone; a shift that crosses the range asked for is cut at it.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Layer is the index of the layer whose rotation put the user on
	// call, or -1 when an override did.
	Layer int `json:"layer"`
	// Override is the index of the override that put the user on call,
	// or -1 when a layer did.
	Override int `json:"override"`
}

// Handoff is a change of who is on call.
type Handoff struct {
	// At is the instant of the change, in the schedule's zone.
	At time.Time `json:"at"`
	// Before and After are who is on call just before At and from At on.
	Before []string `json:"before"`
	After  []string `json:"after"`
}

// MaxRange is the longest range [Schedule.Shifts] and
// [Schedule.ICalendar] answer for: two years, enough for any view or
// calendar feed, and a bound on the work one request can ask for.
const MaxRange = 2 * 366 * 24 * time.Hour

// HandoffHorizon is how far ahead [Schedule.NextHandoffs] looks: twice
// the longest shift.
const HandoffHorizon = 2 * MaxShiftDays * 24 * time.Hour

// turnAt returns the index of the turn in progress at instant t, or -1
// before the layer's start.
func (l *layer) turnAt(z zone, t int64) int64 {
	if t < l.anchor {
		return -1
	}
	if !l.calendar {
		return (t - l.anchor) / l.step
	}
	// Counting local days from the anchor to t's wall clock gives a turn
	// that began at or before t: its handoff's wall time is not after
	// t's, and resolve keeps that order. Where t lies in the second copy
	// of a repeated hour, later turns may have begun already, and where a
	// forward change swallowed a turn whole it has no time: the handoffs
	// decide.
	k := max(floorDiv(z.wall(t)-l.anchorWall, l.step), 0)
	for l.handoff(z, k+1) <= t {
		k++
	}
	return k
}

// handoff returns the instant turn k begins. Handoffs never go back in
// time, but two may fall on one instant when a forward change swallows a
// whole turn; that turn then has no time at all.
func (l *layer) handoff(z zone, k int64) int64 {
	if l.calendar {
		return z.resolve(l.anchorWall + k*l.step)
	}
	return l.anchor + k*l.step
}

// user returns the participant of turn k.
func (l *layer) user(k int64) string { return l.users[k%int64(len(l.users))] }

// span is a stretch of time [start, end) in Unix seconds.
type span struct{ start, end int64 }

// windowsIn returns the layer's restriction windows that overlap
// [from, to), as instants, sorted and merged where they touch.
func (l *layer) windowsIn(z zone, from, to int64) []span {
	var out []span
	// A window starts on its day and ends at most a day later; two days
	// of margin on each side cover any daylight-saving shift.
	first := floorDiv(z.wall(from), secondsPerDay) - 2
	last := floorDiv(z.wall(to), secondsPerDay) + 2
	for d := first; d <= last; d++ {
		midnight := d * secondsPerDay
		weekday := weekdayOf(midnight)
		for _, w := range l.windows {
			if w.days&(1<<weekday) == 0 {
				continue
			}
			start, end := z.resolve(midnight+w.start), z.resolve(midnight+w.end)
			if start < end && start < to && end > from {
				out = append(out, span{start, end})
			}
		}
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	merged := out[:0]
	for _, sp := range out {
		if n := len(merged); n > 0 && sp.start <= merged[n-1].end {
			merged[n-1].end = max(merged[n-1].end, sp.end)
		} else {
			merged = append(merged, sp)
		}
	}
	return merged
}

// piece is a stretch of time during which one layer has one user.
type piece struct {
	span
	user string
}

// pieces returns the layer's stretches with someone on call within
// [from, to), in order.
func (l *layer) pieces(z zone, from, to int64) []piece {
	from = max(from, l.anchor)
	if from >= to {
		return nil
	}
	var wins []span
	if l.windows != nil {
		if wins = l.windowsIn(z, from, to); len(wins) == 0 {
			return nil
		}
	}
	var out []piece
	k := l.turnAt(z, from)
	next := l.handoff(z, k)
	for w := 0; next < to; k++ {
		turnEnd := l.handoff(z, k+1)
		start, end := max(next, from), min(turnEnd, to)
		next = turnEnd
		if start >= end {
			continue
		}
		if l.windows == nil {
			out = append(out, piece{span{start, end}, l.user(k)})
			continue
		}
		for w < len(wins) && wins[w].end <= start {
			w++
		}
		for i := w; i < len(wins) && wins[i].start < end; i++ {
			out = append(out, piece{span{max(start, wins[i].start), min(end, wins[i].end)}, l.user(k)})
		}
	}
	return out
}

// entry is one person on call and their source: a layer (override -1)
// or an override (layer -1).
type entry struct {
	user            string
	layer, override int
}

// compareEntries orders an on-call list: the rotation pick first, then
// people put on call by overrides, in the overrides' order.
func compareEntries(a, b entry) int { return a.override - b.override }

// withOverrides applies the overrides in force at t to the rotation pick
// and returns the on-call list in its order.
func (s *Schedule) withOverrides(list []entry, t int64, candidates []int) []entry {
	for _, i := range candidates {
		o := &s.overrides[i]
		if t < o.start || t >= o.end {
			continue
		}
		removed := slices.IndexFunc(list, func(e entry) bool { return e.user == o.remove })
		added := slices.IndexFunc(list, func(e entry) bool { return e.user == o.add })
		switch {
		case o.remove != "" && removed < 0:
			// Nobody to remove or replace.
		case o.remove != "" && o.add != "" && added < 0:
			list[removed] = entry{user: o.add, layer: -1, override: i}
		case o.remove != "":
			list = slices.Delete(list, removed, removed+1)
		case added < 0:
			list = append(list, entry{user: o.add, layer: -1, override: i})
		}
	}
	slices.SortStableFunc(list, compareEntries)
	return list
}

// entriesAt returns the on-call list at instant t.
func (s *Schedule) entriesAt(t int64) []entry {
	var list []entry
	if t >= maxUnix {
		return nil
	}
	for i := len(s.layers) - 1; i >= 0; i-- {
		l := s.layers[i]
		k := l.turnAt(s.zone, t)
		if k < 0 || (l.windows != nil && len(l.windowsIn(s.zone, t, t+1)) == 0) {
			continue
		}
		list = append(list, entry{user: l.user(k), layer: i, override: -1})
		break
	}
	return s.withOverrides(list, t, s.everyOverride)
}

// OnCallAt returns who is on call at t, in order: the rotation pick of the
// last layer with someone on call, then the people overrides put on call.
// It is empty when nobody is.
func (s *Schedule) OnCallAt(t time.Time) []string {
	return users(s.entriesAt(floorSecond(t)))
}

func users(list []entry) []string {
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.user
	}
	return out
}

// floorSecond returns t's Unix second, rounded down and kept within the
// years schedules are evaluated in, so that no sum with it overflows.
func floorSecond(t time.Time) int64 { return min(max(t.Unix(), minUnix), maxUnix) }

// ceilSecond returns t's Unix second, rounded up and kept within the
// years schedules are evaluated in.
func ceilSecond(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return floorSecond(t.Add(time.Second))
	}
	return floorSecond(t)
}

// segment is a stretch of time with one on-call list.
type segment struct {
	span
	list []entry
}

// timeline returns the on-call lists over [from, to), as contiguous
// segments covering the whole range, neighbours always differing.
func (s *Schedule) timeline(from, to int64) []segment {
	from, to = max(from, minUnix), min(to, maxUnix)
	if from >= to {
		return nil
	}
	bounds := []int64{from, to}
	layerPieces := make([][]piece, len(s.layers))
	for i, l := range s.layers {
		layerPieces[i] = l.pieces(s.zone, from, to)
		for _, p := range layerPieces[i] {
			bounds = append(bounds, p.start, p.end)
		}
	}
	var active []int
	for i, o := range s.overrides {
		if o.start < to && o.end > from {
			active = append(active, i)
			bounds = append(bounds, max(o.start, from), min(o.end, to))
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)

	var out []segment
	next := make([]int, len(s.layers)) // per layer, the first piece not yet over
	for j := 0; j+1 < len(bounds); j++ {
		t := bounds[j]
		var list []entry
		for i := len(s.layers) - 1; i >= 0; i-- {
			ps := layerPieces[i]
			for next[i] < len(ps) && ps[next[i]].end <= t {
				next[i]++
			}
			if next[i] < len(ps) && ps[next[i]].start <= t {
				list = []entry{{user: ps[next[i]].user, layer: i, override: -1}}
				break
			}
		}
		list = s.withOverrides(list, t, active)
		if n := len(out); n > 0 && slices.Equal(out[n-1].list, list) {
			out[n-1].end = bounds[j+1]
		} else {
			out = append(out, segment{span{t, bounds[j+1]}, list})
		}
	}
	return out
}

// checkRange reports a range the shift queries refuse.
func checkRange(from, to time.Time) error {
	switch {
	case to.Before(from):
		return nightjar.FieldError("to", "must not be before from (%s)", from.Format(time.RFC3339))
	case to.Sub(from) > MaxRange:
		return nightjar.FieldError("to", "must be at most %d days after from", int(MaxRange.Hours()/24))
	}
	return nil
}

// Shifts returns the shifts within [from, to), cut at its ends, ordered by
// start and then as [Schedule.OnCallAt] orders people. A person's shift
// continues while the same source keeps them on call. The range may span
// at most [MaxRange].
func (s *Schedule) Shifts(from, to time.Time) ([]Shift, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, nil
	}
	// The timeline works in whole seconds; a range that starts or ends
	// within a second is cut to it afterwards.
	shifts := s.shifts(floorSecond(from), ceilSecond(to))
	for i := range shifts {
		sh := &shifts[i]
		if sh.Start.Before(from) {
			sh.Start = from.In(s.zone.loc)
		}
		if sh.End.After(to) {
			sh.End = to.In(s.zone.loc)
		}
	}
	return shifts, nil
}

// shifts returns the shifts of [from, to) in Unix seconds.
func (s *Schedule) shifts(from, to int64) []Shift {
	type open struct {
		entry
		start, end int64
	}
	var done []open
	current := map[string]*open{}
	for _, seg := range s.timeline(from, to) {
		for _, e := range seg.list {
			if o := current[e.user]; o != nil && o.entry == e && o.end == seg.start {
				o.end = seg.end
				continue
			}
			if o := current[e.user]; o != nil {
				done = append(done, *o)
			}
			current[e.user] = &open{entry: e, start: seg.start, end: seg.end}
		}
	}
	for _, o := range current {
		done = append(done, *o)
	}
	slices.SortFunc(done, func(a, b open) int {
		return cmp.Or(cmp.Compare(a.start, b.start), compareEntries(a.entry, b.entry))
	})
	out := make([]Shift, len(done))
	for i, o := range done {
		out[i] = Shift{
			UserID:   o.user,
			Start:    time.Unix(o.start, 0).In(s.zone.loc),
			End:      time.Unix(o.end, 0).In(s.zone.loc),
			Layer:    o.layer,
			Override: o.override,
		}
	}
	return out
}

// NextHandoffs returns the next n changes of who is on call after t, in
// order, looking at most [HandoffHorizon] ahead. A change of source alone,
// where the same people stay on call, is no handoff.
func (s *Schedule) NextHandoffs(t time.Time, n int) []Handoff {
	var out []Handoff
	from := floorSecond(t)
	prev := s.entriesAt(from)
	end := min(from+int64(HandoffHorizon/time.Second), maxUnix)
	after := from
	for chunk := int64(7 * secondsPerDay); from < end && len(out) < n; chunk = min(2*chunk, 64*secondsPerDay) {
		to := min(from+chunk, end)
		for _, seg := range s.timeline(from, to) {
			if seg.start > after && !sameUsers(prev, seg.list) {
				out = append(out, Handoff{At: time.Unix(seg.start, 0).In(s.zone.loc), Before: users(prev), After: users(seg.list)})
				if len(out) == n {
					break
				}
			}
			prev = seg.list
		}
		from = to
	}
	return out
}

// sameUsers reports whether two on-call lists hold the same people.
func sameUsers(a, b []entry) bool {
	if len(a) != len(b) {
		return false
	}
	for _, e := range a {
		if !slices.ContainsFunc(b, func(f entry) bool { return f.user == e.user }) {
			return false
		}
	}
	return true
}

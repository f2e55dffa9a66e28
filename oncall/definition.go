package oncall

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// Definition is a schedule as people write it: in the API's JSON, in the
// YAML configuration and in the console's forms. It holds text, not parsed
// values, so that every front door hands the same thing to [New] and every
// mistake comes back as one field error naming the field as written, such
// as "layers[1].restrictions[0].end".
type Definition struct {
	// TimeZone is the IANA name of the zone the schedule's local times
	// are in, such as Europe/Berlin.
	TimeZone string `json:"time_zone" yaml:"time_zone"`
	// Layers are the rotations; later layers take precedence wherever
	// they have someone on call.
	Layers []Layer `json:"layers" yaml:"layers"`
	// Overrides change who is on call for a time range, in order.
	Overrides []Override `json:"overrides,omitempty" yaml:"overrides,omitempty"`
}

// Layer is one rotation of a schedule.
type Layer struct {
	// Name is shown beside the layer's shifts; it may be empty.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Participants are user ids in the order they take turns; a user may
	// appear more than once.
	Participants []string `json:"participants" yaml:"participants"`
	// Shift is the length of one turn: hourly, daily, weekly, or a number
	// of hours, days or weeks such as 12h, 3d or 2w. Days and weeks are
	// calendar days in the schedule's zone; hours are absolute.
	Shift string `json:"shift" yaml:"shift"`
	// Start is when the first participant's first turn begins, as a local
	// date and time in the schedule's zone, such as 2024-03-04T09:00. It is
	// the rotation's anchor: every handoff is counted from it.
	Start string `json:"start" yaml:"start"`
	// Restrictions, when there are any, are the only times the layer has
	// someone on call.
	Restrictions []Restriction `json:"restrictions,omitempty" yaml:"restrictions,omitempty"`
}

// Restriction is a local time-of-day window on some weekdays. A window
// whose end is not after its start runs into the next day, and one whose
// end equals its start lasts 24 hours.
type Restriction struct {
	// Days are the weekdays the window starts on, as mon, tue, wed, thu,
	// fri, sat or sun; none means every day.
	Days []string `json:"days,omitempty" yaml:"days,omitempty"`
	// Start and End are local times of day as HH:MM; End may be 24:00.
	Start string `json:"start" yaml:"start"`
	End   string `json:"end" yaml:"end"`
}

// Override changes who is on call from Start until End: it adds AddUser,
// removes RemoveUser, or, naming both, replaces RemoveUser with AddUser
// while RemoveUser is on call.
type Override struct {
	// Start and End are RFC 3339 times such as 2024-12-24T18:00:00+01:00,
	// or local times in the schedule's zone such as 2024-12-24T18:00.
	Start string `json:"start" yaml:"start"`
	End   string `json:"end" yaml:"end"`
	// AddUser is the user id put on call.
	AddUser string `json:"add_user,omitempty" yaml:"add_user,omitempty"`
	// RemoveUser is the user id taken off call.
	RemoveUser string `json:"remove_user,omitempty" yaml:"remove_user,omitempty"`
}

// Limits on a definition. They bound the work one schedule can ask of the
// evaluator and the size of what the API stores, far above what a team
// uses. Shifts last from an hour to a year, PagerDuty's longest turn.
const (
	MaxLayers          = 20
	MaxParticipants    = 100
	MaxRestrictions    = 50
	MaxOverrides       = 1000
	MaxUserIDLength    = 100
	MaxLayerNameLength = 100
	MaxShiftDays       = 365
)

// Problems returns every problem with the definition, each a field error
// naming the field as the JSON and YAML forms spell it, in the order of
// the fields. It is empty for a definition that [New] accepts.
func (d *Definition) Problems() []*nightjar.Error {
	_, problems := compile(d)
	return problems
}

// Validate returns nil for a definition that [New] accepts, and otherwise
// one EINVALID error carrying every problem's message, its field being the
// first problem's, as the domain's other Validate methods do.
func (d *Definition) Validate() error {
	return joinProblems(d.Problems())
}

// joinProblems folds field errors into the single error callers report.
func joinProblems(problems []*nightjar.Error) error {
	if len(problems) == 0 {
		return nil
	}
	var msg strings.Builder
	for i, p := range problems {
		if i > 0 {
			msg.WriteString("; ")
		}
		msg.WriteString(p.Message)
	}
	return &nightjar.Error{Code: nightjar.EINVALID, Field: problems[0].Field, Message: msg.String()}
}

// checker collects the problems of one definition.
type checker struct{ problems []*nightjar.Error }

func (c *checker) add(field, format string, args ...any) {
	c.problems = append(c.problems, nightjar.FieldError(field, format, args...))
}

// text checks a name or id: valid UTF-8 without control characters (they
// have no place in a name, and would break the iCalendar lines it is
// written into) and at most max characters. An empty value is reported
// when required.
func (c *checker) text(field, s string, max int, required bool) bool {
	switch {
	case !nightjar.ValidText(s):
		c.problems = append(c.problems, nightjar.TextFieldError(field))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		c.add(field, "must not contain control characters such as line breaks or tabs")
	case required && strings.TrimSpace(s) == "":
		c.add(field, "must not be empty")
	case utf8.RuneCountInString(s) > max:
		c.add(field, "must be at most %d characters", max)
	default:
		return true
	}
	return false
}

// compile turns a definition into a schedule, or reports every problem.
func compile(d *Definition) (*Schedule, []*nightjar.Error) {
	c := &checker{}
	s := &Schedule{}
	if c.text("time_zone", d.TimeZone, 100, true) {
		if loc, err := nightjar.LoadLocation(d.TimeZone); err != nil {
			c.add("time_zone", "must be an IANA time zone name such as Europe/Berlin; got %.100q", d.TimeZone)
		} else {
			s.zone = zone{loc}
		}
	}
	switch {
	case len(d.Layers) == 0:
		c.add("layers", "must have at least one layer")
	case len(d.Layers) > MaxLayers:
		c.add("layers", "must have at most %d layers", MaxLayers)
	default:
		for i := range d.Layers {
			s.layers = append(s.layers, c.layer(fmt.Sprintf("layers[%d]", i), &d.Layers[i], s.zone))
		}
	}
	if len(d.Overrides) > MaxOverrides {
		c.add("overrides", "must have at most %d overrides", MaxOverrides)
	} else {
		for i := range d.Overrides {
			s.overrides = append(s.overrides, c.override(fmt.Sprintf("overrides[%d]", i), &d.Overrides[i], s.zone))
			s.everyOverride = append(s.everyOverride, i)
		}
	}
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	return s, nil
}

func (c *checker) layer(field string, l *Layer, z zone) *layer {
	out := &layer{name: l.Name}
	c.text(field+".name", l.Name, MaxLayerNameLength, false)
	switch {
	case len(l.Participants) == 0:
		c.add(field+".participants", "must list at least one user id")
	case len(l.Participants) > MaxParticipants:
		c.add(field+".participants", "must list at most %d user ids", MaxParticipants)
	default:
		for i, p := range l.Participants {
			c.text(fmt.Sprintf("%s.participants[%d]", field, i), p, MaxUserIDLength, true)
		}
		out.users = slices.Clone(l.Participants)
	}
	if step, calendar, ok := parseShift(l.Shift); ok {
		out.step, out.calendar = step, calendar
	} else {
		c.add(field+".shift", "must be hourly, daily, weekly or a length such as 12h, 3d or 2w, from 1h to %dd; got %.50q", MaxShiftDays, l.Shift)
	}
	w, ok := parseWall(l.Start)
	switch {
	case !ok && isRFC3339(l.Start):
		c.add(field+".start", "must be a local date and time in the schedule's time zone, without an offset, such as 2024-03-04T09:00")
	case !ok:
		c.add(field+".start", "must be a local date and time such as 2024-03-04T09:00 (seconds optional); got %.50q", l.Start)
	case w < 0:
		c.add(field+".start", "must be in 1970 or later")
	default:
		out.anchorWall = w
		out.anchor, _ = z.resolveIfKnown(w)
	}
	if len(l.Restrictions) > MaxRestrictions {
		c.add(field+".restrictions", "must have at most %d windows", MaxRestrictions)
		return out
	}
	for i := range l.Restrictions {
		out.windows = append(out.windows, c.restriction(fmt.Sprintf("%s.restrictions[%d]", field, i), &l.Restrictions[i]))
	}
	return out
}

var shiftRE = regexp.MustCompile(`^([1-9][0-9]{0,3})([hdw])$`)

// parseShift returns a shift length in seconds and whether it counts
// calendar days (wall seconds) rather than absolute time.
func parseShift(s string) (step int64, calendar, ok bool) {
	switch s {
	case "hourly":
		return secondsPerHour, false, true
	case "daily":
		return secondsPerDay, true, true
	case "weekly":
		return 7 * secondsPerDay, true, true
	}
	m := shiftRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false, false
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	switch m[2] {
	case "h":
		step = n * secondsPerHour
	case "d":
		step, calendar = n*secondsPerDay, true
	case "w":
		step, calendar = 7*n*secondsPerDay, true
	}
	return step, calendar, step <= MaxShiftDays*secondsPerDay
}

var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// parseWall parses a local date and time into wall seconds, which are
// negative before 1970.
func parseWall(s string) (int64, bool) {
	for _, layout := range localLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

var weekdayNames = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

func (c *checker) restriction(field string, r *Restriction) window {
	var w window
	if len(r.Days) == 0 {
		w.days = 0x7f
	}
	for i, name := range r.Days {
		day, ok := weekdayNames[strings.ToLower(name)]
		switch {
		case !ok:
			c.add(fmt.Sprintf("%s.days[%d]", field, i), "must be one of mon, tue, wed, thu, fri, sat, sun; got %.20q", name)
		case w.days&(1<<day) != 0:
			c.add(fmt.Sprintf("%s.days[%d]", field, i), "lists %s a second time", strings.ToLower(name))
		default:
			w.days |= 1 << day
		}
	}
	start, okStart := parseTimeOfDay(r.Start, false)
	if !okStart {
		c.add(field+".start", "must be a local time of day from 00:00 to 23:59, as HH:MM; got %.20q", r.Start)
	}
	end, okEnd := parseTimeOfDay(r.End, true)
	if !okEnd {
		c.add(field+".end", "must be a local time of day from 00:00 to 24:00, as HH:MM; got %.20q", r.End)
	}
	if okStart && okEnd {
		if end <= start {
			end += secondsPerDay
		}
		w.start, w.end = start, end
	}
	return w
}

// parseTimeOfDay parses HH:MM into seconds after midnight; 24:00 is
// accepted when allow24 is set.
func parseTimeOfDay(s string, allow24 bool) (int64, bool) {
	if allow24 && s == "24:00" {
		return secondsPerDay, true
	}
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return int64(t.Hour()*secondsPerHour + t.Minute()*60), true
}

func (c *checker) override(field string, o *Override, z zone) override {
	out := override{add: o.AddUser, remove: o.RemoveUser}
	if o.AddUser == "" && o.RemoveUser == "" {
		c.add(field, "must name a user to add (add_user), a user to remove (remove_user), or both to replace one with the other")
	}
	if o.AddUser != "" {
		c.text(field+".add_user", o.AddUser, MaxUserIDLength, true)
	}
	if o.RemoveUser != "" {
		c.text(field+".remove_user", o.RemoveUser, MaxUserIDLength, true)
	}
	if o.AddUser != "" && o.AddUser == o.RemoveUser {
		c.add(field+".add_user", "must differ from remove_user: replacing a user with themselves changes nothing")
	}
	start, okStart := c.instant(field+".start", o.Start, z)
	end, okEnd := c.instant(field+".end", o.End, z)
	if z.loc == nil {
		// Without a zone two local times still compare: resolving keeps
		// their order.
		start, okStart = parseWall(o.Start)
		end, okEnd = parseWall(o.End)
	}
	if okStart && okEnd && end <= start {
		c.add(field+".end", "must be after start (%s)", o.Start)
	}
	out.start, out.end = start, end
	return out
}

// instant parses an override's time: RFC 3339, or a local date and time
// in the schedule's zone. ok is false when it was refused, or cannot be
// placed because the zone is unknown.
func (c *checker) instant(field, s string, z zone) (int64, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		switch {
		case t.Nanosecond() != 0:
			c.add(field, "must be a whole second")
		case t.Unix() < 0:
			c.add(field, "must be in 1970 or later")
		default:
			return t.Unix(), true
		}
		return 0, false
	}
	w, ok := parseWall(s)
	switch {
	case !ok:
		c.add(field, "must be an RFC 3339 time such as 2024-12-24T18:00:00+01:00, or a local time in the schedule's zone such as 2024-12-24T18:00; got %.50q", s)
	case w < 0:
		c.add(field, "must be in 1970 or later")
	default:
		return z.resolveIfKnown(w)
	}
	return 0, false
}

// resolveIfKnown resolves a wall time when the zone is known.
func (z zone) resolveIfKnown(w int64) (int64, bool) {
	if z.loc == nil {
		return 0, false
	}
	return z.resolve(w), true
}

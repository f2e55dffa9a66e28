package oncall

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar"
)

// The iCalendar writer is written here rather than taken from a library:
// the Go iCalendar libraries either import net/http, which a pure package
// may not depend on, or do not fold long lines. What Nightjar writes is
// small: one calendar of events with UTC times and a little text.

// CalendarOptions says what an iCalendar export shows.
type CalendarOptions struct {
	// ScheduleID makes event UIDs unique across schedules: the same shift
	// of the same schedule keeps its UID from one export to the next, so
	// calendar programs update it in place instead of duplicating it.
	ScheduleID string
	// Name is the schedule's name, shown as the calendar's name and in
	// each event's summary; it may be empty.
	Name string
	// UserID limits the export to one person's shifts; empty exports
	// everyone's.
	UserID string
	// UserName returns the name to show for a user id; nil shows ids.
	UserName func(userID string) string
	// Stamp is when the export is made (DTSTAMP). The package reads no
	// clock, so the caller passes it.
	Stamp time.Time
}

// ICalendarContext is how far before and after the requested range an
// export looks for the true ends of the shifts that cross the range's
// ends. Events show those shifts whole, so a shift's UID, built from its
// start, does not change as a calendar feed's window moves on.
const ICalendarContext = 31 * 24 * time.Hour

// ICalendar returns an iCalendar (RFC 5545) document with one event per
// shift overlapping [from, to), for everyone or for opt.UserID. Events
// show shifts whole, up to [ICalendarContext] beyond the range. Times are
// in UTC; text is escaped and lines are folded at 75 octets with CRLF line
// ends, as the RFC asks. The range may span at most [MaxRange].
func (s *Schedule) ICalendar(from, to time.Time, opt CalendarOptions) ([]byte, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	if opt.ScheduleID == "" {
		return nil, nightjar.FieldError("schedule_id", "must not be empty: event UIDs are built from it")
	}
	if opt.Stamp.IsZero() {
		return nil, nightjar.FieldError("stamp", "must be the time the export is made")
	}
	name := opt.UserName
	if name == nil {
		name = func(id string) string { return id }
	}
	margin := int64(ICalendarContext / time.Second)
	var w icalWriter
	w.line("BEGIN", "VCALENDAR")
	w.line("VERSION", "2.0")
	w.line("PRODID", "-//Nightjar//On-call schedule//EN")
	w.line("CALSCALE", "GREGORIAN")
	w.line("METHOD", "PUBLISH")
	if opt.Name != "" {
		w.text("X-WR-CALNAME", opt.Name)
	}
	stamp := icalTime(opt.Stamp)
	for _, sh := range s.shifts(floorSecond(from)-margin, ceilSecond(to)+margin) {
		if !sh.End.After(from) || !sh.Start.Before(to) || (opt.UserID != "" && sh.UserID != opt.UserID) {
			continue
		}
		summary := "On call: " + name(sh.UserID)
		if opt.Name != "" {
			summary += " (" + opt.Name + ")"
		}
		w.line("BEGIN", "VEVENT")
		w.line("UID", eventUID(opt.ScheduleID, sh))
		w.line("DTSTAMP", stamp)
		w.line("DTSTART", icalTime(sh.Start))
		w.line("DTEND", icalTime(sh.End))
		w.text("SUMMARY", summary)
		w.text("DESCRIPTION", s.describeSource(sh, name))
		w.line("END", "VEVENT")
	}
	w.line("END", "VCALENDAR")
	return []byte(w.b.String()), nil
}

// describeSource says what put a shift's person on call.
func (s *Schedule) describeSource(sh Shift, name func(string) string) string {
	if sh.Layer >= 0 {
		if l := s.layers[sh.Layer]; l.name != "" {
			return fmt.Sprintf("Layer %d (%s) of the rotation", sh.Layer+1, l.name)
		}
		return fmt.Sprintf("Layer %d of the rotation", sh.Layer+1)
	}
	if o := s.overrides[sh.Override]; o.remove != "" {
		return fmt.Sprintf("Override %d: covers for %s", sh.Override+1, name(o.remove))
	}
	return fmt.Sprintf("Override %d: on call in addition", sh.Override+1)
}

// eventUID is a shift's UID: stable while the shift's schedule, person
// and start stay, and unique because one person has one shift at a time.
func eventUID(scheduleID string, sh Shift) string {
	sum := sha256.Sum256([]byte(scheduleID + "\x00" + sh.UserID + "\x00" + strconv.FormatInt(sh.Start.Unix(), 10)))
	return hex.EncodeToString(sum[:16]) + "@nightjar"
}

// icalTime formats an instant as an RFC 5545 UTC date-time.
func icalTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icalWriter builds an iCalendar document line by line.
type icalWriter struct{ b strings.Builder }

// maxLineOctets is RFC 5545's limit on a line's length, line break
// excluded.
const maxLineOctets = 75

// line writes a content line, folded: a line longer than 75 octets goes
// on over continuation lines that begin with a space. A fold never splits
// a UTF-8 sequence, nor an escape sequence from the character it escapes,
// which some calendar programs fail to join again.
func (w *icalWriter) line(name, value string) {
	content := name + ":" + value
	n := 0
	for i := 0; i < len(content); {
		size := 1
		if content[i] == '\\' && i+1 < len(content) {
			size = 2
		} else if content[i] >= utf8.RuneSelf {
			_, size = utf8.DecodeRuneInString(content[i:])
		}
		if n+size > maxLineOctets {
			w.b.WriteString("\r\n ")
			n = 1
		}
		w.b.WriteString(content[i : i+size])
		n += size
		i += size
	}
	w.b.WriteString("\r\n")
}

// text writes a property of type TEXT, escaped.
func (w *icalWriter) text(name, value string) { w.line(name, escapeText(value)) }

// escapeText escapes a TEXT value: backslashes, semicolons and commas are
// escaped and line breaks become \n. Other control characters, which TEXT
// may not hold, become spaces, and invalid UTF-8 becomes U+FFFD.
func escapeText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

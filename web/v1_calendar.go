package web

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/oncall"
)

// iCalendar feeds of on-call shifts, per schedule and per member, at a
// secret URL under /calendar/ that calendar programs poll without an API
// key. A read-write key makes a feed's URL, which is shown once; making
// a new one stops the old. A feed shows the shifts from a month ago to
// half a year ahead, people named by email address.

const (
	calendarPast   = 31 * 24 * time.Hour
	calendarFuture = 183 * 24 * time.Hour
)

func (s *Server) calendarURL(w http.ResponseWriter, r *http.Request, f incidents.CalendarFeed) error {
	token, err := s.incidents.NewCalendarToken(r.Context(), f, s.clock.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"url": s.cfg.BaseURL + "/calendar/" + token + ".ics"})
	return nil
}

// v1ScheduleCalendar makes a schedule's feed a new secret URL.
func (s *Server) v1ScheduleCalendar(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	sc, err := s.incidents.Schedules().Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	return "calendar feed of " + scheduleKind.target(sc), s.calendarURL(w, r, incidents.CalendarFeed{Kind: incidents.CalendarSchedule, ProjectID: k.ProjectID, ID: sc.ID})
}

// v1UserCalendar makes a member's feed, of their shifts in all the
// project's schedules, a new secret URL.
func (s *Server) v1UserCalendar(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	user, err := s.member(r, k)
	if err != nil {
		return "", err
	}
	return "calendar feed of user " + user, s.calendarURL(w, r, incidents.CalendarFeed{Kind: incidents.CalendarUser, ProjectID: k.ProjectID, ID: user})
}

// handleCalendar serves a feed by its token.
func (s *Server) handleCalendar(w http.ResponseWriter, r *http.Request) {
	if err := s.serveCalendar(w, r); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) serveCalendar(w http.ResponseWriter, r *http.Request) error {
	f, err := s.incidents.CalendarFeedOf(r.Context(), strings.TrimSuffix(r.PathValue("token"), ".ics"))
	if err != nil {
		return err
	}
	now := s.clock.Now()
	emails, err := s.incidents.MemberEmails(r.Context(), f.ProjectID)
	if err != nil {
		return err
	}
	opt := oncall.CalendarOptions{Stamp: now, UserName: func(id string) string {
		if e, ok := emails[id]; ok {
			return e
		}
		return id
	}}
	var list []*incidents.Schedule
	if f.Kind == incidents.CalendarSchedule {
		sc, err := s.incidents.Schedules().Get(r.Context(), f.ProjectID, f.ID)
		if err != nil {
			return err
		}
		list = []*incidents.Schedule{sc}
	} else {
		if list, err = s.incidents.Schedules().List(r.Context(), f.ProjectID); err != nil {
			return err
		}
		opt.UserID = f.ID
	}
	var docs [][]byte
	for _, sc := range list {
		c, err := sc.Compile()
		if err != nil {
			return err
		}
		opt.ScheduleID, opt.Name = sc.ID, sc.Name
		doc, err := c.ICalendar(now.Add(-calendarPast), now.Add(calendarFuture), opt)
		if err != nil {
			return err
		}
		docs = append(docs, doc)
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=300")
	if f.Kind == incidents.CalendarSchedule {
		_, _ = w.Write(docs[0])
		return nil
	}
	_, _ = w.Write(mergeCalendars("On call: "+opt.UserName(f.ID), docs))
	return nil
}

// mergeCalendars joins the events of several iCalendar documents made by
// oncall into one named document. Their lines are unfolded only by
// continuation lines, which begin with a space, so a line that is exactly
// BEGIN:VEVENT or END:VEVENT is always a real event boundary.
func mergeCalendars(name string, docs [][]byte) []byte {
	var events bytes.Buffer
	for _, doc := range docs {
		in := false
		for _, line := range strings.SplitAfter(string(doc), "\r\n") {
			if line == "BEGIN:VEVENT\r\n" {
				in = true
			}
			if in {
				events.WriteString(line)
			}
			if line == "END:VEVENT\r\n" {
				in = false
			}
		}
	}
	var out bytes.Buffer
	out.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nightjar//On-call schedule//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n")
	out.WriteString(foldICal("X-WR-CALNAME:" + escapeICal(name)))
	out.Write(events.Bytes())
	out.WriteString("END:VCALENDAR\r\n")
	return out.Bytes()
}

// escapeICal escapes iCalendar TEXT; names hold no line breaks.
func escapeICal(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

// foldICal folds a content line at 75 octets, between characters, with
// CRLF line ends.
func foldICal(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}

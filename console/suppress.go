package console

import (
	"time"

	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
)

func (c *Console) suppressionRoutes() {
	silences.register(c)
	maintenance.register(c)
}

// Silence and maintenance times are entered in UTC (silences) or in the
// window's zone (maintenance), to the minute.

var silences = &objectPages[incident.Silence]{
	path: "silences", title: "Silences",
	objects: (*incidents.Store).Silences,
	inputs:  []string{"matchers", "starts_at", "ends_at", "comment"},
	blank: func(now time.Time) *form {
		f := newForm()
		f.set("starts_at", now.UTC().Format(localInput))
		f.set("ends_at", now.UTC().Add(2*time.Hour).Format(localInput))
		return f
	},
	toForm: func(s *incident.Silence) *form {
		f := newForm()
		f.set("matchers", s.Matchers.String())
		f.set("starts_at", s.StartsAt.UTC().Format(localInput))
		f.set("ends_at", s.EndsAt.UTC().Format(localInput))
		f.set("comment", s.Comment)
		return f
	},
	fromForm: func(f *form, s *incident.Silence, who *view, _ time.Time) error {
		var err error
		if s.Matchers, err = parseMatchers("matchers", f.V("matchers")); err != nil {
			return err
		}
		if s.StartsAt, err = parseLocal("starts_at", f.V("starts_at"), time.UTC); err != nil {
			return err
		}
		if s.EndsAt, err = parseLocal("ends_at", f.V("ends_at"), time.UTC); err != nil {
			return err
		}
		s.Comment = f.V("comment")
		if s.CreatedBy == "" {
			s.CreatedBy = who.User.Email
		}
		return nil
	},
	id:   func(s *incident.Silence) string { return s.ID },
	name: func(s *incident.Silence) string { return s.Matchers.String() },
	expire: func(s *incident.Silence, now time.Time) bool {
		if !s.StartsAt.Before(now) {
			return false
		}
		if s.EndsAt.After(now) {
			s.EndsAt = now
		}
		return true
	},
}

var maintenance = &objectPages[incident.Maintenance]{
	path: "maintenance", title: "Maintenance windows",
	objects: (*incidents.Store).Maintenance,
	inputs:  []string{"name", "matchers", "window.start", "window.end", "window.schedule", "window.zone", "window.duration", "window"},
	blank: func(now time.Time) *form {
		f := newForm()
		f.set("window.zone", "UTC")
		f.set("window.start", now.UTC().Format(localInput))
		f.set("window.end", now.UTC().Add(time.Hour).Format(localInput))
		return f
	},
	toForm: func(m *incident.Maintenance) *form {
		f := newForm()
		loc := time.UTC
		if l, err := time.LoadLocation(m.Window.Zone); err == nil {
			loc = l
		}
		f.set("name", m.Name)
		f.set("matchers", m.Matchers.String())
		f.set("window.zone", loc.String())
		f.set("window.schedule", m.Window.Schedule)
		if m.Window.Duration > 0 {
			f.set("window.duration", m.Window.Duration.String())
		}
		if !m.Window.Start.IsZero() {
			f.set("window.start", m.Window.Start.In(loc).Format(localInput))
		}
		if !m.Window.End.IsZero() {
			f.set("window.end", m.Window.End.In(loc).Format(localInput))
		}
		return f
	},
	fromForm: func(f *form, m *incident.Maintenance, _ *view, _ time.Time) error {
		var err error
		m.Name = f.V("name")
		if m.Matchers, err = parseMatchers("matchers", f.V("matchers")); err != nil {
			return err
		}
		loc, err := zone("window.zone", f.V("window.zone"))
		if err != nil {
			return err
		}
		m.Window = incident.Window{Schedule: f.V("window.schedule")}
		if m.Window.Schedule != "" {
			m.Window.Zone = loc.String()
			if m.Window.Duration, err = parseDelay("window.duration", f.V("window.duration")); err != nil {
				return err
			}
		}
		for _, t := range []struct {
			field string
			to    *time.Time
		}{{"window.start", &m.Window.Start}, {"window.end", &m.Window.End}} {
			if s := f.V(t.field); s != "" {
				if *t.to, err = parseLocal(t.field, s, loc); err != nil {
					return err
				}
			}
		}
		return nil
	},
	id:   func(m *incident.Maintenance) string { return m.ID },
	name: func(m *incident.Maintenance) string { return m.Name },
	expire: func(m *incident.Maintenance, now time.Time) bool {
		if !m.Window.Start.IsZero() && !m.Window.Start.Before(now) {
			return false
		}
		m.Window.End = now
		return true
	},
}

package web

import (
	"context"
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
)

// What both APIs do to checks. They differ in how they read a check
// (checkinput.go) and how they show one (a checkView); creating, changing,
// deleting, pausing and resuming are the same.

// checkView writes a check as one API shows it to k, with the status.
type checkView func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, c *nightjar.Check, status int)

// checkTarget names a check in the audit log.
func checkTarget(c *nightjar.Check) string { return "check " + c.Name + " (" + c.ID + ")" }

// createCheckHandler creates a check, or updates the one a unique create
// finds, and shows it: 201 when created, 200 when updated.
func (s *Server) createCheckHandler(show checkView) checkHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, p *nightjar.CheckPatch) (string, error) {
		c, created, err := s.createCheck(r.Context(), k.ProjectID, p)
		if err != nil {
			return "", err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		show(w, r, k, c, status)
		return checkTarget(c), nil
	}
}

// updateCheckHandler changes the check the path names and shows it.
func (s *Server) updateCheckHandler(show checkView) checkHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey, p *nightjar.CheckPatch) (string, error) {
		c, err := s.updateCheck(r.Context(), k.ProjectID, r.PathValue("id"), p)
		if err != nil {
			return "", err
		}
		show(w, r, k, c, http.StatusOK)
		return checkTarget(c), nil
	}
}

// deleteCheckHandler deletes the check the path names and shows it as it
// was.
func (s *Server) deleteCheckHandler(show checkView) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		c, err := s.checks.Get(r.Context(), k.ProjectID, r.PathValue("id"))
		if err != nil {
			return "", err
		}
		if err := s.checks.Delete(r.Context(), k.ProjectID, c.ID, s.clock.Now()); err != nil {
			return "", err
		}
		show(w, r, k, c, http.StatusOK)
		return checkTarget(c), nil
	}
}

// pauseHandler pauses, or with resume resumes, the check the path names
// and shows it.
func (s *Server) pauseHandler(show checkView, resume bool) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		c, err := s.checks.SetPaused(r.Context(), k.ProjectID, r.PathValue("id"), !resume, s.clock.Now())
		if err != nil {
			return "", err
		}
		show(w, r, k, c, http.StatusOK)
		return checkTarget(c), nil
	}
}

// channelsFor loads the project's channels when p names some, for the
// patch to resolve them against.
func (s *Server) channelsFor(ctx context.Context, projectID string, p *nightjar.CheckPatch) ([]*nightjar.Channel, error) {
	if p.Channels == nil || p.Channels.All {
		return nil, nil
	}
	return s.channels.List(ctx, projectID)
}

// createCheck creates a check from p or, when p.Unique names settings and
// a check with the same values exists, updates that one instead
// (Healthchecks' upsert). It reports whether it created the check.
func (s *Server) createCheck(ctx context.Context, projectID string, p *nightjar.CheckPatch) (*nightjar.Check, bool, error) {
	channels, err := s.channelsFor(ctx, projectID, p)
	if err != nil {
		return nil, false, err
	}
	now := s.clock.Now()
	// The patch is applied, and so the unique settings are valid, before
	// they are looked up.
	c, err := p.NewCheck(projectID, channels, now)
	if err != nil {
		return nil, false, err
	}
	if len(p.Unique) == 0 {
		return c, true, s.checks.Create(ctx, c, now)
	}
	// Narrow the candidates in SQL where the unique settings allow it.
	f := checks.Filter{}
	for _, u := range p.Unique {
		switch u {
		case "name":
			f.Name = c.Name
		case "slug":
			f.Slug = c.Slug
		case "tags":
			f.Tags = c.Tags
		}
	}
	return s.checks.Upsert(ctx, c, f,
		func(e *nightjar.Check) bool { return p.MatchesUnique(e, c) },
		func(e *nightjar.Check) error { return p.Apply(e, channels, now) }, now)
}

// updateCheck applies p to one of the project's checks.
func (s *Server) updateCheck(ctx context.Context, projectID, id string, p *nightjar.CheckPatch) (*nightjar.Check, error) {
	channels, err := s.channelsFor(ctx, projectID, p)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	return s.checks.Update(ctx, projectID, id, now, func(c *nightjar.Check) error {
		return p.Apply(c, channels, now)
	})
}

package web

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
)

// Incidents over the API: listed with filters, read with their alerts and
// timeline, and acted on (acknowledge, resolve, escalate, reassign, set
// the commander, add notes, edit the postmortem). The decisions are the
// incident package's and the storage the incidents area's.
//
// An action's body may name the person acting, in "user" (a member of the
// project, by id or email address): a chat bot or a script acting for a
// responder says who, and the timeline records that person. Without it
// the timeline records the API key by name, and, as the incident package
// makes whoever acknowledges an unassigned incident its assignee, the
// key's name becomes the assignee: a script acknowledging for a person
// should name them.

// v1Incident is an incident as the API shows it.
type v1Incident struct {
	ID         string            `json:"id"`
	Number     int64             `json:"number"`
	Title      string            `json:"title"`
	Service    string            `json:"service"`
	Urgency    string            `json:"urgency"`
	Status     string            `json:"status"`
	Policy     string            `json:"policy"`
	Assignee   string            `json:"assignee"`
	Commander  string            `json:"commander"`
	CreatedAt  time.Time         `json:"created_at"`
	AckedAt    *time.Time        `json:"acknowledged_at"`
	ResolvedAt *time.Time        `json:"resolved_at"`
	NextStepAt *time.Time        `json:"next_escalation_at"`
	Responders []string          `json:"responders"`
	Alerts     []v1IncidentAlert `json:"alerts"`
	Timeline   []v1TimelineEntry `json:"timeline,omitempty"`
	URL        string            `json:"url"`
	Channels   []string          `json:"channels"`
}

type v1IncidentAlert struct {
	DedupKey   string     `json:"dedup_key"`
	Summary    string     `json:"summary"`
	Severity   string     `json:"severity"`
	Firing     bool       `json:"firing"`
	FiredAt    time.Time  `json:"fired_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

type v1TimelineEntry struct {
	ID       int64       `json:"id"`
	At       time.Time   `json:"at"`
	Kind     string      `json:"kind"`
	Actor    string      `json:"actor"`
	Text     string      `json:"text"`
	DedupKey string      `json:"dedup_key,omitempty"`
	Users    []string    `json:"users,omitempty"`
	Channels []string    `json:"channels,omitempty"`
	Delivery *v1Delivery `json:"delivery,omitempty"`
}

type v1Delivery struct {
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	SentAt    *time.Time `json:"sent_at"`
	// Bundled is how many notifications went out in one message with
	// this one, itself included; absent when it went alone.
	Bundled int `json:"bundled,omitempty"`
}

func (s *Server) toV1Incident(inc *incident.Incident) v1Incident {
	out := v1Incident{ID: inc.ID, Number: inc.Number, Title: inc.Title, Service: inc.Service, Urgency: string(inc.Urgency),
		Status: string(inc.Status), Policy: inc.Policy, Assignee: inc.Assignee, Commander: inc.Commander, CreatedAt: inc.CreatedAt,
		AckedAt: timePtr(inc.AckedAt), ResolvedAt: timePtr(inc.ResolvedAt), NextStepAt: timePtr(inc.Escalation.Next),
		Responders: nonNilStrings(inc.Responders), Channels: nonNilStrings(inc.Channels), Alerts: []v1IncidentAlert{},
		URL: s.cfg.BaseURL + "/api/v1/incidents/" + inc.ID}
	for _, a := range inc.Alerts {
		out.Alerts = append(out.Alerts, v1IncidentAlert{DedupKey: a.DedupKey, Summary: a.Summary, Severity: string(a.Severity),
			Firing: a.Firing, FiredAt: a.FiredAt, ResolvedAt: timePtr(a.ResolvedAt)})
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// incidentStatuses are what the list's status filter takes: a status, or
// open for every one not resolved.
var incidentStatuses = []string{string(incident.Triggered), string(incident.Acknowledged), string(incident.Resolved), "open"}

func (s *Server) v1ListIncidents(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	q := r.URL.Query()
	f := incidents.IncidentFilter{Service: q.Get("service")}
	if !nightjar.ValidText(f.Service) {
		return nightjar.TextFieldError("service")
	}
	switch st := q.Get("status"); st {
	case "":
	case "open":
		f.Open = true
	case string(incident.Triggered), string(incident.Acknowledged), string(incident.Resolved):
		f.Status = incident.Status(st)
	default:
		return nightjar.FieldError("status", "must be one of triggered, acknowledged, resolved, open")
	}
	var err error
	if f.Limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
		return err
	}
	incs, err := s.incidents.Incidents(r.Context(), k.ProjectID, f)
	if err != nil {
		return err
	}
	out := make([]v1Incident, len(incs))
	for i, inc := range incs {
		out[i] = s.toV1Incident(inc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
	return nil
}

// incidentOf finds the key's project's incident the path names, by id or
// by the number people know it by.
func (s *Server) incidentOf(r *http.Request, k *nightjar.APIKey) (*incident.Incident, error) {
	ref := r.PathValue("id")
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		return s.incidents.IncidentByNumber(r.Context(), k.ProjectID, n)
	}
	return s.incidents.Incident(r.Context(), k.ProjectID, ref)
}

func (s *Server) v1GetIncident(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	inc, err := s.incidentOf(r, k)
	if err != nil {
		return err
	}
	tl, err := s.incidents.Timeline(r.Context(), k.ProjectID, inc.ID)
	if err != nil {
		return err
	}
	out := s.toV1Incident(inc)
	out.Timeline = []v1TimelineEntry{}
	for _, e := range tl {
		te := v1TimelineEntry{ID: e.ID, At: e.At, Kind: string(e.Kind), Actor: e.Actor, Text: e.Text, DedupKey: e.DedupKey, Users: e.Users, Channels: e.Channels}
		if d := e.Delivery; d != nil {
			te.Delivery = &v1Delivery{Status: d.Status, Attempts: d.Attempts, LastError: d.LastError, SentAt: timePtr(d.SentAt), Bundled: d.Bundled}
		}
		out.Timeline = append(out.Timeline, te)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// v1ActionInput is an incident action's body; every field is optional,
// and so is the body.
type v1ActionInput struct {
	// User is the person acting (see above).
	User string `json:"user"`
	// Assignee and Commander are the people reassign and commander set,
	// by id or email; "" for nobody.
	Assignee *string `json:"assignee"`
	// Commander is the person commander sets.
	Commander *string `json:"commander"`
	// Text is a note's, or a postmortem's.
	Text *string `json:"text"`
}

// decodeAction reads an action's optional body and tells who acts.
func (s *Server) decodeAction(r *http.Request, k *nightjar.APIKey) (v1ActionInput, string, error) {
	var in v1ActionInput
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return in, "", nightjar.Errorf(nightjar.EINVALID, "request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(b)) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err := decodeJSON(r, &in); err != nil {
			return in, "", err
		}
	}
	if in.User == "" {
		return in, "api key " + k.Name, nil
	}
	actor, err := s.incidents.Resolver(r.Context(), k.ProjectID)(incident.RefUser, "user", in.User)
	return in, actor, err
}

// person resolves an optional reference to a member ("" for nobody).
func (s *Server) person(r *http.Request, k *nightjar.APIKey, field string, ref *string) (string, error) {
	if ref == nil {
		return "", nightjar.FieldError(field, "is required; give \"\" for nobody")
	}
	if *ref == "" {
		return "", nil
	}
	return s.incidents.Resolver(r.Context(), k.ProjectID)(incident.RefUser, field, *ref)
}

// incidentAction wraps one of the incidents area's actions as a change
// handler that answers with the incident as it now is.
func (s *Server) incidentAction(act func(r *http.Request, k *nightjar.APIKey, in v1ActionInput, inc *incident.Incident, actor string) error) changeHandler {
	return func(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
		inc, err := s.incidentOf(r, k)
		if err != nil {
			return "", err
		}
		in, actor, err := s.decodeAction(r, k)
		if err != nil {
			return "", err
		}
		if err := act(r, k, in, inc, actor); err != nil {
			return "", err
		}
		if inc, err = s.incidents.Incident(r.Context(), k.ProjectID, inc.ID); err != nil {
			return "", err
		}
		writeJSON(w, http.StatusOK, s.toV1Incident(inc))
		return "incident #" + strconv.FormatInt(inc.Number, 10) + " (" + inc.ID + ")", nil
	}
}

func (s *Server) v1AcknowledgeIncident() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, _ v1ActionInput, inc *incident.Incident, actor string) error {
		_, err := s.incidents.Acknowledge(r.Context(), k.ProjectID, inc.ID, actor, s.clock.Now())
		return err
	})
}

func (s *Server) v1ResolveIncident() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, _ v1ActionInput, inc *incident.Incident, actor string) error {
		_, err := s.incidents.Resolve(r.Context(), k.ProjectID, inc.ID, actor, s.clock.Now())
		return err
	})
}

func (s *Server) v1EscalateIncident() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, _ v1ActionInput, inc *incident.Incident, actor string) error {
		_, err := s.incidents.Escalate(r.Context(), k.ProjectID, inc.ID, actor, s.clock.Now())
		return err
	})
}

func (s *Server) v1ReassignIncident() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, in v1ActionInput, inc *incident.Incident, actor string) error {
		user, err := s.person(r, k, "assignee", in.Assignee)
		if err != nil {
			return err
		}
		_, err = s.incidents.Reassign(r.Context(), k.ProjectID, inc.ID, user, actor, s.clock.Now())
		return err
	})
}

func (s *Server) v1SetIncidentCommander() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, in v1ActionInput, inc *incident.Incident, actor string) error {
		user, err := s.person(r, k, "commander", in.Commander)
		if err != nil {
			return err
		}
		_, err = s.incidents.SetCommander(r.Context(), k.ProjectID, inc.ID, user, actor, s.clock.Now())
		return err
	})
}

func (s *Server) v1AddIncidentNote() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, in v1ActionInput, inc *incident.Incident, actor string) error {
		if in.Text == nil {
			return nightjar.FieldError("text", "is required")
		}
		return s.incidents.AddNote(r.Context(), k.ProjectID, inc.ID, actor, *in.Text, s.clock.Now())
	})
}

func (s *Server) v1SavePostmortem() changeHandler {
	return s.incidentAction(func(r *http.Request, k *nightjar.APIKey, in v1ActionInput, inc *incident.Incident, actor string) error {
		if in.Text == nil {
			return nightjar.FieldError("text", "is required")
		}
		return s.incidents.SavePostmortem(r.Context(), k.ProjectID, inc.ID, actor, *in.Text, s.clock.Now())
	})
}

// v1Postmortem answers with the incident's postmortem: the saved text, or
// a draft from its timeline with times in ?tz (UTC by default).
// ?format=md exports the Markdown itself.
func (s *Server) v1Postmortem(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	loc := time.UTC
	if tz := r.URL.Query().Get("tz"); tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			return nightjar.FieldError("tz", "must be an IANA time zone name such as Europe/Berlin")
		}
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "md" && format != "json" {
		return nightjar.FieldError("format", "must be md or json")
	}
	inc, err := s.incidentOf(r, k)
	if err != nil {
		return err
	}
	pm, err := s.incidents.Postmortem(r.Context(), k.ProjectID, inc.ID, loc, s.clock.Now())
	if err != nil {
		return err
	}
	if format == "md" {
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		w.Header().Set("Content-Disposition", "attachment; filename=\"incident-"+strconv.FormatInt(inc.Number, 10)+"-postmortem.md\"")
		_, _ = w.Write([]byte(pm.Text))
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"text": pm.Text, "saved": pm.Saved, "updated_at": timePtr(pm.UpdatedAt), "updated_by": pm.UpdatedBy})
	return nil
}

package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/checks"
)

// Nightjar's own API: every setting and state field, durations in seconds,
// times in RFC 3339. Described in /api/openapi.json. Each resource has its
// file (v1_checks.go, v1_pings.go, v1_channels.go, …); this one holds the
// route table and what they share.
func (s *Server) routesV1() {
	s.mux.HandleFunc("GET /api/v1/checks", s.read(s.v1ListChecks))
	s.mux.HandleFunc("POST /api/v1/checks", s.changeCheck(false, s.createCheckHandler(s.writeV1Check)))
	s.mux.HandleFunc("GET /api/v1/checks/{id}", s.read(s.v1GetCheck))
	s.mux.HandleFunc("PATCH /api/v1/checks/{id}", s.changeCheck(false, s.updateCheckHandler(s.writeV1Check)))
	s.mux.HandleFunc("DELETE /api/v1/checks/{id}", s.change(s.deleteCheckHandler(noContent)))
	s.mux.HandleFunc("POST /api/v1/checks/{id}/pause", s.change(s.pauseHandler(s.writeV1Check, false)))
	s.mux.HandleFunc("POST /api/v1/checks/{id}/resume", s.change(s.pauseHandler(s.writeV1Check, true)))
	s.mux.HandleFunc("GET /api/v1/checks/{id}/pings", s.read(s.v1Pings))
	s.mux.HandleFunc("GET /api/v1/checks/{id}/pings/{n}/body", s.read(s.v3PingBody))
	s.mux.HandleFunc("GET /api/v1/checks/{id}/flips", s.read(s.v1Flips))
	s.mux.HandleFunc("GET /api/v1/schedule/preview", s.v1SchedulePreview)
	s.mux.HandleFunc("GET /api/v1/channels", s.readRW(s.v1ListChannels))
	s.mux.HandleFunc("GET /api/v1/channel-kinds", s.read(s.v1ChannelKinds))
	s.mux.HandleFunc("POST /api/v1/channels", s.change(s.v1CreateChannel))
	s.mux.HandleFunc("PATCH /api/v1/channels/{id}", s.change(s.v1UpdateChannel))
	s.mux.HandleFunc("DELETE /api/v1/channels/{id}", s.change(s.v1DeleteChannel))
	s.mux.HandleFunc("POST /api/v1/channels/{id}/test", s.change(s.v1TestChannel))
	s.mux.HandleFunc("GET /api/v1/notifications/{id}", s.read(s.v1Notification))
	s.mux.HandleFunc("GET /api/v1/alerts", s.read(s.v1Alerts))
	s.mux.HandleFunc("GET /api/v1/integration-keys", s.readRW(s.v1ListIntegrationKeys))
	s.mux.HandleFunc("POST /api/v1/integration-keys", s.change(s.v1CreateIntegrationKey))
	s.mux.HandleFunc("DELETE /api/v1/integration-keys/{id}", s.change(s.v1RevokeIntegrationKey))
	s.mux.HandleFunc("POST /api/v1/integrations/{key}/alertmanager", s.v1AlertmanagerWebhook)
	s.mux.HandleFunc("POST /api/v1/events/v2/enqueue", s.v1EnqueueEvent)
	s.mux.HandleFunc("POST /api/v1/change/enqueue", s.v1EnqueueChange)
	s.mux.HandleFunc("POST /api/v1/changes", s.change(s.v1RecordChange))
	s.mux.HandleFunc("POST /api/v1/events", s.handleEvents)
	s.mux.HandleFunc("GET /api/v1/slos", s.read(s.v1ListSLOs))
	s.mux.HandleFunc("POST /api/v1/slos", s.change(s.v1CreateSLO))
	s.mux.HandleFunc("GET /api/v1/slos/{id}", s.read(s.v1GetSLO))
	s.mux.HandleFunc("PATCH /api/v1/slos/{id}", s.change(s.v1UpdateSLO))
	s.mux.HandleFunc("DELETE /api/v1/slos/{id}", s.change(s.v1DeleteSLO))
	s.mux.HandleFunc("GET /api/v1/slos/{id}/status", s.read(s.v1SLOStatus))
	s.mux.HandleFunc("GET /api/v1/bad-time", s.read(s.v1BadTime))
	s.routesV1Incidents()
}

// routesV1Incidents are the incident response routes: the objects people
// configure (see v1_incident_config.go), schedules' questions, routes and
// incidents.
func (s *Server) routesV1Incidents() {
	serviceKind.routes(s, "/api/v1/services")
	s.mux.HandleFunc("GET /api/v1/services/{id}/changes", s.read(s.v1ServiceChanges))
	teamKind.routes(s, "/api/v1/teams")
	s.mux.HandleFunc("POST /api/v1/teams/{id}/members", s.change(s.v1AddTeamMember))
	s.mux.HandleFunc("DELETE /api/v1/teams/{id}/members/{user}", s.change(s.v1RemoveTeamMember))
	policyKind.routes(s, "/api/v1/escalation-policies")
	scheduleKind.routes(s, "/api/v1/schedules")
	s.mux.HandleFunc("GET /api/v1/schedules/{id}/on-call", s.read(s.v1OnCall))
	s.mux.HandleFunc("GET /api/v1/schedules/{id}/shifts", s.read(s.v1Shifts))
	s.mux.HandleFunc("GET /api/v1/schedules/{id}/handoffs", s.read(s.v1Handoffs))
	s.mux.HandleFunc("POST /api/v1/schedules/{id}/overrides", s.change(s.v1AddOverride))
	s.mux.HandleFunc("DELETE /api/v1/schedules/{id}/overrides/{n}", s.change(s.v1RemoveOverride))
	s.mux.HandleFunc("GET /api/v1/routes", s.read(s.v1Routes))
	s.mux.HandleFunc("PUT /api/v1/routes", s.change(s.v1SetRoutes))
	silenceKind.routes(s, "/api/v1/silences")
	s.mux.HandleFunc("POST /api/v1/silences/{id}/expire", s.change(s.v1ExpireSilence))
	maintenanceKind.routes(s, "/api/v1/maintenance-windows")
	s.mux.HandleFunc("GET /api/v1/incidents", s.read(s.v1ListIncidents))
	s.mux.HandleFunc("GET /api/v1/incidents/{id}", s.read(s.v1GetIncident))
	s.mux.HandleFunc("POST /api/v1/incidents/{id}/acknowledge", s.change(s.v1AcknowledgeIncident()))
	s.mux.HandleFunc("POST /api/v1/incidents/{id}/resolve", s.change(s.v1ResolveIncident()))
	s.mux.HandleFunc("POST /api/v1/incidents/{id}/escalate", s.change(s.v1EscalateIncident()))
	s.mux.HandleFunc("POST /api/v1/incidents/{id}/reassign", s.change(s.v1ReassignIncident()))
	s.mux.HandleFunc("POST /api/v1/incidents/{id}/commander", s.change(s.v1SetIncidentCommander()))
	s.mux.HandleFunc("POST /api/v1/incidents/{id}/notes", s.change(s.v1AddIncidentNote()))
	s.mux.HandleFunc("GET /api/v1/incidents/{id}/postmortem", s.read(s.v1Postmortem))
	s.mux.HandleFunc("PUT /api/v1/incidents/{id}/postmortem", s.change(s.v1SavePostmortem()))
	s.mux.HandleFunc("GET /api/v1/users/{user}/contact-methods", s.readRW(s.v1ContactMethods))
	s.mux.HandleFunc("POST /api/v1/users/{user}/contact-methods", s.change(s.v1CreateContactMethod))
	s.mux.HandleFunc("PUT /api/v1/users/{user}/contact-methods/{id}", s.change(s.v1UpdateContactMethod))
	s.mux.HandleFunc("DELETE /api/v1/users/{user}/contact-methods/{id}", s.change(s.v1DeleteContactMethod))
	s.mux.HandleFunc("POST /api/v1/users/{user}/contact-methods/{id}/send-code", s.change(s.v1SendCode))
	s.mux.HandleFunc("POST /api/v1/users/{user}/contact-methods/{id}/verify", s.change(s.v1VerifyContactMethod))
	s.mux.HandleFunc("GET /api/v1/users/{user}/notification-rules", s.readRW(s.v1NotificationRules))
	s.mux.HandleFunc("POST /api/v1/users/{user}/notification-rules", s.change(s.v1CreateNotificationRule))
	s.mux.HandleFunc("DELETE /api/v1/users/{user}/notification-rules/{id}", s.change(s.v1DeleteNotificationRule))
	s.mux.HandleFunc("POST /api/v1/schedules/{id}/calendar-feed", s.change(s.v1ScheduleCalendar))
	s.mux.HandleFunc("POST /api/v1/users/{user}/calendar-feed", s.change(s.v1UserCalendar))
	// The feeds themselves, outside the API: calendar programs send no key.
	s.mux.HandleFunc("GET /calendar/{token}", s.handleCalendar)
}

// timePtr is t for JSON, or nil (null) for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// checkFilter reads the tag and slug filters that both APIs' check lists
// take. A filter that is not valid text could match nothing, and says so.
func checkFilter(r *http.Request) (checks.Filter, error) {
	q := r.URL.Query()
	f := checks.Filter{Tags: q["tag"], Slug: q.Get("slug")}
	if !nightjar.ValidText(f.Slug) {
		return f, nightjar.TextFieldError("slug")
	}
	for _, t := range f.Tags {
		if !nightjar.ValidText(t) {
			return f, nightjar.TextFieldError("tag")
		}
	}
	return f, nil
}

// checkIDFor is how a check's id is shown to k: as is to read-write keys,
// left out for read-only ones, which address checks by unique key.
func checkIDFor(k *nightjar.APIKey, id string) string {
	if k.ReadOnly() {
		return ""
	}
	return id
}

// intParam reads a whole-number query parameter between lo and hi, def
// when it is absent.
// pageParams reads a paged list's limit (500 unless given, at most 1000)
// and offset.
func pageParams(r *http.Request) (limit, offset int, err error) {
	if limit, err = intParam(r, "limit", 500, 1, 1000); err != nil {
		return 0, 0, err
	}
	if offset, err = intParam(r, "offset", 0, 0, 1<<30); err != nil {
		return 0, 0, err
	}
	return limit, offset, nil
}

// nextPage trims a page read with one row more than limit to limit and,
// when that row was there, tells the client where the next page starts.
func nextPage[T any](list []T, limit, offset int, body map[string]any) []T {
	if len(list) > limit {
		list = list[:limit]
		body["next_offset"] = offset + limit
	}
	return list
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, nightjar.FieldError(name, "must be a whole number from %d to %d", lo, hi)
	}
	return n, nil
}

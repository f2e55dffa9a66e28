package web

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"

	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
)

// The one-click links in incident notifications. A GET shows the incident
// and a button and changes nothing, so that the link scanners of mail
// services, which open every link, acknowledge nothing; the button POSTs
// to the same URL. A used or expired link says so and offers the console.

//go:embed templates/ack.html
var ackFS embed.FS

var ackPage = template.Must(template.ParseFS(ackFS, "templates/ack.html"))

// ackView is what the link page shows.
type ackView struct {
	Title      string
	Incident   *incident.Incident
	Message    string
	Button     string
	ConsoleURL string
}

func (s *Server) routesAck() {
	if s.incidents == nil {
		return
	}
	s.mux.HandleFunc("GET /ack/{token}", s.handleAckPage)
	s.mux.HandleFunc("POST /ack/{token}", s.handleAckUse)
}

var actionButtons = map[string]string{incidents.ActionAcknowledge: "Acknowledge", incidents.ActionResolve: "Resolve"}

func (s *Server) handleAckPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := ackView{Title: "Incident link", ConsoleURL: s.consoleURL()}
	l, state, err := s.incidents.CheckLink(ctx, r.PathValue("token"), s.clock.Now())
	if err != nil {
		s.writeAckError(w, r, v, err)
		return
	}
	if v.Incident, err = s.incidents.Incident(ctx, l.ProjectID, l.IncidentID); err != nil {
		s.writeAckError(w, r, v, err)
		return
	}
	switch state {
	case incidents.LinkUsed:
		v.Message = "This link has been used already."
	case incidents.LinkExpired:
		v.Message = "This link has expired. Open the console to act on the incident."
	default:
		v.Button = fmt.Sprintf("%s incident #%d", actionButtons[l.Action], v.Incident.Number)
	}
	v.Title = fmt.Sprintf("%s incident #%d", actionButtons[l.Action], v.Incident.Number)
	s.writeAck(w, http.StatusOK, v)
}

func (s *Server) handleAckUse(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := ackView{Title: "Incident link", ConsoleURL: s.consoleURL()}
	l, err := s.incidents.UseLink(ctx, r.PathValue("token"), s.clock.Now())
	if l.IncidentID != "" {
		v.Incident, _ = s.incidents.Incident(ctx, l.ProjectID, l.IncidentID)
	}
	if err != nil {
		s.writeAckError(w, r, v, err)
		return
	}
	v.Title = "Done"
	if v.Incident != nil {
		v.Title = fmt.Sprintf("Incident #%d is %s", v.Incident.Number, v.Incident.Status)
	}
	v.Message = "Thank you. The incident's timeline records it."
	s.writeAck(w, http.StatusOK, v)
}

// writeAckError shows what went wrong on the link page: the user-safe
// message, or a generic one for an internal error, which is logged.
func (s *Server) writeAckError(w http.ResponseWriter, r *http.Request, v ackView, err error) {
	status, msg := s.errorAnswer(r, err)
	v.Message = msg + "."
	s.writeAck(w, status, v)
}

func (s *Server) writeAck(w http.ResponseWriter, status int, v ackView) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The token is in the URL: no page it links to may see it.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = ackPage.Execute(w, v)
}

// consoleURL is where the link page sends people to act in the console.
func (s *Server) consoleURL() string {
	if s.cfg.BaseURL == "" {
		return "/"
	}
	return s.cfg.BaseURL + "/"
}

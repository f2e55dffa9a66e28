package web

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
)

// Service level objectives over the API. An objective is sent as
// slo.Definition's JSON, the same shape the configuration file's slos take,
// and answered with its id and times beside it; PATCH sends the fields to
// change (nested objects merge, lists replace). Every definition is judged
// by slo.Definition.Validate, so the API, apply and the console agree.

// sloJSON is an objective as the API shows it.
type sloJSON struct {
	ID string `json:"id"`
	slo.Definition
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toSLOJSON(o *slos.SLO) sloJSON {
	return sloJSON{ID: o.ID, Definition: o.Definition, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// sloListedJSON is an objective in the list, with what its last
// evaluation decided.
type sloListedJSON struct {
	sloJSON
	Evaluation *sloEvaluationJSON `json:"evaluation"`
	sourceErrorJSON
}

// sourceErrorJSON is why the last read of a Prometheus objective's counts
// failed, by whichever replica made it, and when; left out once a read
// succeeds. Its evaluation waits for a good read.
type sourceErrorJSON struct {
	SourceError   string     `json:"source_error,omitempty"`
	SourceErrorAt *time.Time `json:"source_error_at,omitempty"`
}

func toSourceErrorJSON(msg string, at time.Time) sourceErrorJSON {
	if msg == "" {
		return sourceErrorJSON{}
	}
	return sourceErrorJSON{SourceError: msg, SourceErrorAt: &at}
}

// sloEvaluationJSON is an objective's last evaluation in brief; the
// status endpoint has the whole of it, now.
type sloEvaluationJSON struct {
	At        time.Time                       `json:"at"`
	Requests  uint64                          `json:"requests"`
	Bad       uint64                          `json:"bad_requests"`
	Remaining float64                         `json:"budget_remaining"`
	BurnRate  float64                         `json:"burn_rate"`
	Firing    map[nightjar.Severity]time.Time `json:"firing"`
}

// v1ListSLOs lists a page of the project's objectives with their last
// evaluations, read in one query however many there are.
func (s *Server) v1ListSLOs(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	limit, offset, err := pageParams(r)
	if err != nil {
		return err
	}
	list, err := s.slos.ListEvaluated(r.Context(), k.ProjectID, limit+1, offset)
	if err != nil {
		return err
	}
	body := map[string]any{}
	list = nextPage(list, limit, offset, body)
	out := make([]sloListedJSON, len(list))
	for i, e := range list {
		out[i] = sloListedJSON{sloJSON: toSLOJSON(e.SLO), sourceErrorJSON: toSourceErrorJSON(e.SourceError, e.SourceErrorAt)}
		if d := e.Decision; d != nil {
			out[i].Evaluation = &sloEvaluationJSON{At: d.At, Requests: d.Budget.Counts.Total, Bad: d.Budget.Counts.Bad(),
				Remaining: d.Budget.Remaining, BurnRate: d.BurnRate, Firing: e.Firing}
		}
	}
	body["slos"] = out
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) v1GetSLO(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	o, err := s.slos.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toSLOJSON(o))
	return nil
}

func (s *Server) v1CreateSLO(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	var d slo.Definition
	if err := decodeJSON(r, &d); err != nil {
		return "", err
	}
	o := &slos.SLO{ProjectID: k.ProjectID, Definition: d}
	if err := s.slos.Create(r.Context(), o, s.clock.Now()); err != nil {
		return "", err
	}
	s.refreshIngest(r)
	writeJSON(w, http.StatusCreated, toSLOJSON(o))
	return o.Name(), nil
}

// v1UpdateSLO merges the body's fields into the stored definition, in the
// transaction that saves it.
func (s *Server) v1UpdateSLO(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err != nil {
		return "", nightjar.Errorf(nightjar.EINVALID, "request body is larger than 1 MiB or could not be read")
	}
	o, err := s.slos.Edit(r.Context(), k.ProjectID, r.PathValue("id"), s.clock.Now(), func(d *slo.Definition) error {
		again := r.Clone(r.Context())
		again.Body = io.NopCloser(bytes.NewReader(body))
		return decodeJSON(again, d)
	})
	if err != nil {
		return "", err
	}
	s.refreshIngest(r)
	writeJSON(w, http.StatusOK, toSLOJSON(o))
	return o.Name(), nil
}

func (s *Server) v1DeleteSLO(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) (string, error) {
	o, err := s.slos.Get(r.Context(), k.ProjectID, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	if err := s.slos.Delete(r.Context(), k.ProjectID, o.ID, s.clock.Now()); err != nil {
		return "", err
	}
	s.refreshIngest(r)
	w.WriteHeader(http.StatusNoContent)
	return o.Name(), nil
}

// refreshIngest makes ingest count by the objectives as they are now,
// rather than at the next flush. A failure is logged: the flush retries.
func (s *Server) refreshIngest(r *http.Request) {
	if s.RefreshIngest == nil {
		return
	}
	if err := s.RefreshIngest(r.Context()); err != nil {
		s.log.Warn("refresh ingest objectives", "request_id", requestID(r.Context()), "err", err)
	}
}

// sloStatusJSON is an objective's figures now.
type sloStatusJSON struct {
	SLO         sloJSON                         `json:"slo"`
	At          time.Time                       `json:"at"`
	WindowStart time.Time                       `json:"window_start"`
	WindowEnd   time.Time                       `json:"window_end"`
	Requests    uint64                          `json:"requests"`
	Bad         uint64                          `json:"bad_requests"`
	Consumed    float64                         `json:"budget_consumed"`
	Remaining   float64                         `json:"budget_remaining"`
	BurnRate    float64                         `json:"burn_rate"`
	Exhaustion  *float64                        `json:"time_to_exhaustion_seconds"`
	Rules       []ruleJSON                      `json:"rules"`
	Firing      map[nightjar.Severity]time.Time `json:"firing"`
	UserUptime  *float64                        `json:"user_uptime"`
	Windowed    []windowedJSON                  `json:"windowed_user_uptime"`
	// UsersActive and UsersDown are the customers who made a request in
	// the last five minutes and those of them whose last request failed,
	// as every replica counted them (see slos.Service.BadTimeNow).
	UsersActive int `json:"users_active"`
	UsersDown   int `json:"users_down"`
	sourceErrorJSON
}

type ruleJSON struct {
	Severity    nightjar.Severity `json:"severity"`
	LongWindow  string            `json:"long_window"`
	ShortWindow string            `json:"short_window"`
	Threshold   float64           `json:"threshold"`
	LongBurn    float64           `json:"long_burn_rate"`
	ShortBurn   float64           `json:"short_burn_rate"`
	Firing      bool              `json:"firing"`
	Held        string            `json:"held,omitempty"`
}

type windowedJSON struct {
	WindowMinutes int       `json:"window_minutes"`
	Min           float64   `json:"min"`
	At            time.Time `json:"at"`
}

func (s *Server) v1SLOStatus(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	now := s.clock.Now()
	o, st, err := s.slos.Status(r.Context(), k.ProjectID, r.PathValue("id"), now)
	if err != nil {
		return err
	}
	d := &st.Decision
	out := sloStatusJSON{SLO: toSLOJSON(o), At: d.At, WindowStart: d.Budget.Start, WindowEnd: d.Budget.End,
		Requests: d.Budget.Counts.Total, Bad: d.Budget.Counts.Bad(), Consumed: d.Budget.Consumed, Remaining: d.Budget.Remaining,
		BurnRate: d.BurnRate, Rules: []ruleJSON{}, Firing: st.Firing, Windowed: []windowedJSON{}}
	if d.Exhausts {
		secs := d.TimeToExhaustion.Seconds()
		out.Exhaustion = &secs
	}
	for _, rs := range d.Rules {
		out.Rules = append(out.Rules, ruleJSON{Severity: rs.Severity, LongWindow: rs.LongWindow.String(), ShortWindow: rs.ShortWindow.String(),
			Threshold: rs.Threshold, LongBurn: rs.LongBurn, ShortBurn: rs.ShortBurn, Firing: rs.Firing, Held: rs.Held})
	}
	if ratio, ok := st.UserTime.Ratio(); ok {
		out.UserUptime = &ratio
	}
	for _, p := range st.Windowed {
		if p.OK {
			out.Windowed = append(out.Windowed, windowedJSON{WindowMinutes: int(p.Window / time.Minute), Min: p.Min, At: p.At})
		}
	}
	out.sourceErrorJSON = toSourceErrorJSON(st.SourceError, st.SourceErrorAt)
	bt, err := s.slos.BadTimeOf(r.Context(), k.ProjectID, o.ID, now)
	if err != nil {
		return err
	}
	out.UsersActive, out.UsersDown = bt.Active, bt.Down
	writeJSON(w, http.StatusOK, out)
	return nil
}

// badTimeJSON is a project's customers having a bad time now.
type badTimeJSON struct {
	At            time.Time            `json:"at"`
	RecentSeconds int                  `json:"recent_seconds"`
	Services      []serviceBadTimeJSON `json:"services"`
	SLOs          []sloBadTimeJSON     `json:"slos"`
}

type serviceBadTimeJSON struct {
	Service     string `json:"service"`
	UsersActive int    `json:"users_active"`
	UsersDown   int    `json:"users_down"`
}

type sloBadTimeJSON struct {
	ID          string `json:"id"`
	Service     string `json:"service"`
	Name        string `json:"name"`
	UsersActive int    `json:"users_active"`
	UsersDown   int    `json:"users_down"`
}

func (s *Server) v1BadTime(w http.ResponseWriter, r *http.Request, k *nightjar.APIKey) error {
	now := s.clock.Now()
	rep, err := s.slos.BadTimeReport(r.Context(), k.ProjectID, now)
	if err != nil {
		return err
	}
	out := badTimeJSON{At: now, RecentSeconds: int(slos.BadTimeRecent / time.Second), Services: []serviceBadTimeJSON{}, SLOs: []sloBadTimeJSON{}}
	for _, b := range rep.Services {
		out.Services = append(out.Services, serviceBadTimeJSON{Service: b.Service, UsersActive: b.Active, UsersDown: b.Down})
	}
	for _, b := range rep.SLOs {
		out.SLOs = append(out.SLOs, sloBadTimeJSON{ID: b.SLO.ID, Service: b.SLO.Definition.Service, Name: b.SLO.Definition.Name, UsersActive: b.Active, UsersDown: b.Down})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

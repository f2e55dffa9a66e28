package webhook

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/nightjar-dev/nightjar/notify"
)

// Payload is the JSON document a webhook receives. It is exported so
// receivers written in Go decode exactly what Nightjar encodes; the package
// documentation describes each field.
type Payload struct {
	Version    int          `json:"version"`
	ID         string       `json:"id"`
	Event      string       `json:"event"`
	ProjectID  string       `json:"project_id"`
	Alert      PayloadAlert `json:"alert"`
	ConsoleURL string       `json:"console_url"`
	CreatedAt  time.Time    `json:"created_at"`
}

// PayloadAlert is the "alert" object of a Payload.
type PayloadAlert struct {
	DedupKey string            `json:"dedup_key"`
	Service  string            `json:"service"`
	Severity string            `json:"severity"`
	Summary  string            `json:"summary"`
	Details  map[string]string `json:"details"`
	Status   string            `json:"status"`
	StartsAt time.Time         `json:"starts_at"`
	// EndsAt is nil while the alert fires.
	EndsAt *time.Time `json:"ends_at"`
}

// NewPayload converts a message into the payload sent for it. Times are
// turned into UTC with whole seconds so the encoding is the same however
// the message was built, and details are never null.
func NewPayload(msg notify.Message) Payload {
	a := msg.Alert
	details := a.Details
	if details == nil {
		details = map[string]string{}
	}
	p := Payload{
		Version:   SchemaVersion,
		ID:        msg.ID,
		Event:     msg.Event,
		ProjectID: msg.ProjectID,
		Alert: PayloadAlert{
			DedupKey: a.DedupKey,
			Service:  a.Service,
			Severity: a.Severity,
			Summary:  a.Summary,
			Details:  details,
			Status:   a.Status,
			StartsAt: normTime(a.StartsAt),
		},
		ConsoleURL: msg.ConsoleURL,
		CreatedAt:  normTime(msg.CreatedAt),
	}
	if !a.EndsAt.IsZero() {
		t := normTime(a.EndsAt)
		p.Alert.EndsAt = &t
	}
	return p
}

// Encode returns the request body for msg: the JSON encoding of its
// Payload, without HTML escaping so receivers see text as written. The
// output depends only on msg, so a retried message is signed over the same
// bytes.
func Encode(msg notify.Message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(NewPayload(msg)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}

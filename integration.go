package nightjar

import "time"

// IntegrationKey lets another monitoring system send alerts to a project:
// Alertmanager puts it in its webhook URL, a PagerDuty-style sender sends
// it as the event's routing_key. A key belongs to one service, by name
// (the same string a check's service field holds), which the alerts it
// brings in are for unless they name their own.
//
// The secret is 32 characters, the length of a PagerDuty routing key, so
// senders that check that length accept it. Only its hash is stored; the
// secret is shown once, when the key is made. Prefix is the secret's start,
// to tell keys apart in lists.
type IntegrationKey struct {
	ID         string    `json:"id"`
	ProjectID  string    `json:"project_id"`
	Name       string    `json:"name"`
	Service    string    `json:"service"`
	Prefix     string    `json:"prefix"`
	Hash       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Validate returns every problem with the key's settings at once, the
// first one's field reported as the field at fault.
func (k *IntegrationKey) Validate() error {
	var p Problems
	p.Text("name", k.Name, MaxNameLength, true)
	p.Text("service", k.Service, MaxServiceLength, true)
	return p.Err()
}

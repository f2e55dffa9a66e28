package nightjar

import (
	"strings"
	"time"
)

// Project is a tenant: every check, channel, key and alert belongs to
// exactly one, and nothing crosses from one project to another.
type Project struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PingKey authenticates slug-form ping URLs (/ping/<ping-key>/<slug>).
	PingKey   string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports the first problem with the project's fields.
func (p *Project) Validate() error {
	if e := checkText("name", p.Name, MaxNameLength); e != nil {
		return e
	} else if strings.TrimSpace(p.Name) == "" {
		return FieldError("name", "must not be empty")
	}
	return nil
}

// Scope limits what an API key may do.
type Scope string

// API key scopes, named as in Healthchecks where it has them.
const (
	ScopeReadWrite Scope = "read-write"
	ScopeReadOnly  Scope = "read-only"
	ScopePingOnly  Scope = "ping-only"
	// ScopeIngest may only send spans and events (OTLP traces and the
	// event API): the key an instrumented service or a Collector holds.
	ScopeIngest Scope = "ingest"
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool {
	return s == ScopeReadWrite || s == ScopeReadOnly || s == ScopePingOnly || s == ScopeIngest
}

// APIKey is a project's credential for the API. Only a hash of the secret
// is stored; the secret itself is shown once, when the key is made.
type APIKey struct {
	ID         string    `json:"id"`
	ProjectID  string    `json:"project_id"`
	Name       string    `json:"name"`
	Scope      Scope     `json:"scope"`
	Prefix     string    `json:"prefix"`
	Hash       string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// ReadOnly reports whether the key may only read. Such keys see no
// credentials: no ping URL or check UUID (which is the ping URL's secret),
// as in Healthchecks, so a read-only key cannot send pings.
func (k *APIKey) ReadOnly() bool { return k.Scope != ScopeReadWrite }

// Validate reports the first problem with the key's fields.
func (k *APIKey) Validate() error {
	if !k.Scope.Valid() {
		return FieldError("scope", "must be one of read-write, read-only, ping-only, ingest")
	} else if e := checkText("name", k.Name, MaxNameLength); e != nil {
		return e
	} else if strings.TrimSpace(k.Name) == "" {
		return FieldError("name", "must not be empty")
	}
	return nil
}

// APIKeyPatch is a change to an API key's settings; a nil field keeps
// what is there. The console's key form, a configuration file's api_keys
// and the first start's keys all make keys through it, so a key's name
// and scope are judged the same way everywhere. The secret is not a
// setting: it is made (or, from a configuration file, given) when the key
// is stored, and only its hash is kept.
type APIKeyPatch struct {
	Name  *string
	Scope *Scope
}

// Apply changes k as p says and validates the result.
func (p APIKeyPatch) Apply(k *APIKey) error {
	set(&k.Name, p.Name)
	set(&k.Scope, p.Scope)
	return k.Validate()
}

// User is a person who logs in to the console.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

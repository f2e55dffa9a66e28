package pingclient

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables read by FromEnv. The HC_* and CHECK_* names are the
// ones existing Healthchecks wrappers read, so a crontab written for them
// keeps working when its ping URL points at Nightjar.
const (
	// EnvPingURL is Nightjar's own name for the ping base URL, such as
	// https://nightjar.example.com/ping. It wins over EnvHCAPIURL.
	EnvPingURL = "NIGHTJAR_PING_URL"
	// EnvHCAPIURL is the base URL variable of Healthchecks wrappers.
	EnvHCAPIURL = "HC_API_URL"
	// EnvCheckUUID names the check by UUID.
	EnvCheckUUID = "CHECK_UUID"
	// EnvPingKey is the project ping key for slug-form targets.
	EnvPingKey = "HC_PING_KEY"
	// EnvCheckSlug names the check by slug, together with EnvPingKey.
	EnvCheckSlug = "CHECK_SLUG"
)

// Env is the ping configuration found in the environment. It is kept as raw
// strings, not a ready Target, because command-line flags and arguments may
// supply or override parts of it (a slug argument with the key from
// HC_PING_KEY, for example).
type Env struct {
	// BaseURL comes from NIGHTJAR_PING_URL, or else HC_API_URL.
	BaseURL string
	// UUID comes from CHECK_UUID.
	UUID string
	// PingKey comes from HC_PING_KEY.
	PingKey string
	// Slug comes from CHECK_SLUG.
	Slug string
}

// FromEnv reads the ping configuration from the process environment; see
// the Env* constants for the variables. Empty variables count as unset.
func FromEnv() Env {
	return EnvFrom(os.LookupEnv)
}

// EnvFrom is FromEnv with the lookup function supplied, so that callers and
// tests can read from something other than the process environment.
func EnvFrom(lookup func(string) (string, bool)) Env {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	e := Env{
		BaseURL: get(EnvPingURL),
		UUID:    get(EnvCheckUUID),
		PingKey: get(EnvPingKey),
		Slug:    get(EnvCheckSlug),
	}
	if e.BaseURL == "" {
		e.BaseURL = get(EnvHCAPIURL)
	}
	return e
}

// Target resolves which check to ping from a command-line argument and the
// environment. An argument wins: a UUID or "ping-key/slug" is used as is,
// and a bare slug is paired with the ping key from the environment. With no
// argument, CHECK_UUID wins over HC_PING_KEY plus CHECK_SLUG, the precedence
// Healthchecks wrappers use.
func (e Env) Target(arg string) (Target, error) {
	arg = strings.TrimSpace(arg)
	if arg != "" {
		if strings.Contains(arg, "/") || isUUID(arg) {
			return ParseTarget(arg)
		}
		if e.PingKey == "" {
			return Target{}, fmt.Errorf("check slug %q needs a ping key: set %s or pass ping-key/slug", arg, EnvPingKey)
		}
		t := Target{PingKey: e.PingKey, Slug: arg}
		if err := t.Validate(); err != nil {
			return Target{}, fmt.Errorf("check from argument and %s: %w", EnvPingKey, err)
		}
		return t, nil
	}
	var t Target
	switch {
	case e.UUID != "":
		t = Target{UUID: e.UUID}
	case e.PingKey != "" && e.Slug != "":
		t = Target{PingKey: e.PingKey, Slug: e.Slug}
	case e.Slug != "":
		return Target{}, fmt.Errorf("%s is set but %s is not", EnvCheckSlug, EnvPingKey)
	case e.PingKey != "":
		return Target{}, fmt.Errorf("%s is set but no check slug was given (argument or %s)", EnvPingKey, EnvCheckSlug)
	default:
		return Target{}, errors.New("no check given: pass a check uuid or ping-key/slug, or set " +
			EnvCheckUUID + ", or " + EnvPingKey + " and " + EnvCheckSlug)
	}
	if err := t.Validate(); err != nil {
		return Target{}, fmt.Errorf("check from environment: %w", err)
	}
	return t, nil
}

// Package config loads Nightjar's settings: defaults, then a YAML file, then
// NIGHTJAR_* environment variables (with *_FILE variants for secrets).
// Validate reports every problem at once, and secrets print as <redacted>.
// The same file can declare projects, API keys, channels and checks, which
// the reconcile package makes true in the database.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/uptime"
	"go.yaml.in/yaml/v3"

	"github.com/nightjar-dev/nightjar/incident"
)

// Secret is a string that never prints.
type Secret string

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// GoString keeps secrets out of %#v output.
func (s Secret) GoString() string { return "config.Secret(" + strconv.Quote(s.String()) + ")" }

// MarshalYAML keeps secrets out of printed configurations.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Config is every setting of `nightjar serve`.
type Config struct {
	Listen      string `yaml:"listen"`
	DataDir     string `yaml:"data_dir"`
	DatabaseURL Secret `yaml:"database_url"`
	// BaseURL is how users reach this server; ping URLs are built from it.
	BaseURL string `yaml:"base_url"`
	// PingBodyLimit is how many bytes of each ping body are kept.
	PingBodyLimit int64 `yaml:"ping_body_limit"`
	// PingRetention is how many pings per check are kept.
	PingRetention int64 `yaml:"ping_retention"`
	// IngestFlushInterval is how often, in seconds, the counters of
	// spans and events are written to the database: a crash loses at
	// most this long of them.
	IngestFlushInterval int64 `yaml:"ingest_flush_interval"`
	// IngestBodyLimit is the largest span export or event batch taken,
	// in bytes once decompressed.
	IngestBodyLimit int64 `yaml:"ingest_body_limit"`
	// IngestUserAttribute is the span attribute that names the customer
	// behind a request, for meaningful availability: OpenTelemetry's
	// enduser.id unless set.
	IngestUserAttribute string `yaml:"ingest_user_attribute"`
	// IngestUserCutoff is, in seconds, the longest gap between two
	// requests of one customer that still counts as time spent using
	// the service; a longer gap is inactive, neither up nor down.
	IngestUserCutoff int64 `yaml:"ingest_user_cutoff"`
	// TrustedProxies are CIDRs whose X-Forwarded-For header is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AllowPrivateNetworks lets webhooks reach private and loopback
	// addresses; off by default so a user cannot probe the internal network.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// SQLiteSynchronous is FULL (survives power loss) or NORMAL.
	SQLiteSynchronous string     `yaml:"sqlite_synchronous"`
	SMTP              SMTPConfig `yaml:"smtp"`
	LogLevel          string     `yaml:"log_level"`
	LogFormat         string     `yaml:"log_format"`
	// BootstrapAPIKey, when set, is ensured as a read-write key of the
	// first project; for scripts and tests.
	BootstrapAPIKey Secret `yaml:"bootstrap_api_key"`

	Projects []ProjectConfig `yaml:"projects"`
}

// SMTPConfig is how email notifications are sent.
type SMTPConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	From     string `yaml:"from"`
	// StartTLS is auto, always or never.
	StartTLS string `yaml:"starttls"`
	// TLS uses implicit TLS (port 465 style).
	TLS bool `yaml:"tls"`
}

// ProjectConfig declares a project and what belongs to it.
type ProjectConfig struct {
	Name     string          `yaml:"name"`
	APIKeys  []APIKeyConfig  `yaml:"api_keys"`
	Channels []ChannelConfig `yaml:"channels"`
	Checks   []CheckConfig   `yaml:"checks"`

	// Incident response, each object identified by name within the
	// project (silences by id). References name other objects by name
	// and people by email address. The specs are the API's, so the same
	// fields mean the same and are checked by the same code.
	Services           []incident.ServiceSpec     `yaml:"services"`
	Teams              []incident.TeamSpec        `yaml:"teams"`
	EscalationPolicies []incident.PolicySpec      `yaml:"escalation_policies"`
	Schedules          []incident.ScheduleSpec    `yaml:"schedules"`
	Silences           []incident.SilenceSpec     `yaml:"silences"`
	MaintenanceWindows []incident.MaintenanceSpec `yaml:"maintenance_windows"`
	// Routes, when given, replace the project's routing rules in order;
	// "routes: []" removes them all, leaving them out leaves them alone.
	Routes *[]incident.RouteSpec `yaml:"routes"`
	// SLOs are the project's service level objectives, each identified
	// by its service and name.
	SLOs []slo.Definition `yaml:"slos"`
	// OpenSLOFiles are OpenSLO v1 files whose SLOs are the project's
	// too, imported as they are applied.
	OpenSLOFiles []string `yaml:"openslo_files"`
}

// APIKeyConfig declares an API key. Its value comes from an environment
// variable or a file, never from the config file itself, and is stored
// hashed.
type APIKeyConfig struct {
	Name      string `yaml:"name"`
	Scope     string `yaml:"scope"`
	ValueEnv  string `yaml:"value_env"`
	ValueFile string `yaml:"value_file"`
}

// ChannelConfig declares a notification channel, identified by name.
type ChannelConfig struct {
	Name      string            `yaml:"name"`
	Kind      string            `yaml:"kind"`
	URL       string            `yaml:"url"`
	SecretEnv string            `yaml:"secret_env"`
	Headers   map[string]string `yaml:"headers"`
	To        []string          `yaml:"to"`
	// Settings are the other settings of the channel's kind, by their
	// names in the API (chat_id, room_id, base_url, priority, region, …).
	// A secret setting is never written in the file: NAME_env names the
	// environment variable holding it (token_env, routing_key_env), as
	// secret_env does for a webhook's signing secret.
	Settings map[string]string `yaml:",inline"`
}

// CheckConfig declares a check, identified by slug within its project.
// Durations are Go durations ("90s", "1h") or plain seconds.
type CheckConfig struct {
	Name             string    `yaml:"name"`
	Slug             string    `yaml:"slug"`
	Tags             []string  `yaml:"tags"`
	Desc             string    `yaml:"desc"`
	Service          string    `yaml:"service"`
	Timeout          Duration  `yaml:"timeout"`
	Grace            Duration  `yaml:"grace"`
	Schedule         string    `yaml:"schedule"`
	TZ               string    `yaml:"tz"`
	EarlyTolerance   *Duration `yaml:"early_tolerance"`
	MaxRuntime       Duration  `yaml:"max_runtime"`
	MinRuntime       Duration  `yaml:"min_runtime"`
	FailureThreshold int       `yaml:"failure_threshold"`
	RealertInterval  Duration  `yaml:"realert_interval"`
	Methods          string    `yaml:"methods"`
	ManualResume     bool      `yaml:"manual_resume"`
	MetricRules      []string  `yaml:"metric_rules"`
	// Channels names the project's channels the check's alerts go to;
	// empty means all of them.
	Channels []string `yaml:"channels"`
	// FilterBody classifies plain pings by keywords in their body.
	FilterBody bool `yaml:"filter_body"`
	// FilterHTTPBody classifies every ping by keywords in its body, with
	// Healthchecks' rules.
	FilterHTTPBody bool `yaml:"filter_http_body"`
	// FilterDefaultFail makes a filtered ping without any of the keywords
	// a failure rather than ignored.
	FilterDefaultFail bool   `yaml:"filter_default_fail"`
	StartKw           string `yaml:"start_kw"`
	SuccessKw         string `yaml:"success_kw"`
	FailureKw         string `yaml:"failure_kw"`
}

// Default returns the settings Nightjar runs with when nothing is given:
// SQLite in ./nightjar-data, listening on 127.0.0.1:8080.
func Default() *Config {
	return &Config{
		Listen:              "127.0.0.1:8080",
		DataDir:             "nightjar-data",
		PingBodyLimit:       100_000,
		PingRetention:       500,
		IngestFlushInterval: 10,
		IngestBodyLimit:     10 << 20,
		IngestUserAttribute: "enduser.id",
		IngestUserCutoff:    int64(uptime.DefaultCutoff / time.Second),
		SQLiteSynchronous:   "FULL",
		SMTP:                SMTPConfig{Port: 587, StartTLS: "auto"},
		LogLevel:            "info",
		LogFormat:           "text",
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors, so a
// typo never silently does nothing.
func Load(path string) (*Config, error) {
	cfg := Default()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := Parse(b, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.DataDir != "" && !filepath.IsAbs(cfg.DataDir) && path != "" {
		// Relative data directories stay relative to where serve runs.
		cfg.DataDir = filepath.Clean(cfg.DataDir)
	}
	return cfg, nil
}

// Parse decodes YAML into cfg, refusing unknown keys.
func Parse(b []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return fmt.Errorf("parse yaml: %w", err)
	}
	// A further document would be ignored; refuse it unless it is empty.
	for {
		var more yaml.Node
		if err := dec.Decode(&more); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("parse yaml: %w", err)
		}
		if len(more.Content) > 0 && more.Content[0].ShortTag() != "!!null" {
			return fmt.Errorf("parse yaml: line %d: a configuration is one YAML document; remove the second ---", more.Line)
		}
	}
}

// ApplyEnv overrides settings from environment variables. getenv is
// os.Getenv outside tests. A variable NAME_FILE names a file whose
// contents (without a trailing newline) are NAME's value, for secrets.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	get := func(name string) (string, bool, error) {
		if f := getenv(name + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", false, fmt.Errorf("%s_FILE: %w", name, err)
			}
			return strings.TrimRight(string(b), "\r\n"), true, nil
		}
		v := getenv(name)
		return v, v != "", nil
	}
	var errs []error
	str := func(name string, dst *string) {
		v, ok, err := get(name)
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			*dst = v
		}
	}
	secret := func(name string, dst *Secret) {
		var s string
		str(name, &s)
		if s != "" {
			*dst = Secret(s)
		}
	}
	num := func(name string, dst *int64) {
		var s string
		str(name, &s)
		if s == "" {
			return
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: expected a whole number, got %q", name, s))
			return
		}
		*dst = n
	}
	boolean := func(name string, dst *bool) {
		var s string
		str(name, &s)
		if s == "" {
			return
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: expected true or false, got %q", name, s))
			return
		}
		*dst = b
	}
	str("NIGHTJAR_LISTEN", &c.Listen)
	str("NIGHTJAR_DATA_DIR", &c.DataDir)
	secret("NIGHTJAR_DATABASE_URL", &c.DatabaseURL)
	str("NIGHTJAR_BASE_URL", &c.BaseURL)
	num("NIGHTJAR_PING_BODY_LIMIT", &c.PingBodyLimit)
	num("NIGHTJAR_PING_RETENTION", &c.PingRetention)
	num("NIGHTJAR_INGEST_FLUSH_INTERVAL", &c.IngestFlushInterval)
	num("NIGHTJAR_INGEST_BODY_LIMIT", &c.IngestBodyLimit)
	str("NIGHTJAR_INGEST_USER_ATTRIBUTE", &c.IngestUserAttribute)
	num("NIGHTJAR_INGEST_USER_CUTOFF", &c.IngestUserCutoff)
	var proxies string
	str("NIGHTJAR_TRUSTED_PROXIES", &proxies)
	if proxies != "" {
		c.TrustedProxies = strings.FieldsFunc(proxies, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	}
	boolean("NIGHTJAR_ALLOW_PRIVATE_NETWORKS", &c.AllowPrivateNetworks)
	str("NIGHTJAR_SQLITE_SYNCHRONOUS", &c.SQLiteSynchronous)
	str("NIGHTJAR_SMTP_HOST", &c.SMTP.Host)
	var port int64
	num("NIGHTJAR_SMTP_PORT", &port)
	if port != 0 {
		c.SMTP.Port = int(port)
	}
	str("NIGHTJAR_SMTP_USERNAME", &c.SMTP.Username)
	secret("NIGHTJAR_SMTP_PASSWORD", &c.SMTP.Password)
	str("NIGHTJAR_SMTP_FROM", &c.SMTP.From)
	str("NIGHTJAR_SMTP_STARTTLS", &c.SMTP.StartTLS)
	boolean("NIGHTJAR_SMTP_TLS", &c.SMTP.TLS)
	str("NIGHTJAR_LOG_LEVEL", &c.LogLevel)
	str("NIGHTJAR_LOG_FORMAT", &c.LogFormat)
	secret("NIGHTJAR_BOOTSTRAP_API_KEY", &c.BootstrapAPIKey)
	return errors.Join(errs...)
}

// ParsedTrustedProxies returns TrustedProxies as prefixes; single
// addresses count as /32 or /128. IPv4-mapped IPv6 forms become IPv4, as
// the server unmaps client addresses before matching them.
func (c *Config) ParsedTrustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := netip.ParsePrefix(s); err == nil {
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		} else {
			return nil, fmt.Errorf("trusted_proxies: %q is not an IP address or CIDR", s)
		}
	}
	return out, nil
}

// DatabaseDSN is the database to open: the PostgreSQL URL if one is set,
// else the SQLite file in the data directory.
func (c *Config) DatabaseDSN() string {
	if c.DatabaseURL != "" {
		return string(c.DatabaseURL)
	}
	return filepath.Join(c.DataDir, "nightjar.db")
}

// Validate returns every problem with the settings at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := netip.ParseAddrPort(c.Listen); err != nil && !strings.HasPrefix(c.Listen, ":") && !strings.Contains(c.Listen, "localhost:") {
		add("listen: %q is not host:port", c.Listen)
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		add("data_dir: must be set when database_url is not")
	}
	if u := string(c.DatabaseURL); u != "" && !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		add("database_url: must start with postgres:// or postgresql://")
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		add("base_url: must start with http:// or https://")
	}
	if c.PingBodyLimit < 0 || c.PingBodyLimit > 10_000_000 {
		add("ping_body_limit: must be between 0 and 10000000 bytes")
	}
	if c.PingRetention < 0 {
		add("ping_retention: must not be negative")
	}
	if c.IngestFlushInterval < 1 || c.IngestFlushInterval > 300 {
		add("ingest_flush_interval: must be from 1 to 300 seconds")
	}
	if a := strings.TrimSpace(c.IngestUserAttribute); a == "" || len(a) > 255 || a != c.IngestUserAttribute || !utf8.ValidString(a) {
		add("ingest_user_attribute: must be an attribute name of 1 to 255 bytes without surrounding spaces")
	}
	if c.IngestUserCutoff < int64(uptime.MinCutoff/time.Second) || c.IngestUserCutoff > int64(uptime.MaxCutoff/time.Second) {
		add("ingest_user_cutoff: must be from %d to %d seconds", int64(uptime.MinCutoff/time.Second), int64(uptime.MaxCutoff/time.Second))
	}
	if c.IngestBodyLimit < 1000 || c.IngestBodyLimit > 100_000_000 {
		add("ingest_body_limit: must be from 1000 to 100000000 bytes")
	}
	if _, err := c.ParsedTrustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if c.SQLiteSynchronous != "FULL" && c.SQLiteSynchronous != "NORMAL" {
		add("sqlite_synchronous: must be FULL or NORMAL")
	}
	switch c.SMTP.StartTLS {
	case "auto", "always", "never":
	default:
		add("smtp.starttls: must be auto, always or never")
	}
	if c.SMTP.Port < 0 || c.SMTP.Port > 65535 {
		add("smtp.port: must be between 1 and 65535, or 0 for 465 with tls and 587 without")
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		add("smtp.from: must be set when smtp.host is")
	} else if _, err := mail.ParseAddress(c.SMTP.From); c.SMTP.From != "" && err != nil {
		// Otherwise every email would fail, and only at delivery.
		add("smtp.from: %q is not an email address such as \"Nightjar <nightjar@example.com>\"", c.SMTP.From)
	}
	if strings.ContainsAny(c.SMTP.Host, " \t\r\n/") {
		add("smtp.host: %q is not a host name or IP address", c.SMTP.Host)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level: must be debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("log_format: must be text or json")
	}
	if c.BootstrapAPIKey != "" && len(c.BootstrapAPIKey) < 16 {
		add("bootstrap_api_key: must be at least 16 characters")
	}
	seen := map[string]bool{}
	for i, p := range c.Projects {
		where := fmt.Sprintf("projects[%d]", i)
		if p.Name == "" {
			add("%s.name: must not be empty", where)
		} else if seen[p.Name] {
			add("%s.name: project %q is declared twice", where, p.Name)
		}
		seen[p.Name] = true
		for j, k := range p.APIKeys {
			kw := fmt.Sprintf("%s.api_keys[%d]", where, j)
			if k.Name == "" {
				add("%s.name: must not be empty", kw)
			}
			switch k.Scope {
			case "read-write", "read-only", "ping-only", "ingest":
			default:
				add("%s.scope: must be read-write, read-only, ping-only or ingest", kw)
			}
			if (k.ValueEnv == "") == (k.ValueFile == "") {
				add("%s: set exactly one of value_env and value_file", kw)
			}
		}
		slugs := map[string]bool{}
		for j, ch := range p.Checks {
			cw := fmt.Sprintf("%s.checks[%d]", where, j)
			if ch.Slug == "" {
				add("%s.slug: must not be empty; it identifies the check", cw)
			} else if slugs[ch.Slug] {
				add("%s.slug: %q is declared twice", cw, ch.Slug)
			}
			slugs[ch.Slug] = true
		}
		errs = append(errs, uniqueNames(where, p)...)
		objectives := map[string]bool{}
		for j, d := range p.SLOs {
			sw := fmt.Sprintf("%s.slos[%d]", where, j)
			for _, e := range d.Problems() {
				add("%s.%s", sw, e.Message)
			}
			if id := d.Service + "/" + d.Name; objectives[id] {
				add("%s.name: %q of service %q is declared twice", sw, d.Name, d.Service)
			} else {
				objectives[id] = true
			}
		}
		names := map[string]bool{}
		for j, ch := range p.Channels {
			cw := fmt.Sprintf("%s.channels[%d]", where, j)
			if ch.Name == "" {
				add("%s.name: must not be empty; it identifies the channel", cw)
			} else if names[ch.Name] {
				add("%s.name: %q is declared twice", cw, ch.Name)
			}
			names[ch.Name] = true
		}
	}
	return errors.Join(errs...)
}

// uniqueNames reports incident response objects declared twice, and
// silences declared without an id, which nothing else identifies. A
// missing name is the object's own rules' to refuse, as in the API.
func uniqueNames(where string, p ProjectConfig) []error {
	var errs []error
	check := func(list string, keys []string, what string) {
		seen := map[string]bool{}
		for i, k := range keys {
			switch {
			case k == "" && what == "id":
				errs = append(errs, fmt.Errorf("%s.%s[%d].%s: must not be empty; it identifies the silence", where, list, i, what))
			case k == "":
			case seen[k]:
				errs = append(errs, fmt.Errorf("%s.%s[%d].%s: %q is declared twice", where, list, i, what, k))
			}
			seen[k] = true
		}
	}
	check("services", mapSlice(p.Services, func(v incident.ServiceSpec) string { return v.Name }), "name")
	check("teams", mapSlice(p.Teams, func(v incident.TeamSpec) string { return v.Name }), "name")
	check("escalation_policies", mapSlice(p.EscalationPolicies, func(v incident.PolicySpec) string { return v.Name }), "name")
	check("schedules", mapSlice(p.Schedules, func(v incident.ScheduleSpec) string { return v.Name }), "name")
	check("silences", mapSlice(p.Silences, func(v incident.SilenceSpec) string { return v.ID }), "id")
	check("maintenance_windows", mapSlice(p.MaintenanceWindows, func(v incident.MaintenanceSpec) string { return v.Name }), "name")
	return errs
}

func mapSlice[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

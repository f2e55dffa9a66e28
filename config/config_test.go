package config_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar/config"
	"go.yaml.in/yaml/v3"
)

// fullYAML sets every setting to something other than its default.
const fullYAML = `
listen: 0.0.0.0:9090
data_dir: /var/lib/nightjar
database_url: postgres://nightjar:s3cr3t-db-pw@db.internal/nightjar
base_url: https://nightjar.example.com
ping_body_limit: 20000
ping_retention: 1000
ingest_flush_interval: 5
ingest_body_limit: 5000000
ingest_user_attribute: app.customer_id
ingest_user_cutoff: 900
trusted_proxies: [10.0.0.0/8, 192.168.1.1, "::1"]
allow_private_networks: true
sqlite_synchronous: NORMAL
smtp:
  host: smtp.example.com
  port: 465
  username: mailer
  password: s3cr3t-smtp-pw
  from: nightjar@example.com
  starttls: never
  tls: true
log_level: debug
log_format: json
bootstrap_api_key: s3cr3t-bootstrap-key-0123456789
projects:
  - name: Backups
    api_keys:
      - name: ci
        scope: read-write
        value_env: CI_KEY
      - name: grafana
        scope: read-only
        value_file: /run/secrets/grafana
    channels:
      - name: hook
        kind: webhook
        url: https://hooks.example.com/x
        secret_env: HOOK_SECRET
        headers:
          X-Team: ops
      - name: mail
        kind: email
        to: [ops@example.com, oncall@example.com]
    checks:
      - name: Nightly backup
        slug: nightly-backup
        tags: [backup, db]
        desc: pg_dump to S3
        service: postgres
        schedule: "30 2 * * *"
        tz: Europe/Berlin
        grace: 30m
        early_tolerance: 0
        max_runtime: 2h
        min_runtime: 60
        failure_threshold: 3
        realert_interval: 6h
        methods: POST
        manual_resume: true
        metric_rules: ["bytes >= 1e6"]
      - slug: worker
        timeout: 1h30m
  - name: Website
`

func fullConfig() *config.Config {
	zero := config.Duration(0)
	return &config.Config{
		Listen:               "0.0.0.0:9090",
		DataDir:              "/var/lib/nightjar",
		DatabaseURL:          "postgres://nightjar:s3cr3t-db-pw@db.internal/nightjar",
		BaseURL:              "https://nightjar.example.com",
		PingBodyLimit:        20000,
		PingRetention:        1000,
		IngestFlushInterval:  5,
		IngestBodyLimit:      5000000,
		IngestUserAttribute:  "app.customer_id",
		IngestUserCutoff:     900,
		TrustedProxies:       []string{"10.0.0.0/8", "192.168.1.1", "::1"},
		AllowPrivateNetworks: true,
		SQLiteSynchronous:    "NORMAL",
		SMTP: config.SMTPConfig{
			Host: "smtp.example.com", Port: 465, Username: "mailer", Password: "s3cr3t-smtp-pw",
			From: "nightjar@example.com", StartTLS: "never", TLS: true,
		},
		LogLevel:        "debug",
		LogFormat:       "json",
		BootstrapAPIKey: "s3cr3t-bootstrap-key-0123456789",
		Projects: []config.ProjectConfig{
			{
				Name: "Backups",
				APIKeys: []config.APIKeyConfig{
					{Name: "ci", Scope: "read-write", ValueEnv: "CI_KEY"},
					{Name: "grafana", Scope: "read-only", ValueFile: "/run/secrets/grafana"},
				},
				Channels: []config.ChannelConfig{
					{Name: "hook", Kind: "webhook", URL: "https://hooks.example.com/x", SecretEnv: "HOOK_SECRET",
						Headers: map[string]string{"X-Team": "ops"}},
					{Name: "mail", Kind: "email", To: []string{"ops@example.com", "oncall@example.com"}},
				},
				Checks: []config.CheckConfig{
					{
						Name: "Nightly backup", Slug: "nightly-backup", Tags: []string{"backup", "db"},
						Desc: "pg_dump to S3", Service: "postgres", Schedule: "30 2 * * *", TZ: "Europe/Berlin",
						Grace:            config.Duration(30 * time.Minute),
						EarlyTolerance:   &zero,
						MaxRuntime:       config.Duration(2 * time.Hour),
						MinRuntime:       config.Duration(time.Minute),
						FailureThreshold: 3,
						RealertInterval:  config.Duration(6 * time.Hour),
						Methods:          "POST", ManualResume: true,
						MetricRules: []string{"bytes >= 1e6"},
					},
					{Slug: "worker", Timeout: config.Duration(90 * time.Minute)},
				},
			},
			{Name: "Website"},
		},
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    func(c *config.Config) // applied to Default() to build the expected result
		wantErr []string               // substrings of the error; nil means success
	}{
		{name: "empty file", yaml: "", want: func(*config.Config) {}},
		{name: "only comments", yaml: "# nothing here\n\n", want: func(*config.Config) {}},
		{name: "empty document", yaml: "---\n", want: func(*config.Config) {}},
		{name: "one setting keeps the other defaults", yaml: "listen: :9000\n", want: func(c *config.Config) {
			c.Listen = ":9000"
		}},
		{name: "partial smtp keeps smtp defaults", yaml: "smtp:\n  host: mail\n", want: func(c *config.Config) {
			c.SMTP.Host = "mail"
		}},
		{name: "empty value keeps the default", yaml: "listen:\nlog_level: warn\n", want: func(c *config.Config) {
			c.LogLevel = "warn"
		}},
		{name: "every setting", yaml: fullYAML, want: func(c *config.Config) { *c = *fullConfig() }},
		{name: "unknown top-level key", yaml: "listen: :1\nlisten_addr: :2\n", wantErr: []string{"line 2", "listen_addr"}},
		{name: "unknown smtp key", yaml: "smtp:\n  hostname: x\n", wantErr: []string{"line 2", "hostname"}},
		{name: "unknown check key", yaml: "projects:\n  - name: p\n    checks:\n      - slug: a\n        graec: 5m\n", wantErr: []string{"line 5", "graec"}},
		{name: "string for a number", yaml: "ping_retention: lots\n", wantErr: []string{"line 1", "lots"}},
		{name: "string for a bool", yaml: "\nallow_private_networks: sometimes\n", wantErr: []string{"line 2", "sometimes"}},
		{name: "mapping for a string", yaml: "listen:\n  host: x\n", wantErr: []string{"line 2"}},
		{name: "scalar for a list", yaml: "projects: many\n", wantErr: []string{"line 1", "many"}},
		{name: "bad duration", yaml: "projects:\n  - name: p\n    checks:\n      - slug: a\n        grace: soon\n", wantErr: []string{"line 5", "soon"}},
		{name: "duplicate key", yaml: "listen: :1\nlisten: :2\n", wantErr: []string{"listen", "line"}},
		{name: "not a mapping", yaml: "- a\n- b\n", wantErr: []string{"line 1"}},
		{name: "broken yaml", yaml: "listen: [\n", wantErr: []string{"line"}},
		{name: "second document", yaml: "listen: :1\n---\nlisten: :2\n", wantErr: []string{"line 2", "one YAML document"}},
		{name: "third document", yaml: "listen: :1\n---\n---\nlisten: :2\n", wantErr: []string{"line 3", "one YAML document"}},
		{name: "empty trailing document", yaml: "listen: :1\n---\n# the end\n", want: func(c *config.Config) { c.Listen = ":1" }},
		{name: "document end marker", yaml: "---\nlisten: :1\n...\n", want: func(c *config.Config) { c.Listen = ":1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := config.Default()
			err := config.Parse([]byte(tt.yaml), got)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Parse succeeded, want an error containing %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := config.Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse result differs\n got: %#v\nwant: %#v", *got, *want)
			}
		})
	}
}

func TestParseFullValidates(t *testing.T) {
	cfg := config.Default()
	if err := config.Parse([]byte(fullYAML), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestLoad(t *testing.T) {
	t.Run("file over defaults", func(t *testing.T) {
		path := writeFile(t, "nightjar.yaml", "listen: :7000\ndata_dir: ./data/../nj\n")
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want := config.Default()
		want.Listen, want.DataDir = ":7000", "nj"
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("Load = %#v, want %#v", *cfg, *want)
		}
	})
	t.Run("empty file gives the defaults", func(t *testing.T) {
		cfg, err := config.Load(writeFile(t, "empty.yaml", ""))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cfg, config.Default()) {
			t.Errorf("Load = %#v, want the defaults", *cfg)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("defaults do not validate: %v", err)
		}
	})
	t.Run("error names the file and the line", func(t *testing.T) {
		path := writeFile(t, "bad.yaml", "listen: :1\n\nsmtp:\n  prot: 25\n")
		_, err := config.Load(path)
		if err == nil {
			t.Fatal("Load succeeded")
		}
		for _, s := range []string{path, "line 4", "prot"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not contain %q", err, s)
			}
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load of a missing file = %v, want ErrNotExist", err)
		}
	})
}

func TestApplyEnv(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		start   func(c *config.Config) // settings from the file, before the environment
		env     map[string]string
		want    func(c *config.Config) // applied to Default() to build the expected result
		wantErr []string
	}{
		{name: "nothing set", env: nil, want: func(*config.Config) {}},
		{name: "every variable", env: map[string]string{
			"NIGHTJAR_LISTEN":                 "0.0.0.0:1234",
			"NIGHTJAR_DATA_DIR":               "/data",
			"NIGHTJAR_DATABASE_URL":           "postgres://u:pw@h/db",
			"NIGHTJAR_BASE_URL":               "https://nj.example.com",
			"NIGHTJAR_PING_BODY_LIMIT":        "4096",
			"NIGHTJAR_PING_RETENTION":         "10",
			"NIGHTJAR_TRUSTED_PROXIES":        "10.0.0.0/8, 127.0.0.1,::1",
			"NIGHTJAR_ALLOW_PRIVATE_NETWORKS": "true",
			"NIGHTJAR_SQLITE_SYNCHRONOUS":     "NORMAL",
			"NIGHTJAR_SMTP_HOST":              "mail.example.com",
			"NIGHTJAR_SMTP_PORT":              "2525",
			"NIGHTJAR_SMTP_USERNAME":          "bob",
			"NIGHTJAR_SMTP_PASSWORD":          "hunter2",
			"NIGHTJAR_SMTP_FROM":              "nj@example.com",
			"NIGHTJAR_SMTP_STARTTLS":          "always",
			"NIGHTJAR_SMTP_TLS":               "1",
			"NIGHTJAR_LOG_LEVEL":              "error",
			"NIGHTJAR_LOG_FORMAT":             "json",
			"NIGHTJAR_BOOTSTRAP_API_KEY":      "0123456789abcdef",
			"NIGHTJAR_INGEST_USER_CUTOFF":     "3600",
		}, want: func(c *config.Config) {
			c.Listen, c.DataDir, c.DatabaseURL, c.BaseURL = "0.0.0.0:1234", "/data", "postgres://u:pw@h/db", "https://nj.example.com"
			c.PingBodyLimit, c.PingRetention, c.IngestUserCutoff = 4096, 10, 3600
			c.TrustedProxies = []string{"10.0.0.0/8", "127.0.0.1", "::1"}
			c.AllowPrivateNetworks, c.SQLiteSynchronous = true, "NORMAL"
			c.SMTP = config.SMTPConfig{Host: "mail.example.com", Port: 2525, Username: "bob", Password: "hunter2",
				From: "nj@example.com", StartTLS: "always", TLS: true}
			c.LogLevel, c.LogFormat, c.BootstrapAPIKey = "error", "json", "0123456789abcdef"
		}},
		{name: "secrets from files", env: map[string]string{
			"NIGHTJAR_DATABASE_URL_FILE":      file("db", "postgres://u:from-file@h/db\n"),
			"NIGHTJAR_SMTP_PASSWORD_FILE":     file("smtp", "pw-from-file\r\n"),
			"NIGHTJAR_BOOTSTRAP_API_KEY_FILE": file("key", "key-from-file-0123456789"),
		}, want: func(c *config.Config) {
			c.DatabaseURL, c.SMTP.Password, c.BootstrapAPIKey = "postgres://u:from-file@h/db", "pw-from-file", "key-from-file-0123456789"
		}},
		{name: "file wins over the plain variable", env: map[string]string{
			"NIGHTJAR_SMTP_PASSWORD":      "plain",
			"NIGHTJAR_SMTP_PASSWORD_FILE": file("smtp2", "from-file\n"),
		}, want: func(c *config.Config) { c.SMTP.Password = "from-file" }},
		{name: "non-secret settings have file variants too", env: map[string]string{
			"NIGHTJAR_LISTEN_FILE":        file("listen", ":5555\n"),
			"NIGHTJAR_SMTP_PORT_FILE":     file("port", "25\n"),
			"NIGHTJAR_SMTP_TLS_FILE":      file("tls", "true\n"),
			"NIGHTJAR_PING_RETENTION":     "7",
			"NIGHTJAR_PING_BODY_LIMIT":    "0",
			"NIGHTJAR_SMTP_STARTTLS":      "never",
			"NIGHTJAR_LOG_LEVEL":          "warn",
			"NIGHTJAR_SQLITE_SYNCHRONOUS": "FULL",
		}, want: func(c *config.Config) {
			c.Listen, c.SMTP.Port, c.SMTP.TLS, c.PingRetention, c.PingBodyLimit = ":5555", 25, true, 7, 0
			c.SMTP.StartTLS, c.LogLevel = "never", "warn"
		}},
		{name: "trusted proxies from a file, one per line", env: map[string]string{
			"NIGHTJAR_TRUSTED_PROXIES_FILE": file("proxies", "10.0.0.0/8\n172.16.0.0/12\n\n192.168.0.1\n"),
		}, want: func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.1"} }},
		{name: "trusted proxies with tabs and extra separators", env: map[string]string{
			"NIGHTJAR_TRUSTED_PROXIES": " 10.0.0.1,,\t10.0.0.2 ,",
		}, want: func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.1", "10.0.0.2"} }},
		{name: "false overrides true from the file",
			start: func(c *config.Config) { c.AllowPrivateNetworks, c.SMTP.TLS = true, true },
			env:   map[string]string{"NIGHTJAR_ALLOW_PRIVATE_NETWORKS": "false", "NIGHTJAR_SMTP_TLS": "0"},
			want:  func(c *config.Config) {}},
		{name: "unset variables keep the file's settings",
			start: func(c *config.Config) { c.Listen, c.SMTP.Password, c.TrustedProxies = ":1", "pw", []string{"10.0.0.1"} },
			env:   map[string]string{"NIGHTJAR_LOG_LEVEL": "debug"},
			want: func(c *config.Config) {
				c.Listen, c.SMTP.Password, c.TrustedProxies, c.LogLevel = ":1", "pw", []string{"10.0.0.1"}, "debug"
			}},
		{name: "bad number", env: map[string]string{"NIGHTJAR_PING_BODY_LIMIT": "100kB"},
			wantErr: []string{"NIGHTJAR_PING_BODY_LIMIT", "100kB"}},
		{name: "bad port from a file", env: map[string]string{"NIGHTJAR_SMTP_PORT_FILE": file("badport", "smtp\n")},
			wantErr: []string{"NIGHTJAR_SMTP_PORT", "smtp"}},
		{name: "bad bool", env: map[string]string{"NIGHTJAR_SMTP_TLS": "yes please"},
			wantErr: []string{"NIGHTJAR_SMTP_TLS", "yes please"}},
		{name: "missing secret file", env: map[string]string{"NIGHTJAR_DATABASE_URL_FILE": filepath.Join(dir, "missing")},
			wantErr: []string{"NIGHTJAR_DATABASE_URL_FILE", "missing"}},
		{name: "every error at once", env: map[string]string{
			"NIGHTJAR_PING_RETENTION":         "-",
			"NIGHTJAR_PING_BODY_LIMIT":        "1e3",
			"NIGHTJAR_ALLOW_PRIVATE_NETWORKS": "on",
			"NIGHTJAR_SMTP_PORT":              "x",
			"NIGHTJAR_SMTP_PASSWORD_FILE":     filepath.Join(dir, "nope"),
		}, wantErr: []string{"NIGHTJAR_PING_RETENTION", "NIGHTJAR_PING_BODY_LIMIT", "NIGHTJAR_ALLOW_PRIVATE_NETWORKS",
			"NIGHTJAR_SMTP_PORT", "NIGHTJAR_SMTP_PASSWORD_FILE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := config.Default()
			if tt.start != nil {
				tt.start(got)
			}
			err := got.ApplyEnv(func(name string) string { return tt.env[name] })
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("ApplyEnv succeeded, want an error containing %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyEnv: %v", err)
			}
			want := config.Default()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ApplyEnv result differs\n got: %#v\nwant: %#v", *got, *want)
			}
		})
	}
}

// TestApplyEnvOverridesFile checks the documented order: defaults, file,
// then environment.
func TestApplyEnvOverridesFile(t *testing.T) {
	cfg, err := config.Load(writeFile(t, "c.yaml", "listen: :1\nlog_level: debug\ntrusted_proxies: [10.0.0.1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NIGHTJAR_LISTEN": ":2", "NIGHTJAR_TRUSTED_PROXIES": "10.0.0.2"}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":2" || cfg.LogLevel != "debug" || !reflect.DeepEqual(cfg.TrustedProxies, []string{"10.0.0.2"}) {
		t.Errorf("got listen %q, log_level %q, trusted_proxies %q", cfg.Listen, cfg.LogLevel, cfg.TrustedProxies)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(c *config.Config)
		wantErr []string // nil means valid
	}{
		{name: "defaults", mod: func(*config.Config) {}},
		{name: "listen forms", mod: func(c *config.Config) { c.Listen = "[::1]:80" }},
		{name: "listen port only", mod: func(c *config.Config) { c.Listen = ":80" }},
		{name: "listen localhost", mod: func(c *config.Config) { c.Listen = "localhost:8080" }},
		{name: "postgres without data dir", mod: func(c *config.Config) {
			c.DatabaseURL, c.DataDir = "postgresql://h/db", ""
		}},
		{name: "smtp with from", mod: func(c *config.Config) { c.SMTP.Host, c.SMTP.From = "h", "a@b.c" }},
		{name: "bad listen", mod: func(c *config.Config) { c.Listen = "8080" }, wantErr: []string{"listen:", `"8080"`}},
		{name: "no database", mod: func(c *config.Config) { c.DataDir = "" }, wantErr: []string{"data_dir:"}},
		{name: "mysql", mod: func(c *config.Config) { c.DatabaseURL = "mysql://secret-pw@h/db" }, wantErr: []string{"database_url:"}},
		{name: "base url", mod: func(c *config.Config) { c.BaseURL = "nightjar.example.com" }, wantErr: []string{"base_url:"}},
		{name: "body limit", mod: func(c *config.Config) { c.PingBodyLimit = 10_000_001 }, wantErr: []string{"ping_body_limit:"}},
		{name: "retention", mod: func(c *config.Config) { c.PingRetention = -1 }, wantErr: []string{"ping_retention:"}},
		{name: "flush interval", mod: func(c *config.Config) { c.IngestFlushInterval = 0 }, wantErr: []string{"ingest_flush_interval:"}},
		{name: "ingest body limit", mod: func(c *config.Config) { c.IngestBodyLimit = 10 }, wantErr: []string{"ingest_body_limit:"}},
		{name: "ingest user attribute", mod: func(c *config.Config) { c.IngestUserAttribute = " " }, wantErr: []string{"ingest_user_attribute:"}},
		{name: "user cutoff too short", mod: func(c *config.Config) { c.IngestUserCutoff = 59 }, wantErr: []string{"ingest_user_cutoff:", "60 to 86400"}},
		{name: "user cutoff too long", mod: func(c *config.Config) { c.IngestUserCutoff = 86401 }, wantErr: []string{"ingest_user_cutoff:"}},
		{name: "proxy", mod: func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, wantErr: []string{"trusted_proxies:", "10.0.0.0/33"}},
		{name: "synchronous", mod: func(c *config.Config) { c.SQLiteSynchronous = "OFF" }, wantErr: []string{"sqlite_synchronous:"}},
		{name: "starttls", mod: func(c *config.Config) { c.SMTP.StartTLS = "maybe" }, wantErr: []string{"smtp.starttls:"}},
		{name: "smtp port zero picks the usual one", mod: func(c *config.Config) { c.SMTP.Port = 0 }},
		{name: "smtp port", mod: func(c *config.Config) { c.SMTP.Port = 70000 }, wantErr: []string{"smtp.port:"}},
		{name: "negative smtp port", mod: func(c *config.Config) { c.SMTP.Port = -1 }, wantErr: []string{"smtp.port:"}},
		{name: "smtp from", mod: func(c *config.Config) { c.SMTP.Host = "h" }, wantErr: []string{"smtp.from:"}},
		{name: "smtp from not an address", mod: func(c *config.Config) { c.SMTP.Host, c.SMTP.From = "h", "nightjar at example" }, wantErr: []string{"smtp.from:", "not an email address"}},
		{name: "smtp from with a name", mod: func(c *config.Config) { c.SMTP.Host, c.SMTP.From = "h", "Nightjar <nightjar@example.com>" }},
		{name: "smtp host", mod: func(c *config.Config) { c.SMTP.Host, c.SMTP.From = "mail example com", "a@b.c" }, wantErr: []string{"smtp.host:"}},
		{name: "log level", mod: func(c *config.Config) { c.LogLevel = "trace" }, wantErr: []string{"log_level:"}},
		{name: "log format", mod: func(c *config.Config) { c.LogFormat = "xml" }, wantErr: []string{"log_format:"}},
		{name: "short bootstrap key", mod: func(c *config.Config) { c.BootstrapAPIKey = "short" }, wantErr: []string{"bootstrap_api_key:"}},
		{name: "projects", mod: func(c *config.Config) {
			c.Projects = []config.ProjectConfig{
				{Name: "a",
					APIKeys: []config.APIKeyConfig{
						{Name: "", Scope: "admin", ValueEnv: "X", ValueFile: "/y"},
						{Name: "k", Scope: "ping-only"},
					},
					Checks:   []config.CheckConfig{{Slug: "x"}, {Slug: "x"}, {Name: "no slug"}},
					Channels: []config.ChannelConfig{{Name: "c"}, {Name: "c"}, {Kind: "email"}},
				},
				{Name: "a"},
				{},
			}
		}, wantErr: []string{
			"projects[0].api_keys[0].name:",
			"projects[0].api_keys[0].scope:",
			"projects[0].api_keys[0]: set exactly one of value_env and value_file",
			"projects[0].api_keys[1]: set exactly one of value_env and value_file",
			`projects[0].checks[1].slug: "x" is declared twice`,
			"projects[0].checks[2].slug: must not be empty",
			`projects[0].channels[1].name: "c" is declared twice`,
			"projects[0].channels[2].name: must not be empty",
			`projects[1].name: project "a" is declared twice`,
			"projects[2].name: must not be empty",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			tt.mod(c)
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate succeeded, want errors containing %q", tt.wantErr)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if strings.Contains(err.Error(), "secret-pw") {
				t.Errorf("error %q shows a secret", err)
			}
		})
	}
}

// TestValidateReportsEverything makes sure one call lists every problem,
// one per line, so a user fixes a file in one go.
func TestValidateReportsEverything(t *testing.T) {
	c := config.Default()
	c.Listen = "nowhere"
	c.BaseURL = "ftp://x"
	c.PingRetention = -5
	c.SQLiteSynchronous = "sometimes"
	c.LogLevel = "loud"
	c.LogFormat = "yaml"
	c.TrustedProxies = []string{"10.0.0.1", "bogus"}
	c.Projects = []config.ProjectConfig{{Name: ""}}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate succeeded")
	}
	want := []string{"listen:", "base_url:", "ping_retention:", "sqlite_synchronous:", "log_level:",
		"log_format:", `trusted_proxies: "bogus"`, "projects[0].name:"}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q:\n%v", w, err)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	cfg := fullConfig()
	secrets := []string{"s3cr3t-db-pw", "s3cr3t-smtp-pw", "s3cr3t-bootstrap-key"}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	printed := map[string]string{
		"%v":           fmt.Sprintf("%v", cfg),
		"%+v":          fmt.Sprintf("%+v", cfg),
		"%v value":     fmt.Sprintf("%v", *cfg),
		"%#v":          fmt.Sprintf("%#v", *cfg),
		"%v smtp":      fmt.Sprintf("%v", cfg.SMTP),
		"%s secret":    fmt.Sprintf("%s", cfg.DatabaseURL),
		"%q secret":    fmt.Sprintf("%q", cfg.DatabaseURL),
		"%#v secret":   fmt.Sprintf("%#v", cfg.DatabaseURL),
		"String":       cfg.SMTP.Password.String(),
		"yaml.Marshal": string(out),
	}
	for how, s := range printed {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows secret %q:\n%s", how, secret, s)
			}
		}
		if !strings.Contains(s, "<redacted>") {
			t.Errorf("%s does not say <redacted>:\n%s", how, s)
		}
	}
	// Non-secret settings still print, so a printed configuration is useful.
	if !strings.Contains(string(out), "smtp.example.com") || !strings.Contains(string(out), "nightly-backup") {
		t.Errorf("yaml.Marshal lost non-secret settings:\n%s", out)
	}
	if got := config.Secret("").String(); got != "" {
		t.Errorf("empty secret prints as %q, want empty", got)
	}
	// The value itself is still there for the code that needs it.
	if cfg.DatabaseDSN() != "postgres://nightjar:s3cr3t-db-pw@db.internal/nightjar" {
		t.Errorf("DatabaseDSN = %q", cfg.DatabaseDSN())
	}
}

// TestMarshalledConfigParses checks that a printed configuration (secrets
// redacted, durations in Go notation) can be read back.
func TestMarshalledConfigParses(t *testing.T) {
	out, err := yaml.Marshal(fullConfig())
	if err != nil {
		t.Fatal(err)
	}
	back := config.Default()
	if err := config.Parse(out, back); err != nil {
		t.Fatalf("Parse of marshalled config: %v\n%s", err, out)
	}
	// Empty lists print as [] and come back empty rather than nil, so
	// compare the printed forms.
	again, err := yaml.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("round trip differs\nfirst:\n%s\nsecond:\n%s", out, again)
	}
	if back.DatabaseURL != "<redacted>" || back.Listen != "0.0.0.0:9090" || len(back.Projects) != 2 {
		t.Errorf("round trip lost settings: %+v", back)
	}
}

func TestParsedTrustedProxies(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{in: nil, want: nil},
		{in: []string{"10.0.0.0/8"}, want: []string{"10.0.0.0/8"}},
		{in: []string{"10.1.2.3/8"}, want: []string{"10.0.0.0/8"}},
		{in: []string{"192.168.1.1"}, want: []string{"192.168.1.1/32"}},
		{in: []string{"::1"}, want: []string{"::1/128"}},
		{in: []string{"fd00::1/8"}, want: []string{"fd00::/8"}},
		{in: []string{"::ffff:10.0.0.1"}, want: []string{"10.0.0.1/32"}},
		{in: []string{"::ffff:10.0.0.0/104"}, want: []string{"10.0.0.0/8"}},
		{in: []string{"10.0.0.1", "2001:db8::/32"}, want: []string{"10.0.0.1/32", "2001:db8::/32"}},
		{in: []string{"10.0.0.1", "proxy.local"}, wantErr: `"proxy.local"`},
		{in: []string{"10.0.0.0/40"}, wantErr: `"10.0.0.0/40"`},
		{in: []string{""}, wantErr: `""`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			c := config.Default()
			c.TrustedProxies = tt.in
			got, err := c.ParsedTrustedProxies()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "trusted_proxies") {
					t.Fatalf("error = %v, want one naming trusted_proxies and %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gs []string
			for _, p := range got {
				gs = append(gs, p.String())
			}
			if !reflect.DeepEqual(gs, tt.want) {
				t.Errorf("got %q, want %q", gs, tt.want)
			}
		})
	}
}

// TestTrustedProxyMatchesUnmappedAddress: the server unmaps the remote
// address before looking it up, so every parsed prefix must be in the form
// that contains plain IPv4 addresses.
func TestTrustedProxyMatchesUnmappedAddress(t *testing.T) {
	c := config.Default()
	c.TrustedProxies = []string{"::ffff:10.0.0.0/104", "::ffff:192.168.0.7"}
	ps, err := c.ParsedTrustedProxies()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.9.8.7", "192.168.0.7"} {
		addr := netip.MustParseAddr(a)
		found := false
		for _, p := range ps {
			found = found || p.Contains(addr)
		}
		if !found {
			t.Errorf("%s is not in %v", a, ps)
		}
	}
}

func TestDatabaseDSN(t *testing.T) {
	c := config.Default()
	if got, want := c.DatabaseDSN(), filepath.Join("nightjar-data", "nightjar.db"); got != want {
		t.Errorf("default DSN = %q, want %q", got, want)
	}
	c.DataDir = "/var/lib/nightjar/"
	if got, want := c.DatabaseDSN(), filepath.Join("/var/lib/nightjar", "nightjar.db"); got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
	c.DatabaseURL = "postgres://u:pw@db/nightjar?sslmode=disable"
	if got := c.DatabaseDSN(); got != "postgres://u:pw@db/nightjar?sslmode=disable" {
		t.Errorf("DSN with database_url = %q", got)
	}
}

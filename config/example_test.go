package config_test

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/config"
)

// examplePath is the documented example configuration users copy.
const examplePath = "testdata/example.yaml"

// TestExampleConfig keeps the documented example working: it must load,
// validate, mention every setting, and show the real defaults where it
// claims to.
func TestExampleConfig(t *testing.T) {
	cfg, err := config.Load(examplePath)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the example does not validate:\n%v", err)
	}
	// The environment may add to the example but never needs to fix it.
	if err := cfg.ApplyEnv(func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}

	text, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range yamlKeys(reflect.TypeFor[config.Config](), "") {
		name := key[strings.LastIndex(key, ".")+1:]
		// Set, or shown commented out (secrets are never set in the file).
		re := regexp.MustCompile(`(?m)^\s*(#\s*)?(-\s+)?` + regexp.QuoteMeta(name) + `:`)
		if !re.Match(text) {
			t.Errorf("the example does not mention %s", key)
		}
	}

	// The file says the server settings it sets show the defaults.
	def := config.Default()
	same := map[string][2]any{
		"listen":                 {cfg.Listen, def.Listen},
		"ping_body_limit":        {cfg.PingBodyLimit, def.PingBodyLimit},
		"ping_retention":         {cfg.PingRetention, def.PingRetention},
		"allow_private_networks": {cfg.AllowPrivateNetworks, def.AllowPrivateNetworks},
		"sqlite_synchronous":     {cfg.SQLiteSynchronous, def.SQLiteSynchronous},
		"smtp.port":              {cfg.SMTP.Port, def.SMTP.Port},
		"smtp.starttls":          {cfg.SMTP.StartTLS, def.SMTP.StartTLS},
		"smtp.tls":               {cfg.SMTP.TLS, def.SMTP.TLS},
		"log_level":              {cfg.LogLevel, def.LogLevel},
		"log_format":             {cfg.LogFormat, def.LogFormat},
	}
	for key, v := range same {
		if v[0] != v[1] {
			t.Errorf("the example shows %s: %v, but the default is %v", key, v[0], v[1])
		}
	}

	// Secrets stay out of the file.
	if cfg.DatabaseURL != "" || cfg.SMTP.Password != "" || cfg.BootstrapAPIKey != "" {
		t.Error("the example sets a secret; it should show it commented out")
	}

	// The declarative part shows each kind of object.
	var keys, channels, checks int
	kinds := map[string]bool{}
	cron, simple := false, false
	for _, p := range cfg.Projects {
		keys += len(p.APIKeys)
		channels += len(p.Channels)
		checks += len(p.Checks)
		for _, ch := range p.Channels {
			kinds[ch.Kind] = true
		}
		for _, c := range p.Checks {
			cron = cron || c.Schedule != ""
			simple = simple || c.Schedule == ""
		}
	}
	if len(cfg.Projects) < 2 || keys == 0 || channels == 0 || checks == 0 || !kinds["email"] || !kinds["webhook"] || !cron || !simple {
		t.Errorf("the example should show projects with api keys, email and webhook channels, cron and simple checks; got %+v", cfg.Projects)
	}
}

// yamlKeys lists the dotted YAML keys of a struct type, descending into
// nested structs and slices of structs.
func yamlKeys(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		out = append(out, key)
		ft := f.Type
		for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, yamlKeys(ft, key+".")...)
		}
	}
	return out
}

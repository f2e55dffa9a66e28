package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/config"
	"go.yaml.in/yaml/v3"
)

// FuzzParse feeds arbitrary bytes to the YAML loader. It must never panic;
// a configuration it accepts must validate or be refused with errors, and
// must print without secrets.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"listen: :8080\n",
		fullYAML,
		"smtp:\n  port: 25\n  password: pw-abcdef\n",
		"projects:\n  - name: p\n    checks:\n      - slug: a\n        grace: 90\n        early_tolerance: ~\n",
		"projects:\n  - name: p\n    checks:\n      - slug: a\n        timeout: 9223372036\n",
		"trusted_proxies: [\"::ffff:10.0.0.0/104\", 1.2.3.4, x]\n",
		"listen: &a x\nbase_url: *a\n",
		"--- !!map\n? listen\n: :1\n",
		"listen: :1\n---\n",
		"projects: [{name: a, api_keys: [{name: k, scope: read-only, value_env: K}], channels: [{name: c, kind: email, to: [a@b.c]}]}]\n",
	}
	if b, err := os.ReadFile(examplePath); err == nil {
		seeds = append(seeds, string(b))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := config.Default()
		if err := config.Parse(data, cfg); err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if err := cfg.Validate(); err != nil && err.Error() == "" {
			t.Error("Validate returned an empty error message")
		}
		_, _ = cfg.ParsedTrustedProxies()
		_ = cfg.DatabaseDSN()

		cfg.DatabaseURL, cfg.SMTP.Password, cfg.BootstrapAPIKey = "fuzz-secret-value", "fuzz-secret-value", "fuzz-secret-value"
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("Marshal of an accepted config: %v", err)
		}
		if strings.Contains(string(out), "fuzz-secret-value") {
			t.Fatalf("Marshal shows a secret:\n%s", out)
		}
	})
}

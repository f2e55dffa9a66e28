package reconcile_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/accounts"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/checks/checkstest"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/password"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/reconcile"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	alphaCIKey   = "alpha-ci-key-0123456789"
	alphaDashKey = "alpha-dash-key-0123456789"
	betaPingKey  = "beta-ping-key-0123456789"
	hookSecret   = "hook-signing-secret"
)

// decl is the declaration the tests apply; %s is the file holding the
// dashboard key's value.
const decl = `
projects:
  - name: Alpha
    api_keys:
      - name: ci
        scope: read-write
        value_env: ALPHA_CI_KEY
      - name: dash
        scope: read-only
        value_file: %s
    channels:
      - name: hook
        kind: webhook
        url: https://hooks.example.com/alpha
        secret_env: ALPHA_HOOK_SECRET
        headers:
          X-Team: ops
      - name: mail
        kind: email
        to: [ops@example.com, oncall@example.com]
    checks:
      - slug: heartbeat
        timeout: 5m
        grace: 2m
      - slug: nightly
        name: Nightly backup
        desc: pg_dump to object storage
        tags: [backup, db]
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
        metric_rules: ["bytes >= 1e6", "bytes >= 0.5 * previous"]
  - name: Beta
    api_keys:
      - name: pings
        scope: ping-only
        value_env: BETA_PING_KEY
    checks:
      - slug: sitemap
`

// firstApply is what applying decl to an empty database reports.
var firstApply = []string{
	"+ project Alpha",
	"+ api key Alpha/ci: scope read-write",
	"+ api key Alpha/dash: scope read-only",
	"+ channel Alpha/hook: webhook",
	"+ channel Alpha/mail: email",
	"+ check Alpha/heartbeat",
	"+ check Alpha/nightly",
	"+ project Beta",
	"+ api key Beta/pings: scope ping-only",
	"+ check Beta/sitemap",
}

type fixture struct {
	db     *store.DB
	env    map[string]string
	yaml   string // decl with the key file filled in
	keyDir string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "dash-key")
	// Trailing whitespace in secret files is common and ignored.
	if err := os.WriteFile(keyFile, []byte(alphaDashKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &fixture{
		db: db,
		env: map[string]string{
			"ALPHA_CI_KEY":      alphaCIKey,
			"BETA_PING_KEY":     betaPingKey,
			"ALPHA_HOOK_SECRET": hookSecret,
		},
		yaml:   fmt.Sprintf(decl, keyFile),
		keyDir: dir,
	}
}

func (f *fixture) getenv(name string) string { return f.env[name] }

// parse turns YAML into a validated configuration.
func parse(t *testing.T, y string) *config.Config {
	t.Helper()
	cfg := config.Default()
	if err := config.Parse([]byte(y), cfg); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return cfg
}

func (f *fixture) apply(t *testing.T, y string, dryRun bool) []string {
	t.Helper()
	changes, err := reconcile.Apply(context.Background(), f.db, areasOf(f.db), parse(t, y), f.getenv, t0, dryRun)
	if err != nil {
		t.Fatalf("Apply (dry run %v): %v", dryRun, err)
	}
	return lines(changes)
}

func (f *fixture) applyErr(t *testing.T, y string, dryRun bool) error {
	t.Helper()
	_, err := reconcile.Apply(context.Background(), f.db, areasOf(f.db), parse(t, y), f.getenv, t0, dryRun)
	if err == nil {
		t.Fatalf("Apply (dry run %v) succeeded, want an error", dryRun)
	}
	return err
}

func lines(changes []reconcile.Change) []string {
	out := []string{}
	for _, c := range changes {
		out = append(out, c.String())
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}

// areasOf is what Apply writes besides the store, on db.
func areasOf(db *store.DB) reconcile.Areas {
	return reconcile.Areas{Projects: projects.New(db), Checks: checksOf(db)}
}

// checksOf is the checks area of db, with its alert stage.
func checksOf(db *store.DB) *checks.Service { return checkstest.New(db) }

func project(t *testing.T, db *store.DB, name string) *nightjar.Project {
	t.Helper()
	p, err := projects.New(db).ByName(context.Background(), name)
	if err != nil {
		t.Fatalf("project %s: %v", name, err)
	}
	return p
}

func checkBySlug(t *testing.T, db *store.DB, p *nightjar.Project, slug string) *nightjar.Check {
	t.Helper()
	cs, err := checksOf(db).List(context.Background(), p.ID, checks.Filter{Slug: slug})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("%d checks with slug %s in %s, want 1", len(cs), slug, p.Name)
	}
	return cs[0]
}

func TestApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)

		sameLines(t, "first apply", f.apply(t, f.yaml, false), firstApply)

		// Projects.
		alpha, beta := project(t, db, "Alpha"), project(t, db, "Beta")
		if alpha.PingKey == "" || alpha.ID == beta.ID {
			t.Errorf("projects: %+v %+v", alpha, beta)
		}

		// API keys, by their secret values.
		for _, k := range []struct {
			secret, project, name string
			scope                 nightjar.Scope
		}{
			{alphaCIKey, alpha.ID, "ci", nightjar.ScopeReadWrite},
			{alphaDashKey, alpha.ID, "dash", nightjar.ScopeReadOnly},
			{betaPingKey, beta.ID, "pings", nightjar.ScopePingOnly},
		} {
			got, err := projects.New(db).KeyBySecret(ctx, k.secret)
			if err != nil {
				t.Errorf("key %s: %v", k.name, err)
				continue
			}
			if got.ProjectID != k.project || got.Name != k.name || got.Scope != k.scope {
				t.Errorf("key %s = %+v, want project %s scope %s", k.name, got, k.project, k.scope)
			}
		}
		if _, err := projects.New(db).KeyBySecret(ctx, alphaDashKey+"\n"); err == nil {
			t.Error("the key file's trailing newline became part of the key")
		}

		// Channels, with the webhook secret from the environment.
		chans, err := channels.New(db).List(ctx, alpha.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(chans) != 2 {
			t.Fatalf("Alpha has %d channels, want 2", len(chans))
		}
		byName := map[string]*nightjar.Channel{}
		for _, ch := range chans {
			byName[ch.Name] = ch
		}
		hook, mail := byName["hook"], byName["mail"]
		if hook == nil || hook.Kind != nightjar.ChannelWebhook || !reflect.DeepEqual(hook.Config, nightjar.ChannelConfig{
			URL: "https://hooks.example.com/alpha", Secret: hookSecret, Headers: map[string]string{"X-Team": "ops"},
		}) {
			t.Errorf("webhook channel = %+v", hook)
		}
		if mail == nil || mail.Kind != nightjar.ChannelEmail || !reflect.DeepEqual(mail.Config.To, []string{"ops@example.com", "oncall@example.com"}) {
			t.Errorf("email channel = %+v", mail)
		}
		if chans, _ := channels.New(db).List(ctx, beta.ID); len(chans) != 0 {
			t.Errorf("Beta has channels: %+v", chans)
		}

		// Checks: a simple one with defaults filled in ...
		hb := checkBySlug(t, db, alpha, "heartbeat")
		if hb.Name != "heartbeat" || hb.Kind != nightjar.KindSimple || hb.Timeout != 5*time.Minute || hb.Grace != 2*time.Minute ||
			hb.TZ != "UTC" || hb.EarlyTolerance != nightjar.DefaultEarlyTolerance || hb.FailureThreshold != 1 ||
			hb.State.Status != nightjar.StatusNew {
			t.Errorf("simple check = %+v", hb)
		}
		// ... a cron one with every option ...
		nightly := checkBySlug(t, db, alpha, "nightly")
		want := nightjar.Check{
			ID: nightly.ID, ProjectID: alpha.ID, Name: "Nightly backup", Slug: "nightly",
			Tags: []string{"backup", "db"}, Desc: "pg_dump to object storage", Service: "postgres",
			Kind: nightjar.KindCron, Timeout: nightjar.DefaultTimeout, Grace: 30 * time.Minute,
			Schedule: "30 2 * * *", TZ: "Europe/Berlin", EarlyTolerance: 0,
			MaxRuntime: 2 * time.Hour, MinRuntime: time.Minute, FailureThreshold: 3,
			RealertInterval: 6 * time.Hour, Methods: "POST", ManualResume: true,
			MetricRules: []string{"bytes >= 1e6", "bytes >= 0.5 * previous"},
			BadgeKey:    nightly.BadgeKey,
		}
		if len(nightly.BadgeKey) != 32 {
			t.Errorf("badge key %q, want 32 random hex digits", nightly.BadgeKey)
		}
		got := *nightly
		got.State, got.CreatedAt, got.UpdatedAt = nightjar.CheckState{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cron check:\n got: %+v\nwant: %+v", got, want)
		}
		// ... and one with nothing but a slug.
		sm := checkBySlug(t, db, beta, "sitemap")
		if sm.Name != "sitemap" || sm.Kind != nightjar.KindSimple || sm.Timeout != nightjar.DefaultTimeout || sm.Grace != nightjar.DefaultGrace {
			t.Errorf("minimal check = %+v", sm)
		}

		// Applying the same file again changes nothing.
		sameLines(t, "second apply", f.apply(t, f.yaml, false), nil)
		sameLines(t, "dry run after apply", f.apply(t, f.yaml, true), nil)
		if keys, _ := projects.New(db).Keys(ctx, alpha.ID); len(keys) != 2 {
			t.Errorf("Alpha has %d keys after two applies, want 2", len(keys))
		}
		if cs, _ := checksOf(db).List(ctx, alpha.ID, checks.Filter{}); len(cs) != 2 {
			t.Errorf("Alpha has %d checks after two applies, want 2", len(cs))
		}
		after := checkBySlug(t, db, alpha, "nightly")
		if !after.UpdatedAt.Equal(nightly.UpdatedAt) {
			t.Errorf("an unchanged check was written: updated_at %v → %v", nightly.UpdatedAt, after.UpdatedAt)
		}

		// Changing a check's grace and schedule is one "~" line naming both.
		changed := strings.Replace(f.yaml, "grace: 30m", "grace: 45m", 1)
		changed = strings.Replace(changed, `schedule: "30 2 * * *"`, `schedule: "0 3 * * *"`, 1)
		wantChange := []string{`~ check Alpha/nightly: grace 30m0s → 45m0s, schedule "30 2 * * *" → "0 3 * * *"`}
		sameLines(t, "dry run of a change", f.apply(t, changed, true), wantChange)
		if c := checkBySlug(t, db, alpha, "nightly"); c.Grace != 30*time.Minute || c.Schedule != "30 2 * * *" {
			t.Errorf("dry run wrote: grace %v schedule %q", c.Grace, c.Schedule)
		}
		sameLines(t, "apply of a change", f.apply(t, changed, false), wantChange)
		updated := checkBySlug(t, db, alpha, "nightly")
		if updated.ID != nightly.ID || updated.Grace != 45*time.Minute || updated.Schedule != "0 3 * * *" ||
			updated.MaxRuntime != 2*time.Hour || updated.FailureThreshold != 3 || updated.TZ != "Europe/Berlin" {
			t.Errorf("updated check = %+v", updated)
		}
		sameLines(t, "apply after the change", f.apply(t, changed, false), nil)
	})
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)

		sameLines(t, "dry run", f.apply(t, f.yaml, true), firstApply)
		if ps, err := projects.New(db).List(ctx); err != nil || len(ps) != 0 {
			t.Fatalf("dry run created projects: %v %v", ps, err)
		}
		for _, secret := range []string{alphaCIKey, alphaDashKey, betaPingKey} {
			if _, err := projects.New(db).KeyBySecret(ctx, secret); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
				t.Errorf("dry run created a key: %v", err)
			}
		}

		// Against an existing project the dry run also reports what a real
		// run would do, and writes nothing.
		sameLines(t, "apply", f.apply(t, f.yaml, false), firstApply)
		alpha := project(t, db, "Alpha")
		more := f.yaml + `
      - slug: extra
        timeout: 1h
`
		sameLines(t, "dry run of a new check", f.apply(t, more, true), []string{"+ check Beta/extra"})
		if cs, _ := checksOf(db).List(ctx, project(t, db, "Beta").ID, checks.Filter{Slug: "extra"}); len(cs) != 0 {
			t.Errorf("dry run created check extra")
		}
		withChannel := strings.Replace(f.yaml, "https://hooks.example.com/alpha", "https://hooks.example.com/new", 1)
		sameLines(t, "dry run of a channel change", f.apply(t, withChannel, true), []string{"~ channel Alpha/hook: settings changed"})
		chans, _ := channels.New(db).List(ctx, alpha.ID)
		for _, ch := range chans {
			if ch.Config.URL == "https://hooks.example.com/new" {
				t.Error("dry run changed the channel")
			}
		}
		sameLines(t, "apply of a channel change", f.apply(t, withChannel, false), []string{"~ channel Alpha/hook: settings changed"})
		sameLines(t, "apply after the channel change", f.apply(t, withChannel, false), nil)
	})
}

func TestApplyAPIKeyChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.apply(t, f.yaml, false)

		// A new scope for the same secret is an update, reported the same
		// way by a dry run and a real one.
		rescoped := strings.Replace(f.yaml, "scope: read-write", "scope: read-only", 1)
		want := []string{"~ api key Alpha/ci: scope read-write → read-only"}
		sameLines(t, "dry run of a scope change", f.apply(t, rescoped, true), want)
		if k, _ := projects.New(db).KeyBySecret(ctx, alphaCIKey); k.Scope != nightjar.ScopeReadWrite {
			t.Errorf("dry run changed the scope to %s", k.Scope)
		}
		sameLines(t, "apply of a scope change", f.apply(t, rescoped, false), want)
		if k, _ := projects.New(db).KeyBySecret(ctx, alphaCIKey); k.Scope != nightjar.ScopeReadOnly {
			t.Errorf("scope is %s after the change", k.Scope)
		}
		sameLines(t, "apply after the scope change", f.apply(t, rescoped, false), nil)

		renamed := strings.Replace(rescoped, "name: ci", "name: deploy", 1)
		sameLines(t, "apply of a rename", f.apply(t, renamed, false), []string{"~ api key Alpha/deploy: name ci → deploy"})
		sameLines(t, "apply after the rename", f.apply(t, renamed, false), nil)

		// A new secret is a new key; the old one stays (nothing is deleted).
		f.env["ALPHA_CI_KEY"] = "rotated-ci-key-0123456789"
		sameLines(t, "apply of a rotated key", f.apply(t, renamed, false), []string{"+ api key Alpha/deploy: scope read-only"})
		if keys, _ := projects.New(db).Keys(ctx, project(t, db, "Alpha").ID); len(keys) != 3 {
			t.Errorf("Alpha has %d keys, want 3", len(keys))
		}

		// The same secret declared for another project is refused, by a
		// dry run too.
		f.env["BETA_PING_KEY"] = alphaCIKey
		for _, dry := range []bool{true, false} {
			err := f.applyErr(t, f.yaml, dry)
			if !strings.Contains(err.Error(), "api key Beta/pings") || !strings.Contains(err.Error(), "another project") {
				t.Errorf("error for a key of another project (dry run %v): %v", dry, err)
			}
		}
	})
}

func TestApplyAPIKeyValueErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		empty := filepath.Join(f.keyDir, "empty")
		if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		short := filepath.Join(f.keyDir, "short")
		if err := os.WriteFile(short, []byte("abc"), 0o600); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			yaml string
			env  map[string]string
			want []string
		}{
			{name: "empty variable", yaml: f.yaml, env: map[string]string{"ALPHA_CI_KEY": ""},
				want: []string{"api key Alpha/ci", "ALPHA_CI_KEY", "empty"}},
			{name: "missing file", yaml: f.yaml, env: nil,
				want: []string{"api key Alpha/dash", "no such file"}},
			{name: "empty file", yaml: f.yaml, env: nil,
				want: []string{"api key Alpha/dash", empty, "empty"}},
			{name: "short value", yaml: f.yaml, env: nil,
				want: []string{"api key Alpha/dash", "16 characters"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				y := tt.yaml
				switch tt.name {
				case "missing file":
					y = strings.Replace(y, filepath.Join(f.keyDir, "dash-key"), filepath.Join(f.keyDir, "nope"), 1)
				case "empty file":
					y = strings.Replace(y, filepath.Join(f.keyDir, "dash-key"), empty, 1)
				case "short value":
					y = strings.Replace(y, filepath.Join(f.keyDir, "dash-key"), short, 1)
				}
				saved := f.env
				f.env = map[string]string{}
				for k, v := range saved {
					f.env[k] = v
				}
				for k, v := range tt.env {
					f.env[k] = v
				}
				defer func() { f.env = saved }()
				for _, dry := range []bool{true, false} {
					err := f.applyErr(t, y, dry)
					for _, w := range tt.want {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("error (dry run %v) %q does not contain %q", dry, err, w)
						}
					}
				}
				// No key was made up in place of the missing value.
				if p, err := projects.New(db).ByName(context.Background(), "Alpha"); err == nil {
					keys, _ := projects.New(db).Keys(context.Background(), p.ID)
					for _, k := range keys {
						if k.Name == "dash" || (tt.name == "empty variable" && k.Name == "ci") {
							t.Errorf("a key was created without its value: %+v", k)
						}
					}
				}
			})
		}
	})
}

func TestApplyInvalidCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		bad := f.yaml + `
      - slug: broken
        schedule: "61 * * * *"
`
		for _, dry := range []bool{true, false} {
			err := f.applyErr(t, bad, dry)
			if !strings.Contains(err.Error(), "check Beta/broken") || !strings.Contains(err.Error(), "schedule") {
				t.Errorf("error (dry run %v) does not name the check and the field: %v", dry, err)
			}
		}
		// The refused apply wrote nothing, not even what came before the
		// broken check.
		if _, err := projects.New(db).ByName(context.Background(), "Alpha"); nightjar.ErrorCode(err) != nightjar.ENOTFOUND {
			t.Fatalf("a refused apply created project Alpha (%v)", err)
		}
		// An invalid change to an existing check is refused the same way.
		f.apply(t, f.yaml, false)
		worse := strings.Replace(f.yaml, "tz: Europe/Berlin", "tz: Mars/Olympus", 1)
		err := f.applyErr(t, worse, false)
		if !strings.Contains(err.Error(), "check Alpha/nightly") || !strings.Contains(err.Error(), "tz") {
			t.Errorf("error does not name the check and the field: %v", err)
		}
		if c := checkBySlug(t, db, project(t, db, "Alpha"), "nightly"); c.TZ != "Europe/Berlin" {
			t.Errorf("an invalid change was written: tz %q", c.TZ)
		}
		// A bad channel is named too.
		badChannel := strings.Replace(f.yaml, "ops@example.com", "not an address", 1)
		err = f.applyErr(t, badChannel, false)
		if !strings.Contains(err.Error(), "channel Alpha/mail") {
			t.Errorf("error does not name the channel: %v", err)
		}
	})
}

func TestApplyChannelSecretEnv(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.apply(t, f.yaml, false)
		// A declared secret variable that is not set would silently turn
		// off signing; it is an error instead.
		delete(f.env, "ALPHA_HOOK_SECRET")
		err := f.applyErr(t, f.yaml, false)
		if !strings.Contains(err.Error(), "channel Alpha/hook") || !strings.Contains(err.Error(), "ALPHA_HOOK_SECRET") {
			t.Errorf("error = %v", err)
		}
		chans, _ := channels.New(db).List(context.Background(), project(t, db, "Alpha").ID)
		for _, ch := range chans {
			if ch.Name == "hook" && ch.Config.Secret != hookSecret {
				t.Errorf("the webhook secret was changed to %q", ch.Config.Secret)
			}
		}
		// A new secret is a channel change, and the diff does not show it.
		f.env["ALPHA_HOOK_SECRET"] = "rotated-secret"
		got := f.apply(t, f.yaml, false)
		sameLines(t, "secret rotation", got, []string{"~ channel Alpha/hook: settings changed"})
		if strings.Contains(strings.Join(got, "\n"), "rotated-secret") {
			t.Error("the diff shows the secret")
		}
	})
}

// TestApplyStoredFormIsIdempotent: empty headers and recipient lists are
// stored as absent and durations in whole milliseconds, which must not read
// as a difference on every apply.
func TestApplyStoredFormIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		y := `
projects:
  - name: Gamma
    channels:
      - name: hook
        kind: webhook
        url: https://hooks.example.com/g
        headers: {}
        to: []
      - name: mail
        kind: email
        to: [a@example.com]
        headers: {}
    checks:
      - slug: c
        tags: []
        metric_rules: []
      - slug: fine-grained
        timeout: 1h0m0.0004s
        grace: 60.0009s
        max_runtime: 1500100us
        realert_interval: 2m0.5000001s
`
		sameLines(t, "first apply", f.apply(t, y, false), []string{
			"+ project Gamma", "+ channel Gamma/hook: webhook", "+ channel Gamma/mail: email", "+ check Gamma/c",
			"+ check Gamma/fine-grained"})
		sameLines(t, "second apply", f.apply(t, y, false), nil)
		c := checkBySlug(t, db, project(t, db, "Gamma"), "fine-grained")
		if c.Timeout != time.Hour || c.Grace != time.Minute || c.MaxRuntime != 1500*time.Millisecond || c.RealertInterval != 2*time.Minute+500*time.Millisecond {
			t.Errorf("durations stored as %v %v %v %v", c.Timeout, c.Grace, c.MaxRuntime, c.RealertInterval)
		}
	})
}

func TestApplyLeavesOthersAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.apply(t, f.yaml, false)
		alpha := project(t, db, "Alpha")

		// Objects made elsewhere, in a declared project and in another one.
		manual := nightjar.NewCheck(alpha.ID, "Made by hand")
		manual.Timeout, manual.Grace = 10*time.Minute, 5*time.Minute
		if err := checksOf(db).Create(ctx, manual, t0); err != nil {
			t.Fatal(err)
		}
		ch := &nightjar.Channel{ProjectID: alpha.ID, Kind: nightjar.ChannelEmail, Name: "by-hand",
			Config: nightjar.ChannelConfig{To: []string{"me@example.com"}}}
		if err := channels.New(db).Create(ctx, ch, t0); err != nil {
			t.Fatal(err)
		}
		handKey, err := projects.New(db).CreateKey(ctx, &nightjar.APIKey{ProjectID: alpha.ID, Name: "by-hand", Scope: nightjar.ScopeReadOnly}, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		other := &nightjar.Project{Name: "Other"}
		if err := projects.New(db).Create(ctx, other, t0); err != nil {
			t.Fatal(err)
		}
		otherCheck := nightjar.NewCheck(other.ID, "heartbeat") // same slug as a declared check
		if err := checksOf(db).Create(ctx, otherCheck, t0); err != nil {
			t.Fatal(err)
		}

		// Remove a check from the file: it stays in the database too.
		smaller := strings.Replace(f.yaml, "      - slug: heartbeat\n        timeout: 5m\n        grace: 2m\n", "", 1)
		if smaller == f.yaml {
			t.Fatal("test set-up: heartbeat check not removed from the file")
		}
		sameLines(t, "apply", f.apply(t, smaller, false), nil)

		all, err := checksOf(db).List(ctx, alpha.ID, checks.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		slugs := map[string]*nightjar.Check{}
		for _, c := range all {
			slugs[c.Slug] = c
		}
		if len(all) != 3 || slugs["heartbeat"] == nil || slugs["nightly"] == nil || slugs["made-by-hand"] == nil {
			t.Errorf("checks after apply: %v", slugs)
		}
		if got := slugs["made-by-hand"]; got != nil && (got.Timeout != 10*time.Minute || got.Grace != 5*time.Minute || !got.UpdatedAt.Equal(manual.UpdatedAt)) {
			t.Errorf("the hand-made check was changed: %+v", got)
		}
		if c, err := checksOf(db).Get(ctx, other.ID, otherCheck.ID); err != nil || c.Grace != otherCheck.Grace {
			t.Errorf("the other project's check: %+v %v", c, err)
		}
		if chans, _ := channels.New(db).List(ctx, alpha.ID); len(chans) != 3 {
			t.Errorf("Alpha has %d channels, want 3", len(chans))
		}
		if k, err := projects.New(db).KeyBySecret(ctx, handKey); err != nil || k.Name != "by-hand" {
			t.Errorf("hand-made key: %+v %v", k, err)
		}
	})
}

// TestApplyExampleConfig applies the documented example, so its projects,
// channels and checks are known to be accepted by the server.
func TestApplyExampleConfig(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg, err := config.Load(filepath.Join("..", "config", "testdata", "example.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		// Key files named in the example are given in a temporary directory.
		dir := t.TempDir()
		for i := range cfg.Projects {
			for j := range cfg.Projects[i].APIKeys {
				k := &cfg.Projects[i].APIKeys[j]
				if k.ValueFile != "" {
					k.ValueFile = filepath.Join(dir, filepath.Base(k.ValueFile))
					if err := os.WriteFile(k.ValueFile, []byte(k.Name+"-example-key-value\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		// The people the example's on-call objects name are members of
		// its Website project.
		web := storetest.NewProject(t, db, "Website", t0)
		as := accounts.New(db, password.New(password.TestCost, 0))
		for _, email := range []string{"alice@example.com", "bob@example.com"} {
			if _, err := as.CreateUser(context.Background(), email, "correct horse battery", web.ID, nightjar.RoleMember, t0); err != nil {
				t.Fatal(err)
			}
		}
		getenv := func(name string) string { return strings.ToLower(name) + "-value" }
		changes, err := reconcile.Apply(context.Background(), db, areasOf(db), cfg, getenv, t0, false)
		if err != nil {
			t.Fatalf("the example does not apply: %v", err)
		}
		if len(changes) == 0 {
			t.Fatal("the example created nothing")
		}
		for _, c := range changes {
			if c.Op != "+" {
				t.Errorf("first apply of the example: %s", c)
			}
		}
		again, err := reconcile.Apply(context.Background(), db, areasOf(db), cfg, getenv, t0, false)
		if err != nil || len(again) != 0 {
			t.Errorf("second apply of the example: %q %v", lines(again), err)
		}
	})
}

func TestChangeString(t *testing.T) {
	for _, tt := range []struct {
		c    reconcile.Change
		want string
	}{
		{reconcile.Change{Op: "+", Object: "project P"}, "+ project P"},
		{reconcile.Change{Op: "~", Object: "check P/c", Detail: "grace 1m0s → 2m0s"}, "~ check P/c: grace 1m0s → 2m0s"},
	} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// `nightjar apply` holds text to the rules the APIs and the console hold
// it to: a NUL byte (YAML's "\0") in any name or text setting is refused
// with the field named, before anything is written, on both databases.
func TestApplyRefusesBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, tc := range []struct{ old, new, object, field string }{
			{"- name: Alpha", `- name: "Al\0pha"`, "project Al\x00pha", "name"},
			{"- name: ci", `- name: "c\0i"`, "api key Alpha/c\x00i", "name"},
			{"- name: hook", `- name: "ho\0ok"`, "channel Alpha/ho\x00ok", "name"},
			{"X-Team: ops", `X-Team: "o\0ps"`, "channel Alpha/hook", "config.headers"},
			{"name: Nightly backup", `name: "Nightly\0backup"`, "check Alpha/nightly", "name"},
			{"desc: pg_dump to object storage", `desc: "pg_dump\0"`, "check Alpha/nightly", "desc"},
			{"service: postgres", `service: "post\0gres"`, "check Alpha/nightly", "service"},
			{"tags: [backup, db]", `tags: ["back\0up"]`, "check Alpha/nightly", "tags"},
			{"tz: Europe/Berlin", `tz: "Europe/Berlin\0"`, "check Alpha/nightly", "tz"},
			{"- slug: heartbeat", `- slug: "heart\0beat"`, "check Alpha/heart\x00beat", "slug"},
		} {
			y := strings.Replace(f.yaml, tc.old, tc.new, 1)
			for _, dry := range []bool{true, false} {
				err := f.applyErr(t, y, dry)
				if !strings.Contains(err.Error(), tc.object+": ") || !strings.Contains(err.Error(), tc.field+": ") || nightjar.ErrorCode(err) != nightjar.EINVALID {
					t.Errorf("%s (dry run %v): error %q, want one about %s of %s", tc.new, dry, err, tc.field, tc.object)
				}
			}
		}
		if ps, err := projects.New(db).List(context.Background()); err != nil || len(ps) != 0 {
			t.Fatalf("refused applies wrote projects: %v %v", ps, err)
		}
	})
}

// Healthchecks' filter_http_body and filter_default_fail are declared in
// the file like any other setting, and a change shows in the diff.
func TestApplyHTTPBodyFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		y := `
projects:
  - name: F
    checks:
      - slug: filtered
        filter_http_body: true
        filter_default_fail: true
        success_kw: SUCCESS
`
		f.apply(t, y, false)
		c := checkBySlug(t, db, project(t, db, "F"), "filtered")
		if !c.FilterHTTPBody || !c.FilterDefaultFail || c.FilterBody {
			t.Fatalf("filters: http %v, default fail %v, body %v", c.FilterHTTPBody, c.FilterDefaultFail, c.FilterBody)
		}
		sameLines(t, "again", f.apply(t, y, false), nil)
		sameLines(t, "off", f.apply(t, strings.Replace(y, "filter_default_fail: true", "filter_default_fail: false", 1), false),
			[]string{"~ check F/filtered: filter_default_fail true → false"})
	})
}

// OnCalendar schedules make oncalendar checks, and a schedule that never
// runs stops the apply with an error naming the check and the schedule.
func TestApplySchedules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		y := `
projects:
  - name: S
    checks:
      - slug: weekdays
        schedule: |
          Mon..Fri *-*-* 09:00
          Sat 12:00 Europe/Riga
`
		f.apply(t, y, false)
		c := checkBySlug(t, db, project(t, db, "S"), "weekdays")
		if c.Kind != nightjar.KindOnCalendar || c.Schedule != "Mon..Fri *-*-* 09:00\nSat 12:00 Europe/Riga\n" {
			t.Fatalf("kind %q, schedule %q", c.Kind, c.Schedule)
		}
		for _, dry := range []bool{true, false} {
			err := f.applyErr(t, y+`      - slug: never
        schedule: "0 0 31 2 *"
`, dry)
			if !strings.Contains(err.Error(), "check S/never") || !strings.Contains(err.Error(), "schedule: never runs") {
				t.Errorf("error (dry run %v): %v", dry, err)
			}
		}
	})
}

// eachWithSQL runs fn on each database, with a plain SQL handle on the
// same database beside the store, for setting up what the store cannot.
func eachWithSQL(t *testing.T, fn func(t *testing.T, db *store.DB, raw *sql.DB, dialect string)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			dsn, driver := storetest.SQLitePath(t), "sqlite"
			if d == "postgres" {
				dsn, driver = storetest.PostgresURL(t), "pgx"
			}
			db, err := store.Open(context.Background(), dsn, store.Options{Synchronous: "NORMAL"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			raw, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			fn(t, db, raw, d)
		})
	}
}

// failOnSlug makes the database itself refuse to insert a check with the
// slug "boom", an error no validation can foresee.
func failOnSlug(t *testing.T, raw *sql.DB, dialect string) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER boom BEFORE INSERT ON checks WHEN NEW.slug = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END`}
	if dialect == "postgres" {
		stmts = []string{
			`CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN IF NEW.slug = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER boom BEFORE INSERT ON checks FOR EACH ROW EXECUTE FUNCTION boom()`,
		}
	}
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// snapshot counts what an apply can write.
func snapshot(t *testing.T, raw *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"projects", "api_keys", "channels", "checks"} {
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	var sum int64
	if err := raw.QueryRow(`SELECT COALESCE(SUM(grace_ms), 0) FROM checks`).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	out["grace"] = int(sum / 1000)
	return out
}

// An apply that fails half-way, after creating projects, keys, channels
// and checks and changing others, leaves the database as it was: the whole
// file is one transaction.
func TestApplyIsAllOrNothing(t *testing.T) {
	eachWithSQL(t, func(t *testing.T, db *store.DB, raw *sql.DB, dialect string) {
		f := newFixture(t, db)
		failOnSlug(t, raw, dialect)
		empty := snapshot(t, raw)
		bad := f.yaml + `      - slug: boom
`
		err := f.applyErr(t, bad, false)
		if !strings.Contains(err.Error(), "check Beta/boom") {
			t.Errorf("error does not name the check: %v", err)
		}
		if got := snapshot(t, raw); !reflect.DeepEqual(got, empty) {
			t.Fatalf("a failed first apply left %v, want %v", got, empty)
		}
		// On a database that has the file applied already: new objects
		// and changes to existing ones are all undone.
		f.apply(t, f.yaml, false)
		before := snapshot(t, raw)
		changed := strings.Replace(f.yaml, "grace: 2m", "grace: 3m", 1) + `      - slug: new-one
      - slug: boom
  - name: Gamma
    channels:
      - name: g
        kind: webhook
        url: https://hooks.example.com/g
`
		if err := f.applyErr(t, changed, false); !strings.Contains(err.Error(), "boom") {
			t.Errorf("error: %v", err)
		}
		if got := snapshot(t, raw); !reflect.DeepEqual(got, before) {
			t.Fatalf("a failed apply changed the database: %v, want %v", got, before)
		}
		if c := checkBySlug(t, db, project(t, db, "Alpha"), "heartbeat"); c.Grace != 2*time.Minute {
			t.Errorf("grace of Alpha/heartbeat = %s, want it unchanged", c.Grace)
		}
	})
}

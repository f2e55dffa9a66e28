// Package reconcile makes the projects, API keys, channels and checks that
// a configuration file declares true in the database. It is idempotent:
// applying the same file twice changes nothing the second time, and it
// reports what it changed (or, in a dry run, would change) as a diff.
// Objects the file does not mention are left alone.
package reconcile

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/store"
)

// Change is one line of the diff.
type Change struct {
	// Op is "+" (create), "~" (update) or "=" (unchanged).
	Op     string
	Object string
	Detail string
}

// String renders the change as a diff line.
func (c Change) String() string {
	if c.Detail == "" {
		return c.Op + " " + c.Object
	}
	return c.Op + " " + c.Object + ": " + c.Detail
}

// Apply reconciles the database with cfg. With dryRun nothing is written.
func Apply(ctx context.Context, db *store.DB, cfg *config.Config, getenv func(string) string, now time.Time, dryRun bool) ([]Change, error) {
	var changes []Change
	for _, pc := range cfg.Projects {
		p, err := db.ProjectByName(ctx, pc.Name)
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			changes = append(changes, Change{Op: "+", Object: "project " + pc.Name})
			p = &nightjar.Project{Name: pc.Name}
			if !dryRun {
				if err := db.CreateProject(ctx, p, now); err != nil {
					return changes, err
				}
			}
		} else if err != nil {
			return changes, err
		}
		for _, kc := range pc.APIKeys {
			secret, err := keyValue(kc, getenv)
			if err != nil {
				return changes, err
			}
			obj := fmt.Sprintf("api key %s/%s", pc.Name, kc.Name)
			if dryRun {
				k, err := db.APIKeyBySecret(ctx, secret)
				if err != nil || k.ProjectID != p.ID || string(k.Scope) != kc.Scope || k.Name != kc.Name {
					changes = append(changes, Change{Op: "+", Object: obj, Detail: "scope " + kc.Scope})
				}
				continue
			}
			created, err := db.EnsureAPIKey(ctx, p.ID, kc.Name, nightjar.Scope(kc.Scope), secret, now)
			if err != nil {
				return changes, fmt.Errorf("%s: %w", obj, err)
			}
			if created {
				changes = append(changes, Change{Op: "+", Object: obj, Detail: "scope " + kc.Scope})
			}
		}
		if err := applyChannels(ctx, db, p, pc, getenv, now, dryRun, &changes); err != nil {
			return changes, err
		}
		if err := applyChecks(ctx, db, p, pc, now, dryRun, &changes); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

func keyValue(kc config.APIKeyConfig, getenv func(string) string) (string, error) {
	if kc.ValueEnv != "" {
		v := getenv(kc.ValueEnv)
		if v == "" {
			return "", fmt.Errorf("api key %s: environment variable %s is empty", kc.Name, kc.ValueEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(kc.ValueFile)
	if err != nil {
		return "", fmt.Errorf("api key %s: %w", kc.Name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func applyChannels(ctx context.Context, db *store.DB, p *nightjar.Project, pc config.ProjectConfig, getenv func(string) string, now time.Time, dryRun bool, changes *[]Change) error {
	var existing []*nightjar.Channel
	if p.ID != "" {
		var err error
		if existing, err = db.Channels(ctx, p.ID); err != nil {
			return err
		}
	}
	for _, cc := range pc.Channels {
		want := &nightjar.Channel{ProjectID: p.ID, Kind: cc.Kind, Name: cc.Name,
			Config: nightjar.ChannelConfig{URL: cc.URL, Headers: cc.Headers, To: cc.To}}
		if cc.SecretEnv != "" {
			want.Config.Secret = getenv(cc.SecretEnv)
		}
		if err := want.Validate(); err != nil {
			return fmt.Errorf("channel %s/%s: %w", pc.Name, cc.Name, err)
		}
		obj := fmt.Sprintf("channel %s/%s", pc.Name, cc.Name)
		var have *nightjar.Channel
		for _, e := range existing {
			if e.Name == cc.Name {
				have = e
				break
			}
		}
		switch {
		case have == nil:
			*changes = append(*changes, Change{Op: "+", Object: obj, Detail: cc.Kind})
			if !dryRun {
				if err := db.CreateChannel(ctx, want, now); err != nil {
					return err
				}
			}
		case have.Kind != want.Kind || !reflect.DeepEqual(have.Config, want.Config):
			*changes = append(*changes, Change{Op: "~", Object: obj, Detail: "settings changed"})
			want.ID = have.ID
			if !dryRun {
				if err := db.UpdateChannel(ctx, want); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// desired applies a check declaration over c (a new or existing check).
func desired(c *nightjar.Check, cc config.CheckConfig) {
	c.Name, c.Slug, c.Desc, c.Service = cc.Name, cc.Slug, cc.Desc, cc.Service
	if c.Name == "" {
		c.Name = cc.Slug
	}
	c.Tags = cc.Tags
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if cc.Schedule != "" {
		c.Kind, c.Schedule = nightjar.KindCron, cc.Schedule
		c.Timeout = nightjar.DefaultTimeout
	} else {
		c.Kind, c.Schedule = nightjar.KindSimple, ""
		c.Timeout = nightjar.DefaultTimeout
		if cc.Timeout != 0 {
			c.Timeout = time.Duration(cc.Timeout)
		}
	}
	c.TZ = cc.TZ
	if c.TZ == "" {
		c.TZ = "UTC"
	}
	c.Grace = nightjar.DefaultGrace
	if cc.Grace != 0 {
		c.Grace = time.Duration(cc.Grace)
	}
	c.EarlyTolerance = nightjar.DefaultEarlyTolerance
	if cc.EarlyTolerance != nil {
		c.EarlyTolerance = time.Duration(*cc.EarlyTolerance)
	}
	c.MaxRuntime, c.MinRuntime = time.Duration(cc.MaxRuntime), time.Duration(cc.MinRuntime)
	c.FailureThreshold = cc.FailureThreshold
	if c.FailureThreshold == 0 {
		c.FailureThreshold = 1
	}
	c.RealertInterval = time.Duration(cc.RealertInterval)
	c.Methods, c.ManualResume = cc.Methods, cc.ManualResume
	c.MetricRules = cc.MetricRules
	if c.MetricRules == nil {
		c.MetricRules = []string{}
	}
}

// settingsDiff lists the settings that differ between two checks.
func settingsDiff(a, b *nightjar.Check) []string {
	var out []string
	cmp := func(name string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			out = append(out, fmt.Sprintf("%s %v → %v", name, x, y))
		}
	}
	cmp("name", a.Name, b.Name)
	cmp("tags", a.Tags, b.Tags)
	cmp("desc", a.Desc, b.Desc)
	cmp("service", a.Service, b.Service)
	cmp("kind", a.Kind, b.Kind)
	cmp("timeout", a.Timeout, b.Timeout)
	cmp("grace", a.Grace, b.Grace)
	cmp("schedule", a.Schedule, b.Schedule)
	cmp("tz", a.TZ, b.TZ)
	cmp("early_tolerance", a.EarlyTolerance, b.EarlyTolerance)
	cmp("max_runtime", a.MaxRuntime, b.MaxRuntime)
	cmp("min_runtime", a.MinRuntime, b.MinRuntime)
	cmp("failure_threshold", a.FailureThreshold, b.FailureThreshold)
	cmp("realert_interval", a.RealertInterval, b.RealertInterval)
	cmp("methods", a.Methods, b.Methods)
	cmp("manual_resume", a.ManualResume, b.ManualResume)
	cmp("metric_rules", a.MetricRules, b.MetricRules)
	return out
}

func applyChecks(ctx context.Context, db *store.DB, p *nightjar.Project, pc config.ProjectConfig, now time.Time, dryRun bool, changes *[]Change) error {
	for _, cc := range pc.Checks {
		obj := fmt.Sprintf("check %s/%s", pc.Name, cc.Slug)
		var existing []*nightjar.Check
		if p.ID != "" {
			var err error
			if existing, err = db.Checks(ctx, p.ID, store.CheckFilter{Slug: cc.Slug}); err != nil {
				return err
			}
		}
		if len(existing) > 1 {
			return fmt.Errorf("%s: %d checks have this slug; make it unique first", obj, len(existing))
		}
		if len(existing) == 0 {
			c := nightjar.NewCheck(p.ID, cc.Name)
			desired(c, cc)
			if err := c.Validate(); err != nil {
				return fmt.Errorf("%s: %w", obj, err)
			}
			*changes = append(*changes, Change{Op: "+", Object: obj})
			if !dryRun {
				if err := db.CreateCheck(ctx, c, now); err != nil {
					return fmt.Errorf("%s: %w", obj, err)
				}
			}
			continue
		}
		want := *existing[0]
		desired(&want, cc)
		if err := want.Validate(); err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		diff := settingsDiff(existing[0], &want)
		if len(diff) == 0 {
			continue
		}
		*changes = append(*changes, Change{Op: "~", Object: obj, Detail: strings.Join(diff, ", ")})
		if !dryRun {
			if _, err := db.UpdateCheck(ctx, p.ID, want.ID, now, func(c *nightjar.Check) error {
				desired(c, cc)
				return nil
			}); err != nil {
				return fmt.Errorf("%s: %w", obj, err)
			}
		}
	}
	return nil
}

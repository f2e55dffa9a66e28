// Package reconcile makes the projects, API keys, channels and checks that
// a configuration file declares true in the database. It is idempotent:
// applying the same file twice changes nothing the second time, and it
// reports what it changed (or, in a dry run, would change) as a diff.
// Objects the file does not mention are left alone.
package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/channels"
	"github.com/nightjar-dev/nightjar/checks"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/openslo"
	"github.com/nightjar-dev/nightjar/projects"
	"github.com/nightjar-dev/nightjar/slo"
	"github.com/nightjar-dev/nightjar/slos"
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

// Areas are the parts of Nightjar's state a configuration declares beyond
// what the store holds: projects and their API keys, and checks.
type Areas struct {
	Projects *projects.Store
	// Checks creates and changes the declared checks.
	Checks *checks.Service
}

// Apply reconciles the database with cfg. With dryRun nothing is written.
//
// The whole configuration is applied in one transaction: all of it or,
// when anything in it is invalid or fails, or the process is killed
// half-way, none of it. On SQLite this holds the database's one writer
// for the apply's duration, so pings wait that long (well under a second
// for thousands of checks).
func Apply(ctx context.Context, db *store.DB, areas Areas, cfg *config.Config, getenv func(string) string, now time.Time, dryRun bool) ([]Change, error) {
	var changes []Change
	err := db.WithTx(ctx, func(tx *store.Tx) error {
		var err error
		changes, err = apply(ctx, tx, areas, cfg, getenv, now, dryRun)
		return err
	})
	return changes, err
}

func apply(ctx context.Context, tx *store.Tx, areas Areas, cfg *config.Config, getenv func(string) string, now time.Time, dryRun bool) ([]Change, error) {
	var changes []Change
	for _, pc := range cfg.Projects {
		if err := (&nightjar.Project{Name: pc.Name}).Validate(); err != nil {
			return changes, fmt.Errorf("project %s: %w", pc.Name, err)
		}
		p, err := areas.Projects.ByNameTx(ctx, tx, pc.Name)
		if nightjar.ErrorCode(err) == nightjar.ENOTFOUND {
			changes = append(changes, Change{Op: "+", Object: "project " + pc.Name})
			p = &nightjar.Project{Name: pc.Name}
			if !dryRun {
				if err := areas.Projects.CreateTx(ctx, tx, p, now); err != nil {
					return changes, err
				}
			}
		} else if err != nil {
			return changes, err
		}
		for _, kc := range pc.APIKeys {
			obj := fmt.Sprintf("api key %s/%s", pc.Name, kc.Name)
			kp := kc.Patch()
			want := &nightjar.APIKey{ProjectID: p.ID}
			if err := kp.Apply(want); err != nil {
				return changes, fmt.Errorf("%s: %w", obj, err)
			}
			secret, err := keyValue(kc, getenv)
			if err != nil {
				return changes, fmt.Errorf("%s: %w", obj, err)
			}
			// Decide the change here, not from EnsureKeyTx, so a dry run
			// reports what a real run does, and updates are reported too.
			k, err := areas.Projects.KeyBySecretTx(ctx, tx, secret)
			switch {
			case nightjar.ErrorCode(err) == nightjar.ENOTFOUND:
				changes = append(changes, Change{Op: "+", Object: obj, Detail: "scope " + string(want.Scope)})
			case err != nil:
				return changes, fmt.Errorf("%s: %w", obj, err)
			case k.ProjectID != p.ID:
				return changes, fmt.Errorf("%s: the key belongs to another project", obj)
			default:
				var diff []string
				if k.Name != want.Name {
					diff = append(diff, fmt.Sprintf("name %s → %s", show(k.Name), show(want.Name)))
				}
				if k.Scope != want.Scope {
					diff = append(diff, fmt.Sprintf("scope %s → %s", k.Scope, want.Scope))
				}
				if len(diff) == 0 {
					continue
				}
				changes = append(changes, Change{Op: "~", Object: obj, Detail: strings.Join(diff, ", ")})
			}
			if dryRun {
				continue
			}
			if _, err := areas.Projects.EnsureKeyTx(ctx, tx, p.ID, want.Name, want.Scope, secret, now); err != nil {
				return changes, fmt.Errorf("%s: %w", obj, err)
			}
		}
		if err := applyChannels(ctx, tx, p, pc, getenv, now, dryRun, &changes); err != nil {
			return changes, err
		}
		if err := applyChecks(ctx, tx, areas.Checks, p, pc, now, dryRun, &changes); err != nil {
			return changes, err
		}
		if err := applyIncidents(ctx, tx, p, pc, now, dryRun, &changes); err != nil {
			return changes, err
		}
		if err := applySLOs(ctx, tx, p, pc, now, dryRun, &changes); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// keyValue reads an API key's value. An empty value is an error: the store
// would make up a random key nobody knows, and another one on every apply.
func keyValue(kc config.APIKeyConfig, getenv func(string) string) (string, error) {
	var v, from string
	if kc.ValueEnv != "" {
		v, from = getenv(kc.ValueEnv), "environment variable "+kc.ValueEnv
	} else {
		b, err := os.ReadFile(kc.ValueFile)
		if err != nil {
			return "", err
		}
		v, from = strings.TrimSpace(string(b)), "file "+kc.ValueFile
	}
	if v == "" {
		return "", fmt.Errorf("%s is empty", from)
	}
	if len(v) < projects.MinKeyLength {
		return "", fmt.Errorf("the value in %s must be at least %d characters", from, projects.MinKeyLength)
	}
	return v, nil
}

func applyChannels(ctx context.Context, tx *store.Tx, p *nightjar.Project, pc config.ProjectConfig, getenv func(string) string, now time.Time, dryRun bool, changes *[]Change) error {
	var existing []*nightjar.Channel
	if p.ID != "" {
		var err error
		if existing, err = channels.ListTx(ctx, tx, p.ID); err != nil {
			return err
		}
	}
	for _, cc := range pc.Channels {
		obj := fmt.Sprintf("channel %s/%s", pc.Name, cc.Name)
		patch, err := cc.Patch(getenv)
		if err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		want := &nightjar.Channel{ProjectID: p.ID}
		if err := want.Apply(patch); err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		var have *nightjar.Channel
		for _, e := range existing {
			if e.Name == cc.Name {
				have = e
				break
			}
		}
		if have == nil {
			*changes = append(*changes, Change{Op: "+", Object: obj, Detail: cc.Kind})
			if !dryRun {
				if err := channels.CreateTx(ctx, tx, want, now); err != nil {
					return err
				}
			}
			continue
		}
		next := *have
		if err := next.Apply(patch); err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		if next.Kind != have.Kind || !sameChannelConfig(have.Config, next.Config) {
			*changes = append(*changes, Change{Op: "~", Object: obj, Detail: "settings changed"})
			if !dryRun {
				if err := channels.UpdateTx(ctx, tx, &next); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// sameChannelConfig compares channel settings as they are stored, in JSON
// where empty lists and maps are left out, so that "headers: {}" in the
// file does not differ from what the database gives back.
func sameChannelConfig(a, b nightjar.ChannelConfig) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// declaredChannels are the channels a project's checks may name: those
// it has and, in a dry run, those the file declares but the database
// lacks yet, each standing for itself.
func declaredChannels(pc config.ProjectConfig, existing []*nightjar.Channel) []*nightjar.Channel {
	out := existing
	for _, decl := range pc.Channels {
		if !slices.ContainsFunc(existing, func(ch *nightjar.Channel) bool { return ch.Name == decl.Name }) {
			out = append(out, &nightjar.Channel{ID: "(new) " + decl.Name, Name: decl.Name})
		}
	}
	return out
}

// settingsDiff lists the settings that differ between two checks.
func settingsDiff(a, b *nightjar.Check) []string {
	var out []string
	cmp := func(name string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			out = append(out, fmt.Sprintf("%s %s → %s", name, show(x), show(y)))
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
	cmp("channels", a.Channels, b.Channels)
	cmp("filter_body", a.FilterBody, b.FilterBody)
	cmp("filter_http_body", a.FilterHTTPBody, b.FilterHTTPBody)
	cmp("filter_default_fail", a.FilterDefaultFail, b.FilterDefaultFail)
	cmp("start_kw", a.StartKeywords, b.StartKeywords)
	cmp("success_kw", a.SuccessKeywords, b.SuccessKeywords)
	cmp("failure_kw", a.FailureKeywords, b.FailureKeywords)
	return out
}

// show renders a setting's value for a diff line: strings that are empty
// or contain spaces or quotes are quoted, so "desc  → x" or a cron schedule
// cannot be misread; lists of strings are always quoted.
func show(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" || strings.ContainsAny(v, " \t\n\"\\") {
			return strconv.Quote(v)
		}
		return v
	case []string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}

func applyChecks(ctx context.Context, tx *store.Tx, cs *checks.Service, p *nightjar.Project, pc config.ProjectConfig, now time.Time, dryRun bool, changes *[]Change) error {
	var chans []*nightjar.Channel
	if p.ID != "" {
		var err error
		if chans, err = channels.ListTx(ctx, tx, p.ID); err != nil {
			return err
		}
	}
	chans = declaredChannels(pc, chans)
	for _, cc := range pc.Checks {
		obj := fmt.Sprintf("check %s/%s", pc.Name, cc.Slug)
		patch := cc.Patch()
		// The declaration is made into a check before its slug is looked
		// up, so a bad slug is named; the patch sets every setting, so an
		// existing check changed by it is the same check.
		c, err := patch.NewCheck(p.ID, chans, now)
		if err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		var existing []*nightjar.Check
		if p.ID != "" {
			var err error
			if existing, err = cs.ListTx(ctx, tx, p.ID, checks.Filter{Slug: cc.Slug}); err != nil {
				return err
			}
		}
		if len(existing) > 1 {
			return fmt.Errorf("%s: %d checks have this slug; make it unique first", obj, len(existing))
		}
		if len(existing) == 0 {
			*changes = append(*changes, Change{Op: "+", Object: obj})
			if !dryRun {
				if err := cs.CreateTx(ctx, tx, c, now); err != nil {
					return fmt.Errorf("%s: %w", obj, err)
				}
			}
			continue
		}
		want := *existing[0]
		if err := patch.Apply(&want, chans, now); err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		diff := settingsDiff(existing[0], &want)
		if len(diff) == 0 {
			continue
		}
		*changes = append(*changes, Change{Op: "~", Object: obj, Detail: strings.Join(diff, ", ")})
		if !dryRun {
			if _, err := cs.UpdateTx(ctx, tx, p.ID, want.ID, now, func(c *nightjar.Check) error {
				return patch.Apply(c, chans, now)
			}); err != nil {
				return fmt.Errorf("%s: %w", obj, err)
			}
		}
	}
	return nil
}

// applySLOs creates the declared objectives that do not exist yet and
// changes those whose definition differs, each identified by service and
// name. The objectives of the OpenSLO files named are declared too.
// Objectives the configuration does not mention are left alone.
func applySLOs(ctx context.Context, tx *store.Tx, p *nightjar.Project, pc config.ProjectConfig, now time.Time, dryRun bool, changes *[]Change) error {
	declared := append([]slo.Definition(nil), pc.SLOs...)
	for _, f := range pc.OpenSLOFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("openslo file %s: %w", f, err)
		}
		res, err := openslo.Import(b)
		if err != nil {
			return fmt.Errorf("openslo file %s: %w", f, err)
		}
		declared = append(declared, res.SLOs...)
	}
	var existing []*slos.SLO
	if p.ID != "" {
		var err error
		if existing, err = slos.ListTx(ctx, tx, p.ID); err != nil {
			return err
		}
	}
	byName := map[string]*slos.SLO{}
	for _, o := range existing {
		byName[o.Definition.Service+"/"+o.Definition.Name] = o
	}
	seen := map[string]bool{}
	for _, d := range declared {
		id := d.Service + "/" + d.Name
		obj := fmt.Sprintf("slo %s/%s", pc.Name, id)
		if err := d.Validate(); err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		if seen[id] {
			return fmt.Errorf("%s: declared twice", obj)
		}
		seen[id] = true
		o := byName[id]
		if o == nil {
			*changes = append(*changes, Change{Op: "+", Object: obj})
			if !dryRun {
				if err := slos.CreateTx(ctx, tx, &slos.SLO{ProjectID: p.ID, Definition: d}, now); err != nil {
					return fmt.Errorf("%s: %w", obj, err)
				}
			}
			continue
		}
		if store.JSON(o.Definition) == store.JSON(d) {
			continue
		}
		*changes = append(*changes, Change{Op: "~", Object: obj, Detail: "definition " + store.JSON(o.Definition) + " → " + store.JSON(d)})
		if !dryRun {
			o.Definition = d
			if err := slos.UpdateTx(ctx, tx, o, now); err != nil {
				return fmt.Errorf("%s: %w", obj, err)
			}
		}
	}
	return nil
}

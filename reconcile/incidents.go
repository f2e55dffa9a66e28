package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/incidents"
	"github.com/nightjar-dev/nightjar/store"
)

// Incident response objects are declared by name (silences by id) and
// refer to each other by name and to people by email address. They are
// applied in the order their references need: schedules, escalation
// policies (paging schedules and channels), teams (with a default
// policy), services (owned by teams), routes (picking policies), silences
// and maintenance windows. Each is built by the same incidents.Kind the
// API uses, so a file and a request are held to the same rules.

func applyIncidents(ctx context.Context, tx *store.Tx, p *nightjar.Project, pc config.ProjectConfig, now time.Time, dryRun bool, changes *[]Change) error {
	s := incidents.New(tx.DB()).InTx(tx)
	resolve := declaredResolver(s.Resolver(ctx, p.ID), pc)
	a := incidentApply{ctx: ctx, s: s, project: p, pc: pc, now: now, dryRun: dryRun, resolve: resolve, changes: changes}
	if err := applyKind(a, incidents.ScheduleKind, pc.Schedules, func(v incident.ScheduleSpec) string { return v.Name }); err != nil {
		return err
	}
	if err := applyKind(a, incidents.PolicyKind, pc.EscalationPolicies, func(v incident.PolicySpec) string { return v.Name }); err != nil {
		return err
	}
	if err := applyKind(a, incidents.TeamKind, pc.Teams, func(v incident.TeamSpec) string { return v.Name }); err != nil {
		return err
	}
	if err := applyKind(a, incidents.ServiceKind, pc.Services, func(v incident.ServiceSpec) string { return v.Name }); err != nil {
		return err
	}
	if err := a.routes(); err != nil {
		return err
	}
	if err := applyKind(a, incidents.SilenceKind, pc.Silences, func(v incident.SilenceSpec) string { return v.ID }); err != nil {
		return err
	}
	return applyKind(a, incidents.MaintenanceKind, pc.MaintenanceWindows, func(v incident.MaintenanceSpec) string { return v.Name })
}

// incidentApply is what applying one project's incident objects needs.
type incidentApply struct {
	ctx     context.Context
	s       *incidents.Store
	project *nightjar.Project
	pc      config.ProjectConfig
	now     time.Time
	dryRun  bool
	resolve incident.Resolver
	changes *[]Change
}

// declaredResolver resolves references as the project has them and, for
// a dry run in which they are not written, the objects the file declares
// but the database lacks yet, each standing for itself.
func declaredResolver(have incident.Resolver, pc config.ProjectConfig) incident.Resolver {
	declared := map[incident.RefKind][]string{}
	for _, v := range pc.Teams {
		declared[incident.RefTeam] = append(declared[incident.RefTeam], v.Name)
	}
	for _, v := range pc.EscalationPolicies {
		declared[incident.RefPolicy] = append(declared[incident.RefPolicy], v.Name)
	}
	for _, v := range pc.Schedules {
		declared[incident.RefSchedule] = append(declared[incident.RefSchedule], v.Name)
	}
	for _, v := range pc.Channels {
		declared[incident.RefChannel] = append(declared[incident.RefChannel], v.Name)
	}
	return func(kind incident.RefKind, field, ref string) (string, error) {
		id, err := have(kind, field, ref)
		if err != nil && nightjar.ErrorCode(err) == nightjar.EINVALID && slices.Contains(declared[kind], ref) {
			return "(new) " + ref, nil
		}
		return id, err
	}
}

// applyKind makes the declared objects of one kind true: each is built
// from its spec, looked up by key (its name, or a silence's id) and
// created, or updated when it differs.
func applyKind[T, S any](a incidentApply, kind incidents.Kind[T, S], specs []S, key func(S) string) error {
	var existing []*T
	if a.project.ID != "" {
		var err error
		if existing, err = kind.Objects(a.s).List(a.ctx, a.project.ID); err != nil {
			return err
		}
	}
	for _, sp := range specs {
		k := key(sp)
		obj := fmt.Sprintf("%s %s/%s", kind.What, a.pc.Name, k)
		var have *T
		for _, e := range existing {
			if key(kind.Show(e)) == k {
				have = e
			}
		}
		if have != nil {
			_, id := kind.Label(have)
			kind.SetID(&sp, id)
		}
		want, err := kind.Build(&sp, a.resolve, a.now)
		if err != nil {
			return fmt.Errorf("%s: %w", obj, err)
		}
		if have == nil {
			*a.changes = append(*a.changes, Change{Op: "+", Object: obj})
			if !a.dryRun {
				if err := kind.Objects(a.s).Create(a.ctx, a.project.ID, want, a.now); err != nil {
					return fmt.Errorf("%s: %w", obj, err)
				}
			}
			continue
		}
		diff := specDiff(kind.Show(have), kind.Show(want))
		if len(diff) == 0 {
			continue
		}
		*a.changes = append(*a.changes, Change{Op: "~", Object: obj, Detail: strings.Join(diff, ", ")})
		if !a.dryRun {
			if err := kind.Objects(a.s).Update(a.ctx, a.project.ID, want); err != nil {
				return fmt.Errorf("%s: %w", obj, err)
			}
		}
	}
	return nil
}

// routes replaces the project's routing rules when the file states them.
func (a incidentApply) routes() error {
	if a.pc.Routes == nil {
		return nil
	}
	obj := "routes " + a.pc.Name
	want, err := incident.Routes(*a.pc.Routes, a.resolve)
	if err != nil {
		return fmt.Errorf("%s: %w", obj, err)
	}
	var have []incident.Route
	if a.project.ID != "" {
		if have, err = a.s.Routes(a.ctx, a.project.ID); err != nil {
			return err
		}
	}
	diff := specDiff(map[string]any{"routes": incident.RouteSpecsOf(have)}, map[string]any{"routes": incident.RouteSpecsOf(want)})
	if len(diff) == 0 {
		return nil
	}
	op := "~"
	if len(have) == 0 {
		op = "+"
	}
	*a.changes = append(*a.changes, Change{Op: op, Object: obj, Detail: fmt.Sprintf("%d rules", len(want))})
	if a.dryRun {
		return nil
	}
	if err := a.s.SetRoutes(a.ctx, a.project.ID, want); err != nil {
		return fmt.Errorf("%s: %w", obj, err)
	}
	return nil
}

// specDiff lists the fields that differ between two specs as the API
// shows them, each as "field old → new" in compact JSON.
func specDiff(a, b any) []string {
	x, y := jsonFields(a), jsonFields(b)
	var keys []string
	for k := range x {
		keys = append(keys, k)
	}
	for k := range y {
		if _, ok := x[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		if !reflect.DeepEqual(x[k], y[k]) {
			out = append(out, fmt.Sprintf("%s %s → %s", k, orNone(x[k]), orNone(y[k])))
		}
	}
	return out
}

func jsonFields(v any) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	out := map[string]json.RawMessage{}
	for k, v := range m {
		if k == "id" {
			continue
		}
		out[k], _ = json.Marshal(v)
	}
	return out
}

func orNone(b json.RawMessage) string {
	if b == nil {
		return "(none)"
	}
	return string(b)
}

package reconcile_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar/alerting"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/slos"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// sloDecl declares one objective inline and the OpenSLO file's; %s is the
// file's path and %v the inline objective.
const sloDecl = `
projects:
  - name: Shop
    slos:
      - service: frontend
        name: checkout
        objective: %v
        window: {rolling: 28d}
        indicator:
          kind: availability
          selector: {route: /checkout}
        alerting: {min_events: 20}
    openslo_files: [%s]
`

// SLOs come in through apply, inline or as OpenSLO files: created once,
// changed when their definition changes, and nothing on a second apply.
func TestApplySLOs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		file, err := filepath.Abs("../openslo/testdata/shop.yaml")
		if err != nil {
			t.Fatal(err)
		}
		y := fmt.Sprintf(sloDecl, 99.5, file)
		if got := f.apply(t, y, true); len(got) < 3 || got[0] != "+ project Shop" || got[1] != "+ slo Shop/frontend/checkout" {
			t.Fatalf("dry run: %v", got)
		}
		first := f.apply(t, y, false)
		p := project(t, db, "Shop")
		svc := slos.New(db, alerting.New(db))
		stored, err := svc.List(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(first)-1 {
			t.Fatalf("%d objectives stored for changes %v", len(stored), first)
		}
		var names []string
		for _, o := range stored {
			names = append(names, o.Definition.Service+"/"+o.Definition.Name)
		}
		if !strings.Contains(strings.Join(names, " "), "checkout/checkout-availability") {
			t.Errorf("the OpenSLO file's objective is missing: %v", names)
		}
		if again := f.apply(t, y, false); len(again) != 0 {
			t.Errorf("second apply changed %v", again)
		}
		changed := f.apply(t, fmt.Sprintf(sloDecl, 99.9, file), false)
		if len(changed) != 1 || !strings.HasPrefix(changed[0], "~ slo Shop/frontend/checkout: definition") {
			t.Errorf("change: %v", changed)
		}
		after, _ := svc.List(context.Background(), p.ID)
		if !reflect.DeepEqual(len(after), len(stored)) {
			t.Errorf("%d objectives after the change, %d before", len(after), len(stored))
		}
		for _, o := range after {
			if o.Definition.Name == "checkout" && (o.Definition.Objective != 99.9 || o.Definition.Alerting.MinEvents != 20) {
				t.Errorf("changed objective = %+v", o.Definition)
			}
		}
		// A missing OpenSLO file fails the apply, naming it.
		err = f.applyErr(t, fmt.Sprintf(sloDecl, 99.9, "/nonexistent/slo.yaml"), false)
		if !strings.Contains(err.Error(), "/nonexistent/slo.yaml") {
			t.Errorf("missing file: %v", err)
		}
	})
}

// A definition the domain refuses is refused when the configuration is
// validated, naming the field where it is.
func TestValidateSLOs(t *testing.T) {
	cfg := config.Default()
	y := `
projects:
  - name: Shop
    slos:
      - service: frontend
        name: checkout
        objective: 100
        window: {rolling: 28d}
        indicator: {kind: availability}
      - service: frontend
        name: checkout
        objective: 99
        window: {rolling: 28d}
        indicator: {kind: latency}
`
	if err := config.Parse([]byte(y), cfg); err != nil {
		t.Fatal(err)
	}
	err := cfg.Validate()
	for _, want := range []string{"projects[0].slos[0].objective:", "projects[0].slos[1].indicator.threshold:", "projects[0].slos[1].name:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want it to mention %s", err, want)
		}
	}
}

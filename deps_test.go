package nightjar_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The domain and the pure stages are where decisions are made with time
// passed in and no I/O. They must never depend on storage, HTTP, the
// console or the engine: those depend on them. This test reads the real
// import graph, so it fails the moment a pure package gains such an import,
// directly or through another package.
func TestPurePackagesImportNoInfrastructure(t *testing.T) {
	const module = "github.com/nightjar-dev/nightjar"
	pure := []string{".", "./heartbeat", "./schedule", "./metricrule", "./oncall", "./incident", "./alertin", "./slo", "./uptime", "./attribution", "./openslo", "./aggregate"}
	// Packages of this module a pure package may use: each other.
	allowed := map[string]bool{}
	for _, p := range pure {
		allowed[strings.TrimSuffix(module+"/"+strings.TrimPrefix(p, "./"), "/.")] = true
	}
	// Outside packages no pure package may use, directly or indirectly.
	forbidden := []string{"net/http", "database/sql", "html/template", "os/exec"}

	for _, pkg := range pure {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, module) && !allowed[dep] {
				t.Errorf("%s depends on %s; pure packages may only use the domain and other pure packages", pkg, dep)
			}
			for _, f := range forbidden {
				if dep == f {
					t.Errorf("%s depends on %s", pkg, f)
				}
			}
		}
	}
}

// The areas of Nightjar's state each own their tables' SQL and sit below
// the front doors (the API, the console, apply, the command) and the
// engine, which call them. An area that imported one of those would turn
// the direction around, so this test fails the moment one does, directly
// or through another package.
func TestAreaPackagesImportNoFrontDoors(t *testing.T) {
	const module = "github.com/nightjar-dev/nightjar"
	areas := []string{"./store", "./accounts", "./projects", "./audit", "./outbox", "./channels", "./alerting", "./checks", "./integrations", "./incidents", "./slos"}
	above := []string{"/web", "/console", "/engine", "/reconcile", "/cmd"}
	for _, pkg := range areas {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, a := range above {
				if dep == module+a || strings.HasPrefix(dep, module+a+"/") {
					t.Errorf("%s depends on %s; areas are called by the front doors and the engine, never the other way", pkg, dep)
				}
			}
		}
	}
}

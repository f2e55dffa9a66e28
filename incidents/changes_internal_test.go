package incidents

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/store"
	"github.com/nightjar-dev/nightjar/store/storetest"
)

// A service keeps its latest changes up to the bound, whatever their age;
// another service's are counted apart.
func TestPruneChangesPerService(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
		p := storetest.NewProject(t, db, "p", now)
		s := New(db)
		for i := range 5 {
			for _, svc := range []string{"api", "web"} {
				if err := s.RecordChange(ctx, &nightjar.Change{ProjectID: p.ID, Service: svc, Summary: fmt.Sprintf("deploy %d", i),
					At: now.Add(time.Duration(i) * time.Minute)}, now); err != nil {
					t.Fatal(err)
				}
			}
		}
		n, err := pruneChanges(ctx, db, now, 3)
		if err != nil || n != 4 {
			t.Fatalf("pruned %d, %v; want 4", n, err)
		}
		for _, svc := range []string{"api", "web"} {
			got, err := s.Changes(ctx, p.ID, svc, 0)
			if err != nil || len(got) != 3 || got[0].Summary != "deploy 4" || got[2].Summary != "deploy 2" {
				t.Fatalf("%s keeps %+v, %v", svc, got, err)
			}
		}
	})
}

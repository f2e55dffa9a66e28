package incidents

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/attribution"
	"github.com/nightjar-dev/nightjar/incident"
	"github.com/nightjar-dev/nightjar/store"
)

// Adaptive paging. An SLO alert on an edge operation carries, in its
// details, the vote over its failing traces (see aggregate.Evidence):
// the service the failures originate in, whether it won clearly
// (origin_attributed), the shares and example traces. When the winner is
// a service of the project with an owning team, the incident route pages
// the alert as that service's: its team's policy is the fallback, its
// settings group the alert, and the incident is that service's. Otherwise
// the alert is paged as its own service's, as any other. Either way the
// incident keeps the evidence as a timeline entry.

// EntryOrigin records the evidence of where an alert's failures start.
// Its text is lines: the decision, the shares and the example traces.
const EntryOrigin incident.EntryKind = "origin"

// pagedAs returns the alert as the incident route pages it: a copy with
// the origin service as its service when the evidence names a clear
// origin that has an owning team in the project, else a itself. The text
// is the evidence entry's, "" when the alert carries none.
func pagedAs(ctx context.Context, tx *store.Tx, a *nightjar.Alert) (*nightjar.Alert, string, error) {
	origin := a.Details[attribution.DetailService]
	if a.Status != nightjar.AlertFiring || origin == "" {
		return a, "", nil
	}
	decision := fmt.Sprintf("Paged as %s's, the service at the edge", a.Service)
	if a.Details[attribution.DetailAttributed] == "true" && origin != a.Service {
		var team string
		err := store.ScanError(tx.QueryRow(ctx, `SELECT team_id FROM incident_services WHERE project_id = $1 AND name = $2`, a.ProjectID, origin).Scan(&team), "service")
		switch {
		case err == nil && team != "":
			decision = fmt.Sprintf("Paged as %s's, where the failures originate, rather than as %s's, the service at the edge", origin, a.Service)
			paged := *a
			paged.Service = origin
			paged.Details = maps.Clone(a.Details)
			a = &paged
		case err == nil:
			decision += fmt.Sprintf(": the origin %s has no owning team", origin)
		case nightjar.ErrorCode(err) == nightjar.ENOTFOUND:
			decision += fmt.Sprintf(": the origin %s is not a service of the project", origin)
		default:
			return nil, "", fmt.Errorf("read origin service: %w", err)
		}
	}
	lines := []string{decision + " (" + a.Details[attribution.DetailReason] + ")"}
	if s := a.Details[attribution.DetailShares]; s != "" {
		lines = append(lines, "Shares of the failing traces: "+s)
	}
	if s := a.Details[attribution.DetailExamples]; s != "" {
		lines = append(lines, "Example traces: "+s)
	}
	return a, strings.Join(lines, "\n"), nil
}

// originEntry is the timeline entry of the evidence for an alert that
// opened, joined or fired again in an incident.
func originEntry(a *nightjar.Alert, text string, now time.Time) incident.Entry {
	return incident.Entry{At: now, Kind: EntryOrigin, DedupKey: a.DedupKey, Text: text}
}

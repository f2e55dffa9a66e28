package incident

import (
	"fmt"

	"github.com/nightjar-dev/nightjar"
)

// Route is one rule of a project's ordered routing rules: alerts that
// match all its matchers go to its escalation policy with its urgency.
type Route struct {
	Matchers Matchers
	// Policy is the escalation policy to use; "" keeps the fallback
	// policy (the service owner's).
	Policy string
	// Urgency overrides the alert's own severity when set: a route can
	// make a source's pages tickets, or page for its tickets.
	Urgency nightjar.Severity
}

// Decision is what routing chose for an alert.
type Decision struct {
	// Route is the index of the rule that matched, or -1 when none did.
	Route   int
	Policy  string
	Urgency nightjar.Severity
}

// MaxRoutes is how many routing rules a project may have.
const MaxRoutes = 200

// Decide picks the first route whose matchers all hold for the alert, as
// Alertmanager's routing tree does at one level. With no match, or for a
// route that names no policy, the fallback policy (the service owner's)
// is used; with no urgency on the route, the alert's own severity is, and
// an alert without one pages.
func Decide(routes []Route, a *nightjar.Alert, fallback string) Decision {
	d := Decision{Route: -1, Policy: fallback, Urgency: normalUrgency(a.Severity)}
	for i, r := range routes {
		if !r.Matchers.Matches(a) {
			continue
		}
		d.Route = i
		if r.Policy != "" {
			d.Policy = r.Policy
		}
		if r.Urgency != "" {
			d.Urgency = r.Urgency
		}
		break
	}
	return d
}

// ValidateRoutes returns a field error naming the first route at fault,
// as routes[i].field.
func ValidateRoutes(routes []Route) error {
	if len(routes) > MaxRoutes {
		return nightjar.FieldError("routes", "must have at most %d rules", MaxRoutes)
	}
	for i, r := range routes {
		field := fmt.Sprintf("routes[%d]", i)
		switch {
		case r.Urgency != "" && !validUrgency(r.Urgency):
			return nightjar.FieldError(field+".urgency", "must be page, ticket or info")
		case !nightjar.ValidText(r.Policy):
			return nightjar.TextFieldError(field + ".policy")
		case len(r.Policy) > maxIDLength:
			return nightjar.FieldError(field+".policy", "must be at most %d characters", maxIDLength)
		}
	}
	return nil
}

// maxIDLength bounds the ids of policies, schedules, users and channels
// that definitions refer to.
const maxIDLength = 100

func validUrgency(s nightjar.Severity) bool {
	return s == nightjar.SeverityPage || s == nightjar.SeverityTicket || s == nightjar.SeverityInfo
}

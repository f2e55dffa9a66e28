package nightjar

import (
	"slices"
	"strings"
	"time"
)

// CheckPatch is a change to a check's settings. Every way in — the v1 and
// v3 APIs, the console's form, a configuration file applied with `nightjar
// apply`, a slug ping with ?create=1 — translates its own format (seconds,
// Healthchecks' strings, form values, YAML durations) into a CheckPatch and
// hands it to Apply, so what a valid check is, and how each setting
// changes it, is decided here once and cannot drift apart between them.
//
// A nil field leaves the setting as it is.
type CheckPatch struct {
	Name    *string
	Slug    *string
	Tags    *[]string
	Desc    *string
	Service *string

	// Timeout makes the check a simple one, expected every Timeout after
	// its last ping, as a timeout does in Healthchecks; a simple check
	// keeps no schedule.
	Timeout *time.Duration
	// Schedule makes the check a cron or an OnCalendar one, as the
	// schedule's syntax says (see ScheduleKind); given with Timeout, the
	// schedule wins, as in Healthchecks.
	Schedule *string
	// Kind is for the formats that let people choose between the two, as
	// the console's form does: KindSimple makes a simple check and drops
	// its schedule; any other scheduled kind makes a scheduled check whose
	// schedule's syntax tells cron from OnCalendar. It is applied after
	// Timeout and Schedule.
	Kind *string
	TZ   *string

	Grace            *time.Duration
	EarlyTolerance   *time.Duration
	MaxRuntime       *time.Duration
	MinRuntime       *time.Duration
	FailureThreshold *int
	RealertInterval  *time.Duration
	Methods          *string
	ManualResume     *bool
	MetricRules      *[]string
	Channels         *ChannelSelection

	FilterBody        *bool
	FilterHTTPBody    *bool
	FilterDefaultFail *bool
	StartKeywords     *string
	SuccessKeywords   *string
	FailureKeywords   *string

	// Unique turns a create into Healthchecks' "upsert": when an existing
	// check has the same values for all of these settings (name, slug,
	// tags, timeout, grace), the patch updates it instead of making a new
	// one. See MatchesUnique.
	Unique []string
}

// ChannelSelection says which of its project's channels a check's alerts
// go to: all of them, those added later included (Healthchecks' "*"), or
// the ones Refs names by id or by name; no refs means none.
type ChannelSelection struct {
	All  bool
	Refs []string
}

// UniqueFields are the settings a create's Unique may name, as in
// Healthchecks.
var UniqueFields = []string{"name", "slug", "tags", "timeout", "grace"}

// Apply changes c as p says, resolving channel references against
// channels (the check's project's channels), and validates the result
// as it would be stored at now. On an error c may be half-changed: apply
// to a copy, or discard c.
//
// Beyond setting fields it keeps the rules every front door shares: a
// check without a slug takes one made from its name and a check without a
// name is named after its slug, as Healthchecks names checks created by
// a slug ping; a timeout makes a simple check, which keeps no schedule,
// and a schedule a cron or OnCalendar one; empty lists are stored as empty, never as absent; and
// durations are kept in whole milliseconds, the precision they are stored
// with, so a finer one read back does not differ from what was applied.
func (p *CheckPatch) Apply(c *Check, channels []*Channel, now time.Time) error {
	if err := p.validateUnique(); err != nil {
		return err
	}
	if p.Channels != nil {
		c.Channels = nil
		if !p.Channels.All {
			ids, err := ResolveChannels(p.Channels.Refs, channels)
			if err != nil {
				return err
			}
			c.Channels = ids
		}
	}
	set(&c.Name, p.Name)
	set(&c.Slug, p.Slug)
	set(&c.Tags, p.Tags)
	set(&c.Desc, p.Desc)
	set(&c.Service, p.Service)
	if p.Timeout != nil {
		c.Timeout, c.Kind, c.Schedule = *p.Timeout, KindSimple, ""
	}
	if p.Schedule != nil {
		c.Schedule, c.Kind = *p.Schedule, ScheduleKind(*p.Schedule)
	}
	if p.Kind != nil {
		switch *p.Kind {
		case KindSimple:
			c.Kind, c.Schedule = KindSimple, ""
		case KindCron, KindOnCalendar:
			c.Kind = ScheduleKind(c.Schedule)
		default:
			c.Kind = *p.Kind // refused by Validate, naming kind
		}
	}
	set(&c.TZ, p.TZ)
	set(&c.Grace, p.Grace)
	set(&c.EarlyTolerance, p.EarlyTolerance)
	set(&c.MaxRuntime, p.MaxRuntime)
	set(&c.MinRuntime, p.MinRuntime)
	set(&c.FailureThreshold, p.FailureThreshold)
	set(&c.RealertInterval, p.RealertInterval)
	set(&c.Methods, p.Methods)
	set(&c.ManualResume, p.ManualResume)
	set(&c.MetricRules, p.MetricRules)
	set(&c.FilterBody, p.FilterBody)
	set(&c.FilterHTTPBody, p.FilterHTTPBody)
	set(&c.FilterDefaultFail, p.FilterDefaultFail)
	set(&c.StartKeywords, p.StartKeywords)
	set(&c.SuccessKeywords, p.SuccessKeywords)
	set(&c.FailureKeywords, p.FailureKeywords)

	if c.Slug == "" {
		c.Slug = Slugify(c.Name)
	}
	if c.Name == "" && ValidSlug(c.Slug) {
		c.Name = c.Slug
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.MetricRules == nil {
		c.MetricRules = []string{}
	}
	for _, d := range []*time.Duration{&c.Timeout, &c.Grace, &c.EarlyTolerance, &c.MaxRuntime, &c.MinRuntime, &c.RealertInterval} {
		*d = d.Truncate(time.Millisecond)
	}
	return c.ValidateAt(now)
}

// NewCheck returns a new check of the project with Nightjar's defaults
// (see NewCheck) changed as p says, or the reason p makes no valid check.
func (p *CheckPatch) NewCheck(projectID string, channels []*Channel, now time.Time) (*Check, error) {
	c := NewCheck(projectID, "")
	if err := p.Apply(c, channels, now); err != nil {
		return nil, err
	}
	return c, nil
}

// set copies *v to *dst when v is given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// validateUnique reports a Unique entry that is not one of UniqueFields.
func (p *CheckPatch) validateUnique() error {
	for _, f := range p.Unique {
		if !slices.Contains(UniqueFields, f) {
			return FieldError("unique", "%.100q is not one of %s", f, strings.Join(UniqueFields, ", "))
		}
	}
	return nil
}

// MatchesUnique reports whether a create of candidate (a new check made
// from p) should update existing instead: p names unique settings, and
// existing has the same values as candidate for every one of them.
func (p *CheckPatch) MatchesUnique(existing, candidate *Check) bool {
	if len(p.Unique) == 0 {
		return false
	}
	for _, f := range p.Unique {
		var same bool
		switch f {
		case "name":
			same = existing.Name == candidate.Name
		case "slug":
			same = existing.Slug == candidate.Slug
		case "tags":
			same = slices.Equal(existing.Tags, candidate.Tags)
		case "timeout":
			same = existing.Timeout == candidate.Timeout
		case "grace":
			same = existing.Grace == candidate.Grace
		}
		if !same {
			return false
		}
	}
	return true
}

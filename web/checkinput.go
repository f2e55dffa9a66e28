package web

import (
	"encoding/json"
	"strings"

	"github.com/nightjar-dev/nightjar"
)

// tagList accepts tags as Healthchecks sends them (one space-separated
// string) or as a JSON array.
type tagList []string

// UnmarshalJSON implements json.Unmarshaler.
func (t *tagList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = strings.Fields(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nightjar.FieldError("tags", "expected a space-separated string or an array of strings")
	}
	*t = list
	return nil
}

// checkInput is the body of check create and update requests, in both
// APIs. Fields left out keep their value. Durations are in seconds.
type checkInput struct {
	APIKey       string       `json:"api_key"`
	Name         *string      `json:"name"`
	Slug         *string      `json:"slug"`
	Tags         *tagList     `json:"tags"`
	Desc         *string      `json:"desc"`
	Service      *string      `json:"service"`
	Timeout      *int64       `json:"timeout"`
	Grace        *int64       `json:"grace"`
	Schedule     *string      `json:"schedule"`
	TZ           *string      `json:"tz"`
	ManualResume *bool        `json:"manual_resume"`
	Methods      *string      `json:"methods"`
	Channels     *channelList `json:"channels"`
	Unique       []string     `json:"unique"`

	// Healthchecks' body keyword filters.
	FilterBody        *bool   `json:"filter_body"`
	FilterHTTPBody    *bool   `json:"filter_http_body"`
	FilterDefaultFail *bool   `json:"filter_default_fail"`
	StartKw           *string `json:"start_kw"`
	SuccessKw         *string `json:"success_kw"`
	FailureKw         *string `json:"failure_kw"`
	// Healthchecks' email settings: accepted only when they ask for
	// nothing, since Nightjar takes no email pings.
	FilterSubject *bool   `json:"filter_subject"`
	Subject       *string `json:"subject"`
	SubjectFail   *string `json:"subject_fail"`

	// channelIDs is Channels resolved against the project's channels.
	channelIDs []string

	EarlyTolerance   *int64    `json:"early_tolerance"`
	MaxRuntime       *int64    `json:"max_runtime"`
	MinRuntime       *int64    `json:"min_runtime"`
	FailureThreshold *int      `json:"failure_threshold"`
	RealertInterval  *int64    `json:"realert_interval"`
	MetricRules      *[]string `json:"metric_rules"`
}

// apply copies the given fields onto c. A schedule makes the check a cron
// or OnCalendar check (by the schedule's syntax) and a timeout a simple
// one, as in Healthchecks.
func (in *checkInput) apply(c *nightjar.Check) {
	if in.Name != nil {
		c.Name = *in.Name
		if in.Slug == nil && c.Slug == "" {
			c.Slug = nightjar.Slugify(c.Name)
		}
	}
	if in.Slug != nil {
		c.Slug = *in.Slug
	}
	if in.Tags != nil {
		c.Tags = []string(*in.Tags)
	}
	if in.Desc != nil {
		c.Desc = *in.Desc
	}
	if in.Service != nil {
		c.Service = *in.Service
	}
	if in.Timeout != nil {
		c.Timeout = nightjar.Seconds(*in.Timeout)
		c.Kind = nightjar.KindSimple
	}
	if in.Schedule != nil {
		c.Schedule = *in.Schedule
		c.Kind = nightjar.ScheduleKind(c.Schedule)
	}
	if in.Grace != nil {
		c.Grace = nightjar.Seconds(*in.Grace)
	}
	if in.TZ != nil {
		c.TZ = *in.TZ
	}
	if in.ManualResume != nil {
		c.ManualResume = *in.ManualResume
	}
	if in.Methods != nil {
		c.Methods = *in.Methods
	}
	if in.EarlyTolerance != nil {
		c.EarlyTolerance = nightjar.Seconds(*in.EarlyTolerance)
	}
	if in.MaxRuntime != nil {
		c.MaxRuntime = nightjar.Seconds(*in.MaxRuntime)
	}
	if in.MinRuntime != nil {
		c.MinRuntime = nightjar.Seconds(*in.MinRuntime)
	}
	if in.FailureThreshold != nil {
		c.FailureThreshold = *in.FailureThreshold
	}
	if in.RealertInterval != nil {
		c.RealertInterval = nightjar.Seconds(*in.RealertInterval)
	}
	if in.MetricRules != nil {
		c.MetricRules = *in.MetricRules
	}
	if in.Channels != nil {
		c.Channels = in.channelIDs
	}
	if in.FilterBody != nil {
		c.FilterBody = *in.FilterBody
	}
	if in.FilterHTTPBody != nil {
		c.FilterHTTPBody = *in.FilterHTTPBody
	}
	if in.FilterDefaultFail != nil {
		c.FilterDefaultFail = *in.FilterDefaultFail
	}
	if in.StartKw != nil {
		c.StartKeywords = *in.StartKw
	}
	if in.SuccessKw != nil {
		c.SuccessKeywords = *in.SuccessKw
	}
	if in.FailureKw != nil {
		c.FailureKeywords = *in.FailureKw
	}
}

// channelList is Healthchecks' "channels" field: "*" for all of the
// project's channels, "" for none, or channel ids or names separated by
// commas; Nightjar's API also takes a JSON array of ids or names.
type channelList struct {
	all  bool
	refs []string
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *channelList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if strings.TrimSpace(s) == "*" {
			l.all = true
			return nil
		}
		for _, r := range strings.Split(s, ",") {
			if r = strings.TrimSpace(r); r != "" {
				l.refs = append(l.refs, r)
			}
		}
		return nil
	}
	if err := json.Unmarshal(b, &l.refs); err != nil {
		return nightjar.FieldError("channels", `expected "*", a comma-separated string or an array of channel ids or names`)
	}
	return nil
}

// prepare checks the parts of a body that need more than one field or the
// database: email settings that cannot be honoured, and channel names.
func (in *checkInput) prepare(channels []*nightjar.Channel) error {
	if in.FilterSubject != nil && *in.FilterSubject {
		return nightjar.FieldError("filter_subject", "Nightjar takes no email pings; use filter_body to classify HTTP ping bodies")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"subject", in.Subject}, {"subject_fail", in.SubjectFail}} {
		if f.v != nil && *f.v != "" {
			return nightjar.FieldError(f.name, "is an email setting and Nightjar takes no email pings; use success_kw and failure_kw with filter_body")
		}
	}
	if in.Channels == nil {
		return nil
	}
	if in.Channels.all {
		in.channelIDs = nil
		return nil
	}
	ids, err := nightjar.ResolveChannels(in.Channels.refs, channels)
	in.channelIDs = ids
	return err
}

// validateUnique checks the "unique" field of a create request.
func (in *checkInput) validateUnique() error {
	for _, f := range in.Unique {
		switch f {
		case "name", "slug", "tags", "timeout", "grace":
		default:
			return nightjar.FieldError("unique", "%q is not one of name, slug, tags, timeout, grace", f)
		}
	}
	return nil
}

// matchesUnique reports whether existing check c has the same values as
// candidate for every field named in unique.
func matchesUnique(c, candidate *nightjar.Check, unique []string) bool {
	for _, f := range unique {
		switch f {
		case "name":
			if c.Name != candidate.Name {
				return false
			}
		case "slug":
			if c.Slug != candidate.Slug {
				return false
			}
		case "tags":
			if strings.Join(c.Tags, " ") != strings.Join(candidate.Tags, " ") {
				return false
			}
		case "timeout":
			if c.Timeout != candidate.Timeout {
				return false
			}
		case "grace":
			if c.Grace != candidate.Grace {
				return false
			}
		}
	}
	return true
}

package web

import (
	"encoding/json"
	"strings"
	"time"

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
	APIKey       string   `json:"api_key"`
	Name         *string  `json:"name"`
	Slug         *string  `json:"slug"`
	Tags         *tagList `json:"tags"`
	Desc         *string  `json:"desc"`
	Service      *string  `json:"service"`
	Timeout      *int64   `json:"timeout"`
	Grace        *int64   `json:"grace"`
	Schedule     *string  `json:"schedule"`
	TZ           *string  `json:"tz"`
	ManualResume *bool    `json:"manual_resume"`
	Methods      *string  `json:"methods"`
	Channels     *string  `json:"channels"`
	Unique       []string `json:"unique"`

	EarlyTolerance   *int64    `json:"early_tolerance"`
	MaxRuntime       *int64    `json:"max_runtime"`
	MinRuntime       *int64    `json:"min_runtime"`
	FailureThreshold *int      `json:"failure_threshold"`
	RealertInterval  *int64    `json:"realert_interval"`
	MetricRules      *[]string `json:"metric_rules"`
}

func secs(v int64) time.Duration { return time.Duration(v) * time.Second }

// apply copies the given fields onto c. A schedule makes the check a cron
// check and a timeout a simple one, as in Healthchecks.
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
		c.Timeout = secs(*in.Timeout)
		c.Kind = nightjar.KindSimple
	}
	if in.Schedule != nil {
		c.Schedule = *in.Schedule
		c.Kind = nightjar.KindCron
	}
	if in.Grace != nil {
		c.Grace = secs(*in.Grace)
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
		c.EarlyTolerance = secs(*in.EarlyTolerance)
	}
	if in.MaxRuntime != nil {
		c.MaxRuntime = secs(*in.MaxRuntime)
	}
	if in.MinRuntime != nil {
		c.MinRuntime = secs(*in.MinRuntime)
	}
	if in.FailureThreshold != nil {
		c.FailureThreshold = *in.FailureThreshold
	}
	if in.RealertInterval != nil {
		c.RealertInterval = secs(*in.RealertInterval)
	}
	if in.MetricRules != nil {
		c.MetricRules = *in.MetricRules
	}
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

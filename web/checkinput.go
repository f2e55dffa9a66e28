package web

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/nightjar-dev/nightjar"
)

// Check bodies of both APIs are translated here into a nightjar.CheckPatch,
// and nothing more: what the settings mean and whether they make a valid
// check is the patch's to decide, as for every other way in.

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

	EarlyTolerance   *int64    `json:"early_tolerance"`
	MaxRuntime       *int64    `json:"max_runtime"`
	MinRuntime       *int64    `json:"min_runtime"`
	FailureThreshold *int      `json:"failure_threshold"`
	RealertInterval  *int64    `json:"realert_interval"`
	MetricRules      *[]string `json:"metric_rules"`
}

// v3CheckInput is a v3 create or update body. Healthchecks' clients often
// send back a whole check object as they got it, changed in a field or
// two; Healthchecks ignores what it computes itself, and so does Nightjar.
// Any other field it does not know is still refused, so a typo is never
// silently ignored.
type v3CheckInput struct {
	checkInput
	// What Healthchecks shows of a check (hc/api/models.py, to_dict) but
	// never reads from a request, of any type.
	UUID         json.RawMessage `json:"uuid"`
	PingURL      json.RawMessage `json:"ping_url"`
	UpdateURL    json.RawMessage `json:"update_url"`
	PauseURL     json.RawMessage `json:"pause_url"`
	ResumeURL    json.RawMessage `json:"resume_url"`
	Status       json.RawMessage `json:"status"`
	Started      json.RawMessage `json:"started"`
	LastPing     json.RawMessage `json:"last_ping"`
	NextPing     json.RawMessage `json:"next_ping"`
	NPings       json.RawMessage `json:"n_pings"`
	LastDuration json.RawMessage `json:"last_duration"`
	BadgeURL     json.RawMessage `json:"badge_url"`
	UniqueKey    json.RawMessage `json:"unique_key"`
}

// seconds turns a number of seconds into a duration.
func seconds(n *int64) *time.Duration {
	if n == nil {
		return nil
	}
	d := nightjar.Seconds(*n)
	return &d
}

// patch translates the body into a check patch. Healthchecks' email
// filters are refused unless they ask for nothing: Nightjar takes no email
// pings, and accepting them would promise a filter that never runs.
func (in *checkInput) patch() (*nightjar.CheckPatch, error) {
	if in.FilterSubject != nil && *in.FilterSubject {
		return nil, nightjar.FieldError("filter_subject", "Nightjar takes no email pings; use filter_body to classify HTTP ping bodies")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"subject", in.Subject}, {"subject_fail", in.SubjectFail}} {
		if f.v != nil && *f.v != "" {
			return nil, nightjar.FieldError(f.name, "is an email setting and Nightjar takes no email pings; use success_kw and failure_kw with filter_body")
		}
	}
	p := &nightjar.CheckPatch{
		Name: in.Name, Slug: in.Slug, Desc: in.Desc, Service: in.Service,
		Timeout: seconds(in.Timeout), Schedule: in.Schedule, TZ: in.TZ, Grace: seconds(in.Grace),
		EarlyTolerance: seconds(in.EarlyTolerance), MaxRuntime: seconds(in.MaxRuntime), MinRuntime: seconds(in.MinRuntime),
		FailureThreshold: in.FailureThreshold, RealertInterval: seconds(in.RealertInterval),
		Methods: in.Methods, ManualResume: in.ManualResume, MetricRules: in.MetricRules,
		FilterBody: in.FilterBody, FilterHTTPBody: in.FilterHTTPBody, FilterDefaultFail: in.FilterDefaultFail,
		StartKeywords: in.StartKw, SuccessKeywords: in.SuccessKw, FailureKeywords: in.FailureKw,
		Unique: in.Unique,
	}
	if in.Tags != nil {
		tags := []string(*in.Tags)
		p.Tags = &tags
	}
	if in.Channels != nil {
		p.Channels = &nightjar.ChannelSelection{All: in.Channels.all, Refs: in.Channels.refs}
	}
	return p, nil
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

package config

import (
	"time"

	"github.com/nightjar-dev/nightjar"
)

// A configuration file is one more way in for checks, channels and keys:
// its declarations translate into the same patches the APIs and the
// console make, and the patches decide what is valid. A declaration
// states its object whole, so the patch sets every setting: one left out
// of the file is its default, and taking it out of the file puts the
// default back.

// Patch is the check the declaration states. A schedule makes a cron or
// OnCalendar check; without one the check is simple. A timeout or grace
// of zero, like a missing one, is the default, and so is a failure
// threshold of zero; an empty channel list means all of the project's
// channels, as in the APIs.
func (cc CheckConfig) Patch() nightjar.CheckPatch {
	orDefault := func(d Duration, def time.Duration) *time.Duration {
		if d == 0 {
			return &def
		}
		v := time.Duration(d)
		return &v
	}
	p := nightjar.CheckPatch{
		Name: &cc.Name, Slug: &cc.Slug, Tags: &cc.Tags, Desc: &cc.Desc, Service: &cc.Service,
		Timeout: orDefault(cc.Timeout, nightjar.DefaultTimeout), TZ: &cc.TZ,
		Grace: orDefault(cc.Grace, nightjar.DefaultGrace), EarlyTolerance: ptr(nightjar.DefaultEarlyTolerance),
		MaxRuntime: ptr(time.Duration(cc.MaxRuntime)), MinRuntime: ptr(time.Duration(cc.MinRuntime)),
		FailureThreshold: &cc.FailureThreshold, RealertInterval: ptr(time.Duration(cc.RealertInterval)),
		Methods: &cc.Methods, ManualResume: &cc.ManualResume, MetricRules: &cc.MetricRules,
		FilterBody: &cc.FilterBody, FilterHTTPBody: &cc.FilterHTTPBody, FilterDefaultFail: &cc.FilterDefaultFail,
		StartKeywords: &cc.StartKw, SuccessKeywords: &cc.SuccessKw, FailureKeywords: &cc.FailureKw,
		Channels: &nightjar.ChannelSelection{All: len(cc.Channels) == 0, Refs: cc.Channels},
	}
	if cc.Schedule != "" {
		p.Schedule = &cc.Schedule
	} else {
		p.Kind = ptr(nightjar.KindSimple)
	}
	if cc.TZ == "" {
		p.TZ = ptr("UTC")
	}
	if cc.EarlyTolerance != nil {
		p.EarlyTolerance = ptr(time.Duration(*cc.EarlyTolerance))
	}
	if cc.FailureThreshold == 0 {
		p.FailureThreshold = ptr(1)
	}
	return p
}

// Patch is the channel the declaration states, with its signing secret
// (read from the environment variable SecretEnv names; "" for none).
func (cc ChannelConfig) Patch(secret string) nightjar.ChannelPatch {
	return nightjar.ChannelPatch{Kind: &cc.Kind, Name: &cc.Name,
		Config: nightjar.ChannelConfigPatch{URL: &cc.URL, Secret: &secret, Headers: &cc.Headers, To: &cc.To}}
}

// Patch is the API key's name and scope as declared; its value is read
// from where ValueEnv or ValueFile says.
func (kc APIKeyConfig) Patch() nightjar.APIKeyPatch {
	return nightjar.APIKeyPatch{Name: &kc.Name, Scope: ptr(nightjar.Scope(kc.Scope))}
}

func ptr[T any](v T) *T { return &v }

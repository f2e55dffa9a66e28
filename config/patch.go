package config

import (
	"fmt"
	"slices"
	"strings"
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

// Patch is the channel the declaration states, with its secrets read
// from the environment variables the declaration names (getenv is
// os.Getenv outside tests). Every setting of the kind is stated: one left
// out of the file is empty, so taking it out removes it. A named variable
// that is empty is an error, since it would silently turn signing off or
// leave a channel without its credential.
func (cc ChannelConfig) Patch(getenv func(string) string) (nightjar.ChannelPatch, error) {
	fromEnv := func(key, name string) (string, error) {
		if name == "" {
			return "", nil
		}
		v := getenv(name)
		if v == "" {
			return "", fmt.Errorf("environment variable %s (%s) is empty", name, key)
		}
		return v, nil
	}
	secret, err := fromEnv("secret_env", cc.SecretEnv)
	if err != nil {
		return nightjar.ChannelPatch{}, err
	}
	p := nightjar.ChannelPatch{Kind: &cc.Kind, Name: &cc.Name,
		Config: nightjar.ChannelConfigPatch{URL: &cc.URL, Secret: &secret, Headers: &cc.Headers, To: &cc.To}}
	k, _ := nightjar.LookupChannelKind(cc.Kind)
	for _, s := range k.Settings {
		if s.Name != "url" && s.Name != "secret" && s.Name != "to" {
			if err := p.Config.SetText(s.Name, ""); err != nil {
				return p, err
			}
		}
	}
	keys := make([]string, 0, len(cc.Settings))
	for key := range cc.Settings {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		v := cc.Settings[key]
		name, isEnv := strings.CutSuffix(key, "_env")
		s, ok := k.Setting(name)
		switch {
		case !ok || name == "url" || name == "secret" || name == "to":
			return p, fmt.Errorf("%s is not a setting of %s channels", key, cc.Kind)
		case isEnv:
			if v, err = fromEnv(key, v); err != nil {
				return p, err
			}
		case s.Secret:
			return p, fmt.Errorf("%s is a secret: give %s_env, the environment variable holding it, not the value", key, key)
		}
		if err := p.Config.SetText(name, v); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Patch is the API key's name and scope as declared; its value is read
// from where ValueEnv or ValueFile says.
func (kc APIKeyConfig) Patch() nightjar.APIKeyPatch {
	return nightjar.APIKeyPatch{Name: &kc.Name, Scope: ptr(nightjar.Scope(kc.Scope))}
}

func ptr[T any](v T) *T { return &v }

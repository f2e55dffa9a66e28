package main

import (
	"net/http"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/discord"
	"github.com/nightjar-dev/nightjar/notify/gotify"
	"github.com/nightjar-dev/nightjar/notify/matrix"
	"github.com/nightjar-dev/nightjar/notify/ntfy"
	"github.com/nightjar-dev/nightjar/notify/opsgenie"
	"github.com/nightjar-dev/nightjar/notify/pagerduty"
	"github.com/nightjar-dev/nightjar/notify/pushover"
	"github.com/nightjar-dev/nightjar/notify/slack"
	"github.com/nightjar-dev/nightjar/notify/teams"
	"github.com/nightjar-dev/nightjar/notify/telegram"
)

// serviceNotifiers build the senders of the chat and paging services, by
// channel kind. Each sends through the client it is given, which the
// network guard built, like a webhook's.
var serviceNotifiers = map[string]func(*nightjar.Channel, *http.Client) notify.Notifier{
	nightjar.ChannelSlack:     slack.New,
	nightjar.ChannelDiscord:   discord.New,
	nightjar.ChannelTeams:     teams.New,
	nightjar.ChannelTelegram:  telegram.New,
	nightjar.ChannelNtfy:      ntfy.New,
	nightjar.ChannelPushover:  pushover.New,
	nightjar.ChannelGotify:    gotify.New,
	nightjar.ChannelMatrix:    matrix.New,
	nightjar.ChannelPagerDuty: pagerduty.New,
	nightjar.ChannelOpsgenie:  opsgenie.New,
}

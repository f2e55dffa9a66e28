package nightjar

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The chat and paging services a channel can deliver to, besides webhooks
// and email.
const (
	ChannelSlack     = "slack"
	ChannelDiscord   = "discord"
	ChannelTeams     = "teams"
	ChannelTelegram  = "telegram"
	ChannelNtfy      = "ntfy"
	ChannelPushover  = "pushover"
	ChannelGotify    = "gotify"
	ChannelMatrix    = "matrix"
	ChannelPagerDuty = "pagerduty"
	ChannelOpsgenie  = "opsgenie"
)

// Setting types, which tell a form what input to show.
const (
	SettingURL    = "url"    // an http or https URL
	SettingText   = "text"   // one line of text
	SettingSecret = "secret" // a credential: never shown again once saved
	SettingNumber = "number" // a whole number between Min and Max
	SettingSelect = "select" // one of Options
	SettingList   = "list"   // several values, separated by commas or spaces
)

// ChannelSetting describes one setting of a kind of channel, so a form can
// show only the chosen kind's fields and say what each wants, and the
// validation can check them all the same way.
type ChannelSetting struct {
	// Name is the setting's key under "config" in the API and in
	// configuration files.
	Name string `json:"name"`
	// Label names the setting for people.
	Label string `json:"label"`
	// Type is one of the Setting constants.
	Type string `json:"type"`
	// Required settings must be given.
	Required bool `json:"required"`
	// Secret settings are credentials: listings show SecretPlaceholder in
	// their place, and a changed destination does not keep them.
	Secret bool `json:"secret"`
	// Help says what the setting is and where to find it.
	Help string `json:"help"`
	// Placeholder is an example value, or the default when the setting is
	// left empty.
	Placeholder string `json:"placeholder,omitempty"`
	// Min and Max bound a number.
	Min int `json:"min,omitempty"`
	Max int `json:"max,omitempty"`
	// Options are a select's choices.
	Options []string `json:"options,omitempty"`
}

// ChannelKind describes a kind of channel: its name, how people call it,
// and its settings in the order a form shows them.
type ChannelKind struct {
	Name     string           `json:"name"`
	Label    string           `json:"label"`
	Settings []ChannelSetting `json:"settings"`
	// DefaultBaseURL is where the service is when base_url is empty.
	DefaultBaseURL string `json:"default_base_url,omitempty"`
}

// Setting returns the kind's setting called name.
func (k ChannelKind) Setting(name string) (ChannelSetting, bool) {
	i := slices.IndexFunc(k.Settings, func(s ChannelSetting) bool { return s.Name == name })
	if i < 0 {
		return ChannelSetting{}, false
	}
	return k.Settings[i], true
}

func baseURLSetting(what, def string, required bool) ChannelSetting {
	s := ChannelSetting{Name: "base_url", Label: what + " URL", Type: SettingURL, Required: required, Placeholder: def}
	if required {
		s.Help = "The address of your " + what + " server."
	} else {
		s.Help = "Leave empty for " + def + "; set it for a self-hosted server or a proxy."
	}
	return s
}

func chatWebhookURL(service, example string) ChannelSetting {
	return ChannelSetting{Name: "url", Label: "Webhook URL", Type: SettingURL, Required: true, Placeholder: example,
		Help: "The incoming webhook URL " + service + " gave you. It carries its own token: viewers see it masked."}
}

func prioritySetting(lo, hi int, help string) ChannelSetting {
	return ChannelSetting{Name: "priority", Label: "Priority", Type: SettingNumber, Min: lo, Max: hi, Help: help}
}

// channelKinds lists every kind, in the order forms offer them.
var channelKinds = markSecrets([]ChannelKind{
	{Name: ChannelWebhook, Label: "Webhook", Settings: []ChannelSetting{
		{Name: "url", Label: "Webhook URL", Type: SettingURL, Required: true, Placeholder: "https://example.com/hooks/nightjar",
			Help: "Nightjar POSTs a JSON document here. Extra headers can be set through the API or a configuration file."},
		{Name: "secret", Label: "Signing secret", Type: SettingSecret,
			Help: "Optional: requests then carry an HMAC-SHA256 signature (X-Nightjar-Signature)."},
	}},
	{Name: ChannelEmail, Label: "Email", Settings: []ChannelSetting{
		{Name: "to", Label: "Email addresses", Type: SettingList, Required: true, Placeholder: "ops@example.com",
			Help: "Sent through the SMTP server in Nightjar's configuration; separate addresses with commas."},
	}},
	{Name: ChannelSlack, Label: "Slack", Settings: []ChannelSetting{
		chatWebhookURL("Slack", "https://hooks.slack.com/services/T000/B000/XXXX"),
	}},
	{Name: ChannelDiscord, Label: "Discord", Settings: []ChannelSetting{
		chatWebhookURL("Discord", "https://discord.com/api/webhooks/123/XXXX"),
	}},
	{Name: ChannelTeams, Label: "Microsoft Teams", Settings: []ChannelSetting{
		chatWebhookURL("the Teams workflow (\"Post to a channel when a webhook request is received\")", "https://prod-00.westus.logic.azure.com/workflows/…"),
	}},
	{Name: ChannelTelegram, Label: "Telegram", DefaultBaseURL: "https://api.telegram.org", Settings: []ChannelSetting{
		{Name: "token", Label: "Bot token", Type: SettingSecret, Required: true, Placeholder: "123456:ABC-DEF…",
			Help: "The token BotFather gave your bot."},
		{Name: "chat_id", Label: "Chat id", Type: SettingText, Required: true, Placeholder: "-1001234567890",
			Help: "The chat, group or channel to post to: a number, or @name for a public channel. The bot must be a member."},
		baseURLSetting("Bot API", "https://api.telegram.org", false),
	}},
	{Name: ChannelNtfy, Label: "ntfy", Settings: []ChannelSetting{
		{Name: "url", Label: "Topic URL", Type: SettingURL, Required: true, Placeholder: "https://ntfy.sh/my-alerts",
			Help: "The server and the topic, as in https://ntfy.sh/my-alerts."},
		{Name: "token", Label: "Access token", Type: SettingSecret,
			Help: "Optional: an access token for a protected topic (sent as a bearer token)."},
		prioritySetting(1, 5, "1 (min) to 5 (max); empty picks 5 for pages, 4 for tickets and 3 otherwise."),
	}},
	{Name: ChannelPushover, Label: "Pushover", DefaultBaseURL: "https://api.pushover.net", Settings: []ChannelSetting{
		{Name: "token", Label: "Application token", Type: SettingSecret, Required: true,
			Help: "The API token of your Pushover application."},
		{Name: "user_key", Label: "User or group key", Type: SettingSecret, Required: true,
			Help: "Who receives the notifications."},
		prioritySetting(-2, 2, "-2 (lowest) to 2 (emergency, repeated until acknowledged); empty picks 1 for pages and 0 otherwise."),
		baseURLSetting("Pushover API", "https://api.pushover.net", false),
	}},
	{Name: ChannelGotify, Label: "Gotify", Settings: []ChannelSetting{
		baseURLSetting("Gotify", "https://gotify.example.com", true),
		{Name: "token", Label: "Application token", Type: SettingSecret, Required: true,
			Help: "The token of the Gotify application Nightjar sends as."},
		prioritySetting(0, 10, "0 to 10; empty picks 8 for pages, 5 for tickets and 2 otherwise."),
	}},
	{Name: ChannelMatrix, Label: "Matrix", Settings: []ChannelSetting{
		baseURLSetting("homeserver", "https://matrix.example.org", true),
		{Name: "token", Label: "Access token", Type: SettingSecret, Required: true,
			Help: "The access token of the account Nightjar posts as; it must have joined the room."},
		{Name: "room_id", Label: "Room id", Type: SettingText, Required: true, Placeholder: "!AbCdEf:example.org",
			Help: "The room's internal id (starting with !), found in the room's advanced settings."},
	}},
	{Name: ChannelPagerDuty, Label: "PagerDuty", DefaultBaseURL: "https://events.pagerduty.com", Settings: []ChannelSetting{
		{Name: "routing_key", Label: "Integration key", Type: SettingSecret, Required: true,
			Help: "The Events API v2 integration (routing) key of a PagerDuty service. Firing triggers an incident; resolved resolves it."},
		baseURLSetting("Events API", "https://events.pagerduty.com", false),
	}},
	{Name: ChannelOpsgenie, Label: "Opsgenie", Settings: []ChannelSetting{
		{Name: "api_key", Label: "API key", Type: SettingSecret, Required: true,
			Help: "The key of an API integration. Firing creates an alert; resolved closes it."},
		{Name: "region", Label: "Region", Type: SettingSelect, Options: []string{"us", "eu"},
			Help: "The Opsgenie instance your account is on; empty means us."},
		baseURLSetting("Opsgenie API", "the region's API (https://api.opsgenie.com or https://api.eu.opsgenie.com)", false),
	}},
})

// markSecrets marks every setting of the secret type as secret, so the two
// can never disagree.
func markSecrets(kinds []ChannelKind) []ChannelKind {
	for _, k := range kinds {
		for i := range k.Settings {
			k.Settings[i].Secret = k.Settings[i].Type == SettingSecret
		}
	}
	return kinds
}

// ChannelKinds describes every kind of channel, in the order forms offer
// them. The slice is a copy; changing it changes nothing.
func ChannelKinds() []ChannelKind {
	out := make([]ChannelKind, len(channelKinds))
	for i, k := range channelKinds {
		k.Settings = slices.Clone(k.Settings)
		out[i] = k
	}
	return out
}

// LookupChannelKind returns the kind called name.
func LookupChannelKind(name string) (ChannelKind, bool) {
	i := slices.IndexFunc(channelKinds, func(k ChannelKind) bool { return k.Name == name })
	if i < 0 {
		return ChannelKind{}, false
	}
	return channelKinds[i], true
}

// OpsgenieBaseURL is the API of an Opsgenie region ("" is us).
func OpsgenieBaseURL(region string) string {
	if region == "eu" {
		return "https://api.eu.opsgenie.com"
	}
	return "https://api.opsgenie.com"
}

// BaseURL is the address of the service a channel sends to, without a
// trailing slash: base_url when set, else the service's default
// (Opsgenie's depends on the region).
func (c *Channel) BaseURL() string {
	if c.Config.BaseURL != "" {
		return strings.TrimRight(c.Config.BaseURL, "/")
	}
	if c.Kind == ChannelOpsgenie {
		return OpsgenieBaseURL(c.Config.Region)
	}
	k, _ := LookupChannelKind(c.Kind)
	return k.DefaultBaseURL
}

// textSetting is how one setting stored as a string is read and written
// in the stored configuration and in a patch.
type textSetting struct {
	name  string
	get   func(*ChannelConfig) *string
	patch func(*ChannelConfigPatch) **string
}

// textSettings are the settings stored as one string, in a fixed order so
// the first problem reported is always the same one. The validation, the
// redaction and the patches reach them through this table, so a new
// setting is added in one place.
var textSettings = []textSetting{
	{"url", func(c *ChannelConfig) *string { return &c.URL }, func(p *ChannelConfigPatch) **string { return &p.URL }},
	{"secret", func(c *ChannelConfig) *string { return &c.Secret }, func(p *ChannelConfigPatch) **string { return &p.Secret }},
	{"base_url", func(c *ChannelConfig) *string { return &c.BaseURL }, func(p *ChannelConfigPatch) **string { return &p.BaseURL }},
	{"token", func(c *ChannelConfig) *string { return &c.Token }, func(p *ChannelConfigPatch) **string { return &p.Token }},
	{"chat_id", func(c *ChannelConfig) *string { return &c.ChatID }, func(p *ChannelConfigPatch) **string { return &p.ChatID }},
	{"user_key", func(c *ChannelConfig) *string { return &c.UserKey }, func(p *ChannelConfigPatch) **string { return &p.UserKey }},
	{"room_id", func(c *ChannelConfig) *string { return &c.RoomID }, func(p *ChannelConfigPatch) **string { return &p.RoomID }},
	{"routing_key", func(c *ChannelConfig) *string { return &c.RoutingKey }, func(p *ChannelConfigPatch) **string { return &p.RoutingKey }},
	{"api_key", func(c *ChannelConfig) *string { return &c.APIKey }, func(p *ChannelConfigPatch) **string { return &p.APIKey }},
	{"region", func(c *ChannelConfig) *string { return &c.Region }, func(p *ChannelConfigPatch) **string { return &p.Region }},
}

// lookupTextSetting returns the text setting called name.
func lookupTextSetting(name string) (textSetting, bool) {
	i := slices.IndexFunc(textSettings, func(ts textSetting) bool { return ts.name == name })
	if i < 0 {
		return textSetting{}, false
	}
	return textSettings[i], true
}

// destinationSettings say where a channel's requests go. When one changes,
// the stored secrets are not carried over (see Apply).
var destinationSettings = []string{"url", "base_url", "region"}

// Text returns the setting called name in its text form, as SetText takes
// it: a list joined with commas, a number in decimals, "" for an unset one
// and for names that are not a setting. Secrets are returned too; whoever
// shows the result leaves them out.
func (cfg ChannelConfig) Text(name string) string {
	switch name {
	case "to":
		return strings.Join(cfg.To, ", ")
	case "priority":
		if cfg.Priority == nil {
			return ""
		}
		return strconv.Itoa(*cfg.Priority)
	}
	if ts, ok := lookupTextSetting(name); ok {
		return *ts.get(&cfg)
	}
	return ""
}

// SetText sets the setting called name from its text form, as a form or a
// configuration file gives it: a list is split at commas and spaces, a
// number is parsed ("" leaves it unset).
func (p *ChannelConfigPatch) SetText(name, value string) error {
	field := "config." + name
	switch name {
	case "to":
		list := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
		p.To = &list
		return nil
	case "priority":
		var n *int
		if v := strings.TrimSpace(value); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil {
				return FieldError(field, "must be a whole number")
			}
			n = &i
		}
		p.Priority = &n
		return nil
	}
	ts, ok := lookupTextSetting(name)
	if !ok {
		return FieldError(field, "is not a channel setting")
	}
	*ts.patch(p) = &value
	return nil
}

// Limits on the chat and paging services' settings.
const (
	maxCredential = 512
	maxSettingID  = 255
)

// validateSettings checks the settings of c's kind against their
// descriptions, and refuses settings of other kinds, so a typo or a
// leftover does not go unnoticed.
func (c *Channel) validateSettings(k ChannelKind) error {
	cfg := &c.Config
	for _, ts := range textSettings {
		name, v := ts.name, *ts.get(cfg)
		s, ok := k.Setting(name)
		if !ok {
			if v != "" {
				return FieldError("config."+name, "is not a setting of %s channels", k.Name)
			}
			continue
		}
		if err := s.check(k, v); err != nil {
			return err
		}
	}
	if s, ok := k.Setting("priority"); ok {
		if p := cfg.Priority; p != nil && (*p < s.Min || *p > s.Max) {
			return FieldError("config.priority", "must be from %d to %d for %s channels", s.Min, s.Max, k.Name)
		}
	} else if cfg.Priority != nil {
		return FieldError("config.priority", "is not a setting of %s channels", k.Name)
	}
	if k.Name != ChannelEmail && len(cfg.To) > 0 {
		return FieldError("config.to", "is not a setting of %s channels", k.Name)
	}
	if k.Name != ChannelWebhook && len(cfg.Headers) > 0 {
		return FieldError("config.headers", "only webhook channels take headers")
	}
	return nil
}

// check reports what is wrong with v as the value of s in a channel of
// kind k.
func (s ChannelSetting) check(k ChannelKind, v string) error {
	field := "config." + s.Name
	if v == "" {
		if s.Required {
			return FieldError(field, "is required for %s channels", k.Name)
		}
		return nil
	}
	switch s.Type {
	case SettingURL:
		if err := validateURL(field, v); err != nil {
			return err
		}
		if k.Name == ChannelNtfy && !ntfyTopicURL(v) {
			return FieldError(field, "must end in the topic, as in https://ntfy.sh/my-alerts (letters, digits, - and _, at most 64), without a query")
		}
	case SettingSecret:
		if v == SecretPlaceholder {
			return FieldError(field, "is the placeholder listings show; send the real value, or leave the field out to keep the stored one")
		}
		if s.Name == "secret" {
			if len(v) > maxWebhookSecret {
				return FieldError(field, "must be at most %d bytes", maxWebhookSecret)
			}
			return nil
		}
		// Credentials go into URLs and headers: printable ASCII only.
		if len(v) > maxCredential || !credentialChars(v, "") {
			return FieldError(field, "must be at most %d letters, digits and punctuation, without spaces", maxCredential)
		}
		if k.Name == ChannelTelegram && !telegramToken(v) {
			return FieldError(field, "must look like 123456:ABC-DEF…, the token BotFather gave")
		}
	case SettingSelect:
		if !slices.Contains(s.Options, v) {
			return FieldError(field, "must be one of %s", strings.Join(s.Options, ", "))
		}
	case SettingText:
		if len(v) > maxSettingID || !credentialChars(v, "") {
			return FieldError(field, "must be at most %d letters, digits and punctuation, without spaces", maxSettingID)
		}
		switch s.Name {
		case "chat_id":
			if !telegramChat(v) {
				return FieldError(field, "must be a chat number such as -1001234567890, or @name for a public channel")
			}
		case "room_id":
			if !strings.HasPrefix(v, "!") || len(v) < 2 {
				return FieldError(field, "must be a room id starting with ! (such as !AbCdEf:example.org), not a room alias")
			}
		}
	}
	return nil
}

// credentialChars reports whether s is printable ASCII without spaces (or
// the characters in except).
func credentialChars(s, except string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(except, c) >= 0 {
			return false
		}
	}
	return true
}

// telegramToken reports whether s has the shape of a bot token: the bot's
// number, a colon, and letters, digits, dashes and underscores.
func telegramToken(s string) bool {
	id, secret, ok := strings.Cut(s, ":")
	if !ok || !digits(id) || secret == "" {
		return false
	}
	for i := 0; i < len(secret); i++ {
		c := secret[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// telegramChat reports whether s names a chat: a number (negative for
// groups and channels) or @username.
func telegramChat(s string) bool {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		return len(name) >= 4 && credentialChars(name, "@/?#&%")
	}
	return digits(strings.TrimPrefix(s, "-"))
}

func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ntfyTopicURL reports whether raw ends in an ntfy topic name and has no
// query or fragment (JSON publishing goes to the server's root, so they
// would be lost).
func ntfyTopicURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	path := strings.TrimRight(u.Path, "/")
	topic := path[strings.LastIndexByte(path, '/')+1:]
	if topic == "" || len(topic) > 64 {
		return false
	}
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Destination names where a channel delivers, for listings: the URL, the
// addresses, the chat or room, or the service. It shows no secret; call it
// on a Redacted channel to mask the URL's tokens too.
func (c Channel) Destination() string {
	cfg := c.Config
	var at string
	if cfg.BaseURL != "" {
		at = " at " + cfg.BaseURL
	}
	switch c.Kind {
	case ChannelEmail:
		return strings.Join(cfg.To, ", ")
	case ChannelTelegram:
		return "chat " + cfg.ChatID + at
	case ChannelMatrix:
		return "room " + cfg.RoomID + at
	case ChannelGotify:
		return cfg.BaseURL
	case ChannelOpsgenie:
		if at == "" && cfg.Region != "" {
			at = " (" + cfg.Region + ")"
		}
	}
	if cfg.URL != "" {
		return cfg.URL
	}
	k, _ := LookupChannelKind(c.Kind)
	return strings.TrimSpace(k.Label + at)
}

package nightjar

import (
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Channel kinds.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// Limits on a channel's settings. They are generous for real receivers and
// keep a channel row, and every request made from it, small.
const (
	maxChannelName   = 100
	maxWebhookURL    = 2048
	maxWebhookSecret = 256
	maxHeaders       = 20
	maxHeaderName    = 100
	maxHeaderValue   = 4096
	maxRecipients    = 50
)

// SecretPlaceholder is what listings show in place of a secret. It is
// refused as a secret or header value, so a listing sent back unchanged
// cannot replace a real secret with the placeholder.
const SecretPlaceholder = "<redacted>"

// Channel is a destination for a project's notifications.
type Channel struct {
	ID        string        `json:"id"`
	ProjectID string        `json:"project_id"`
	Kind      string        `json:"kind"`
	Name      string        `json:"name"`
	Config    ChannelConfig `json:"config"`
	CreatedAt time.Time     `json:"created_at"`
}

// ChannelConfig holds the settings of every kind of channel; only those of
// the channel's kind are used.
type ChannelConfig struct {
	// Webhook.
	URL     string            `json:"url,omitempty"`
	Secret  string            `json:"secret,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Email.
	To []string `json:"to,omitempty"`
	// The chat and paging services (see ChannelKinds for which kind takes
	// which). URL above is also the Slack, Discord and Teams webhook URL
	// and the ntfy topic URL.
	BaseURL    string `json:"base_url,omitempty"`
	Token      string `json:"token,omitempty"`
	ChatID     string `json:"chat_id,omitempty"`
	UserKey    string `json:"user_key,omitempty"`
	RoomID     string `json:"room_id,omitempty"`
	RoutingKey string `json:"routing_key,omitempty"`
	APIKey     string `json:"api_key,omitempty"`
	Region     string `json:"region,omitempty"`
	Priority   *int   `json:"priority,omitempty"`
}

// Validate reports the first problem with the channel's fields. The API,
// the console and the configuration file all save channels through it, so
// a setting that would only fail at delivery time is refused when saved,
// the same way everywhere.
func (c *Channel) Validate() error {
	if e := checkText("name", c.Name, MaxNameLength); e != nil {
		return e
	} else if strings.TrimSpace(c.Name) == "" {
		return FieldError("name", "must not be empty")
	} else if utf8.RuneCountInString(c.Name) > maxChannelName {
		return FieldError("name", "must be at most %d characters", maxChannelName)
	} else if !printable(c.Name) {
		return FieldError("name", "must be valid UTF-8 without control characters")
	}
	if e := c.Config.validateText(); e != nil {
		return e
	}
	k, ok := LookupChannelKind(c.Kind)
	if !ok {
		names := make([]string, len(channelKinds))
		for i, k := range channelKinds {
			names[i] = k.Name
		}
		return FieldError("kind", "must be one of %s", strings.Join(names, ", "))
	}
	if err := c.validateSettings(k); err != nil {
		return err
	}
	switch c.Kind {
	case ChannelWebhook:
		return ValidateWebhookHeaders(c.Config.Headers)
	case ChannelEmail:
		if len(c.Config.To) == 0 {
			return FieldError("config.to", "must list at least one address")
		} else if len(c.Config.To) > maxRecipients {
			return FieldError("config.to", "must list at most %d addresses", maxRecipients)
		}
		for _, a := range c.Config.To {
			if _, err := mail.ParseAddress(a); err != nil || !printable(a) {
				return FieldError("config.to", "%q is not an email address", a)
			}
		}
	}
	return nil
}

// ChannelPatch is a change to a channel's settings; a nil field keeps
// what is stored. Every way in — the API's create and PATCH, the console's
// forms, a configuration file — translates its format into a ChannelPatch
// and hands it to Apply, so all follow the same rules, about secrets too.
type ChannelPatch struct {
	// Kind changes the channel's kind; the old kind's settings are then
	// dropped, none carried over.
	Kind   *string            `json:"kind"`
	Name   *string            `json:"name"`
	Config ChannelConfigPatch `json:"config"`
}

// ChannelConfigPatch is the settings part of a ChannelPatch.
type ChannelConfigPatch struct {
	URL *string `json:"url"`
	// Secret replaces the signing secret; "" removes it.
	Secret *string `json:"secret"`
	// Headers replaces all extra headers; an empty map removes them.
	Headers *map[string]string `json:"headers"`
	To      *[]string          `json:"to"`
	// The chat and paging services' settings; for the secret ones (token,
	// user_key, routing_key, api_key) "" removes the stored value.
	BaseURL    *string `json:"base_url"`
	Token      *string `json:"token"`
	ChatID     *string `json:"chat_id"`
	UserKey    *string `json:"user_key"`
	RoomID     *string `json:"room_id"`
	RoutingKey *string `json:"routing_key"`
	APIKey     *string `json:"api_key"`
	Region     *string `json:"region"`
	// Priority replaces the priority; a pointer to nil removes it.
	Priority **int `json:"priority"`
}

// Apply changes c as u says and validates the result. A new channel is
// a zero Channel of its project with a patch applied.
//
// The stored signing secret and header values were given for one
// destination. When u changes the webhook's URL they are not carried over
// silently, or whoever may edit a channel could aim its credentials at a
// server of their own: u must give them again (an empty secret or empty
// headers remove them), or Apply refuses with the field to give.
func (c *Channel) Apply(u ChannelPatch) error {
	old := *c
	if u.Kind != nil && *u.Kind != c.Kind {
		c.Kind, c.Config = *u.Kind, ChannelConfig{}
	}
	set(&c.Name, u.Name)
	cfg := u.Config
	for _, ts := range textSettings {
		set(ts.get(&c.Config), *ts.patch(&cfg))
	}
	if cfg.Headers != nil {
		c.Config.Headers = *cfg.Headers
		if len(c.Config.Headers) == 0 {
			c.Config.Headers = nil
		}
	}
	set(&c.Config.To, cfg.To)
	set(&c.Config.Priority, cfg.Priority)
	if c.Kind == old.Kind {
		if err := keepSecretsHome(old, c, &cfg); err != nil {
			return err
		}
	}
	return c.Validate()
}

// keepSecretsHome refuses to carry the stored credentials of a channel
// over to a new destination (a changed url, base_url or region): the patch
// must give each again, or remove it.
func keepSecretsHome(old Channel, c *Channel, p *ChannelConfigPatch) error {
	i := slices.IndexFunc(destinationSettings, func(name string) bool {
		ts, _ := lookupTextSetting(name)
		return *ts.get(&old.Config) != *ts.get(&c.Config)
	})
	if i < 0 {
		return nil
	}
	moved := "config." + destinationSettings[i]
	k, _ := LookupChannelKind(c.Kind)
	for _, s := range k.Settings {
		ts, ok := lookupTextSetting(s.Name)
		if s.Secret && ok && *ts.get(&old.Config) != "" && *ts.patch(p) == nil {
			return FieldError("config."+s.Name, "must be given again because %s changed: a stored secret is never sent to a new destination (give \"\" to remove it)", moved)
		}
	}
	if c.Kind == ChannelWebhook && len(old.Config.Headers) > 0 && p.Headers == nil {
		return FieldError("config.headers", "must be given again because %s changed: stored header values are never sent to a new destination (give {} to remove them)", moved)
	}
	return nil
}

// WithoutSecrets returns a copy of c fit to show to anyone who may edit
// the channel: every secret setting (a signing secret, a token, a key) and
// the header values are replaced by SecretPlaceholder (set, but never
// shown again); URLs stay, so they can be checked and corrected.
func (c Channel) WithoutSecrets() Channel {
	k, _ := LookupChannelKind(c.Kind)
	for _, ts := range textSettings {
		if !secretSetting(k, ts.name) {
			continue
		}
		if v := ts.get(&c.Config); *v != "" {
			*v = SecretPlaceholder
		}
	}
	if len(c.Config.Headers) > 0 {
		h := make(map[string]string, len(c.Config.Headers))
		for name := range c.Config.Headers {
			h[name] = SecretPlaceholder
		}
		c.Config.Headers = h
	}
	if c.Config.To != nil {
		c.Config.To = append([]string(nil), c.Config.To...)
	}
	return c
}

// Redacted returns a copy of c fit to show to viewers and in API answers:
// besides the secrets, the URL's tokens are masked (see RedactURL), since
// webhook URLs often carry a credential of their own.
func (c Channel) Redacted() Channel {
	c = c.WithoutSecrets()
	for _, u := range []*string{&c.Config.URL, &c.Config.BaseURL} {
		if *u != "" {
			*u = RedactURL(*u)
		}
	}
	return c
}

// RedactURL masks the parts of a URL that often carry credentials, keeping
// enough to recognise the destination: scheme, host and port, and the path
// segments that look like plain words. Other segments (ids and tokens:
// anything with a digit or a capital, or longer than 24 characters), query
// values, the fragment and any user information become "…".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "…"
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://" + u.Host)
	for _, seg := range strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if plainWord(seg) {
			b.WriteString(seg)
		} else {
			b.WriteString("…")
		}
	}
	if u.RawQuery != "" {
		sep := "?"
		for _, kv := range strings.Split(u.RawQuery, "&") {
			key, _, _ := strings.Cut(kv, "=")
			b.WriteString(sep)
			if plainWord(key) {
				b.WriteString(key + "=…")
			} else {
				b.WriteString("…")
			}
			sep = "&"
		}
	}
	return b.String()
}

// plainWord reports whether a URL part looks like a word rather than an id
// or a token: up to 24 lower-case letters, dashes, dots and underscores.
func plainWord(s string) bool {
	if s == "" || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// ValidateWebhookURL reports what is wrong with a webhook's URL. Credentials
// in the URL (user:pass@) are refused: they would be shown wherever the URL
// is, while a header or the signing secret is never shown again.
func ValidateWebhookURL(raw string) error {
	return validateURL("config.url", raw)
}

// validateURL reports what is wrong with field as the URL of a service.
func validateURL(field, raw string) error {
	if len(raw) > maxWebhookURL {
		return FieldError(field, "must be at most %d bytes", maxWebhookURL)
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 || !utf8.ValidString(raw) {
		return FieldError(field, "must not contain spaces or control characters; percent-encode them")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return FieldError(field, "must be an absolute http or https URL, e.g. https://example.com/alerts")
	}
	if u.User != nil {
		return FieldError(field, "must not contain a user name or password; send credentials in a header (config.headers) or sign with config.secret")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return FieldError(field, "port must be a number from 1 to 65535")
		}
	}
	return nil
}

// reservedHeaders are headers a channel may not set: those Nightjar sets on
// every request (overriding them would void the signature and idempotency
// guarantees), those the HTTP client derives from the request itself, and
// hop-by-hop headers, which concern one connection and not the receiver.
// Every X-Nightjar- header is reserved too, for Nightjar's future use.
var reservedHeaders = map[string]string{
	"content-type":        "is set by Nightjar",
	"user-agent":          "is set by Nightjar",
	"idempotency-key":     "is set by Nightjar",
	"host":                "is derived from config.url",
	"content-length":      "is derived from the request body",
	"content-encoding":    "is derived from the request body",
	"transfer-encoding":   "is a hop-by-hop header",
	"connection":          "is a hop-by-hop header",
	"keep-alive":          "is a hop-by-hop header",
	"proxy-connection":    "is a hop-by-hop header",
	"proxy-authenticate":  "is a hop-by-hop header",
	"proxy-authorization": "is a hop-by-hop header",
	"te":                  "is a hop-by-hop header",
	"trailer":             "is a hop-by-hop header",
	"upgrade":             "is a hop-by-hop header",
	"expect":              "would make the request wait for an interim answer",
}

// ValidateWebhookHeaders reports what is wrong with a webhook's extra
// headers, naming the header: a name that is not an HTTP token, a name
// Nightjar or the HTTP client sets, the same name twice in different case,
// or a value with a line break or another control character (which would
// let it inject headers of its own).
func ValidateWebhookHeaders(h map[string]string) error {
	const field = "config.headers"
	if len(h) > maxHeaders {
		return FieldError(field, "must have at most %d headers", maxHeaders)
	}
	seen := make(map[string]string, len(h))
	for name, value := range h {
		if !isToken(name) || len(name) > maxHeaderName {
			return FieldError(field, "%q is not a valid header name: use at most %d letters, digits and !#$%%&'*+-.^_`|~, without spaces", name, maxHeaderName)
		}
		lower := strings.ToLower(name)
		if why, ok := reservedHeaders[lower]; ok {
			return FieldError(field, "%s cannot be set: it %s", name, why)
		}
		if strings.HasPrefix(lower, "x-nightjar-") {
			return FieldError(field, "%s cannot be set: X-Nightjar- headers are set by Nightjar", name)
		}
		if other, dup := seen[lower]; dup {
			return FieldError(field, "%s and %s are the same header; give it once", other, name)
		}
		seen[lower] = name
		if len(value) > maxHeaderValue {
			return FieldError(field, "the value of %s must be at most %d bytes", name, maxHeaderValue)
		}
		if !utf8.ValidString(value) || strings.IndexFunc(value, func(r rune) bool { return r != '\t' && unicode.IsControl(r) }) >= 0 {
			return FieldError(field, "the value of %s must be valid UTF-8 without line breaks or other control characters", name)
		}
		if value == SecretPlaceholder {
			return FieldError(field, "the value of %s is the placeholder listings show; send the real value", name)
		}
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2),
// the syntax of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

// validateText reports the first setting that is not valid text. Headers
// are a webhook's alone and ValidateWebhookHeaders holds them to stricter
// rules.
func (cfg *ChannelConfig) validateText() *Error {
	if !allValidText(cfg.To) {
		return TextFieldError("config.to")
	}
	for _, ts := range textSettings {
		if !ValidText(*ts.get(cfg)) {
			return TextFieldError("config." + ts.name)
		}
	}
	return nil
}

// secretSetting reports whether name is a secret setting of kind k. Every
// secret setting is secret whatever the kind, so an unknown kind keeps
// them hidden too.
func secretSetting(k ChannelKind, name string) bool {
	if s, ok := k.Setting(name); ok {
		return s.Secret
	}
	for _, k := range channelKinds {
		if s, ok := k.Setting(name); ok && s.Secret {
			return true
		}
	}
	return false
}

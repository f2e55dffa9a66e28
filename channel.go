package nightjar

import (
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Channel kinds.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

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
}

// Validate reports the first problem with the channel's fields.
func (c *Channel) Validate() error {
	if e := checkText("name", c.Name, MaxNameLength); e != nil {
		return e
	} else if strings.TrimSpace(c.Name) == "" {
		return FieldError("name", "must not be empty")
	}
	if e := c.Config.validateText(); e != nil {
		return e
	}
	switch c.Kind {
	case ChannelWebhook:
		u, err := url.Parse(c.Config.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return FieldError("config.url", "must be an absolute http or https URL")
		}
	case ChannelEmail:
		if len(c.Config.To) == 0 {
			return FieldError("config.to", "must list at least one address")
		}
		for _, a := range c.Config.To {
			if _, err := mail.ParseAddress(a); err != nil {
				return FieldError("config.to", "%q is not an email address", a)
			}
		}
	default:
		return FieldError("kind", "must be one of webhook, email")
	}
	return nil
}

// validateText reports the first setting that is not valid text. A
// header is named with its name, as the JSON body nests it.
func (cfg *ChannelConfig) validateText() *Error {
	switch {
	case !ValidText(cfg.URL):
		return TextFieldError("config.url")
	case !ValidText(cfg.Secret):
		return TextFieldError("config.secret")
	case !allValidText(cfg.To):
		return TextFieldError("config.to")
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Headers)) {
		if !ValidText(name) {
			return TextFieldError("config.headers")
		}
		if !ValidText(cfg.Headers[name]) {
			return TextFieldError("config.headers." + name)
		}
	}
	return nil
}

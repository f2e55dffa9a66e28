package nightjar

import (
	"net/mail"
	"net/url"
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
}

// Validate reports the first problem with the channel's fields. The API,
// the console and the configuration file all save channels through it, so
// a setting that would only fail at delivery time is refused when saved,
// the same way everywhere.
func (c *Channel) Validate() error {
	if strings.TrimSpace(c.Name) == "" {
		return FieldError("name", "must not be empty")
	} else if utf8.RuneCountInString(c.Name) > maxChannelName {
		return FieldError("name", "must be at most %d characters", maxChannelName)
	} else if !printable(c.Name) {
		return FieldError("name", "must be valid UTF-8 without control characters")
	}
	switch c.Kind {
	case ChannelWebhook:
		if err := ValidateWebhookURL(c.Config.URL); err != nil {
			return err
		}
		if len(c.Config.Secret) > maxWebhookSecret {
			return FieldError("config.secret", "must be at most %d bytes", maxWebhookSecret)
		} else if c.Config.Secret == SecretPlaceholder {
			return FieldError("config.secret", "is the placeholder listings show; send the real secret, or leave the field out to keep the stored one")
		}
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
	default:
		return FieldError("kind", "must be one of webhook, email")
	}
	return nil
}

// ValidateWebhookURL reports what is wrong with a webhook's URL. Credentials
// in the URL (user:pass@) are refused: they would be shown wherever the URL
// is, while a header or the signing secret is never shown again.
func ValidateWebhookURL(raw string) error {
	const field = "config.url"
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

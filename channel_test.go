package nightjar_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/nightjar-dev/nightjar"
)

func webhookChannel(url string, headers map[string]string) *nightjar.Channel {
	return &nightjar.Channel{Kind: nightjar.ChannelWebhook, Name: "ops", Config: nightjar.ChannelConfig{URL: url, Headers: headers}}
}

// Settings that would only fail, or misbehave, at delivery are refused when
// the channel is saved, with the field and the reason.
func TestChannelValidateRefusesWhatDeliveryCannotSend(t *testing.T) {
	long := strings.Repeat("a", 5000)
	for _, tc := range []struct {
		name       string
		ch         *nightjar.Channel
		field, msg string
	}{
		{"signature header", webhookChannel("https://h.example/x", map[string]string{"X-Nightjar-Signature": "v1=00"}), "config.headers", "X-Nightjar-Signature cannot be set"},
		{"timestamp header, any case", webhookChannel("https://h.example/x", map[string]string{"x-nightjar-timestamp": "1"}), "config.headers", "x-nightjar-timestamp cannot be set"},
		{"future nightjar header", webhookChannel("https://h.example/x", map[string]string{"X-Nightjar-Anything": "1"}), "config.headers", "X-Nightjar-"},
		{"idempotency key", webhookChannel("https://h.example/x", map[string]string{"Idempotency-Key": "1"}), "config.headers", "set by Nightjar"},
		{"content type", webhookChannel("https://h.example/x", map[string]string{"Content-Type": "text/plain"}), "config.headers", "set by Nightjar"},
		{"user agent", webhookChannel("https://h.example/x", map[string]string{"User-Agent": "x"}), "config.headers", "set by Nightjar"},
		{"host", webhookChannel("https://h.example/x", map[string]string{"Host": "evil.example"}), "config.headers", "Host cannot be set"},
		{"content length", webhookChannel("https://h.example/x", map[string]string{"Content-Length": "0"}), "config.headers", "Content-Length cannot be set"},
		{"transfer encoding", webhookChannel("https://h.example/x", map[string]string{"Transfer-Encoding": "chunked"}), "config.headers", "hop-by-hop"},
		{"connection", webhookChannel("https://h.example/x", map[string]string{"Connection": "close"}), "config.headers", "hop-by-hop"},
		{"upgrade", webhookChannel("https://h.example/x", map[string]string{"Upgrade": "h2c"}), "config.headers", "hop-by-hop"},
		{"value with CR LF", webhookChannel("https://h.example/x", map[string]string{"X-Token": "a\r\nX-Evil: 1"}), "config.headers", "line breaks"},
		{"value with LF", webhookChannel("https://h.example/x", map[string]string{"X-Token": "a\nb"}), "config.headers", "line breaks"},
		{"value with NUL", webhookChannel("https://h.example/x", map[string]string{"X-Token": "a\x00b"}), "config.headers", "control characters"},
		{"value not UTF-8", webhookChannel("https://h.example/x", map[string]string{"X-Token": "a\xffb"}), "config.headers", "UTF-8"},
		{"value too long", webhookChannel("https://h.example/x", map[string]string{"X-Token": long}), "config.headers", "at most 4096"},
		{"placeholder value", webhookChannel("https://h.example/x", map[string]string{"Authorization": nightjar.SecretPlaceholder}), "config.headers", "placeholder"},
		{"name with a space", webhookChannel("https://h.example/x", map[string]string{"X Token": "1"}), "config.headers", `"X Token" is not a valid header name`},
		{"name with a colon", webhookChannel("https://h.example/x", map[string]string{"X-Token:": "1"}), "config.headers", "not a valid header name"},
		{"empty name", webhookChannel("https://h.example/x", map[string]string{"": "1"}), "config.headers", "not a valid header name"},
		{"same name twice", webhookChannel("https://h.example/x", map[string]string{"X-Token": "1", "x-token": "2"}), "config.headers", "same header"},
		{"user and password in url", webhookChannel("https://user:pass@h.example/x", nil), "config.url", "user name or password"},
		{"user in url", webhookChannel("https://token@h.example/x", nil), "config.url", "user name or password"},
		{"space in url", webhookChannel("https://h.example/a b", nil), "config.url", "spaces"},
		{"newline in url", webhookChannel("https://h.example/a\nb", nil), "config.url", "control characters"},
		{"not http", webhookChannel("ftp://h.example/x", nil), "config.url", "http or https"},
		{"no host", webhookChannel("https:///x", nil), "config.url", "http or https"},
		{"port out of range", webhookChannel("https://h.example:99999/x", nil), "config.url", "port"},
		{"url too long", webhookChannel("https://h.example/"+long, nil), "config.url", "at most 2048"},
		{"placeholder secret", &nightjar.Channel{Kind: nightjar.ChannelWebhook, Name: "ops", Config: nightjar.ChannelConfig{URL: "https://h.example/x", Secret: nightjar.SecretPlaceholder}}, "config.secret", "placeholder"},
		{"name with a newline", &nightjar.Channel{Kind: nightjar.ChannelEmail, Name: "ops\nteam", Config: nightjar.ChannelConfig{To: []string{"a@example.com"}}}, "name", "control characters"},
		{"address with a newline", &nightjar.Channel{Kind: nightjar.ChannelEmail, Name: "ops", Config: nightjar.ChannelConfig{To: []string{"a@example.com\r\nBcc: b@example.com"}}}, "config.to", "not an email address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ch.Validate()
			if nightjar.ErrorCode(err) != nightjar.EINVALID || nightjar.ErrorField(err) != tc.field || !strings.Contains(nightjar.ErrorMessage(err), tc.msg) {
				t.Fatalf("Validate = %v, want an invalid %s error mentioning %q", err, tc.field, tc.msg)
			}
		})
	}
	ok := webhookChannel("https://hooks.example.com:8443/services/T0/B0/x?token=1", map[string]string{"Authorization": "Bearer abc", "X-Team": "ops\tteam"})
	if err := ok.Validate(); err != nil {
		t.Fatalf("a valid webhook channel: %v", err)
	}
}

// FuzzChannelValidate checks that a webhook channel Validate accepts can be
// sent exactly as configured: its request serialises and parses back with
// the same URL host and the same headers, none added, none lost.
func FuzzChannelValidate(f *testing.F) {
	for _, s := range [][3]string{
		{"https://h.example/x", "Authorization", "Bearer t"},
		{"https://h.example/x", "X-Token", "a\r\nX-Evil: 1"},
		{"https://u:p@h.example/x", "X-A", "1"},
		{"http://h.example:8080/p?q=1#f", "X Bad", "1"},
		{"https://h.example/x", "Host", "evil.example"},
		{"https://h.example/x", "X-Tab", "a\tb"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, url, name, value string) {
		ch := webhookChannel(url, map[string]string{name: value})
		if ch.Validate() != nil {
			return
		}
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
		if err != nil {
			t.Fatalf("accepted url %q does not make a request: %v", url, err)
		}
		req.Header.Set(name, value)
		var buf bytes.Buffer
		if err := req.Write(&buf); err != nil {
			t.Fatalf("accepted header %q: %q does not serialise: %v", name, value, err)
		}
		back, err := http.ReadRequest(bufio.NewReader(&buf))
		if err != nil {
			t.Fatalf("accepted %q %q: %q: request does not parse back: %v", url, name, value, err)
		}
		want := http.Header{"Content-Length": {"2"}, "User-Agent": {"Go-http-client/1.1"}}
		want.Set(name, value)
		if len(back.Header) != len(want) {
			t.Fatalf("accepted %q: %q: headers sent %v, want %v", name, value, back.Header, want)
		}
		if got := back.Header.Get(name); got != strings.Trim(value, " \t") {
			t.Fatalf("header %q: sent %q, received %q", name, value, got)
		}
		if back.Host != req.URL.Host {
			t.Fatalf("url %q: host %q, received %q", url, req.URL.Host, back.Host)
		}
	})
}

// Apply carries a stored secret and headers over only while the webhook's
// URL stays the same.
func TestChannelApplyKeepsSecretsOnlyForTheSameURL(t *testing.T) {
	str := func(s string) *string { return &s }
	stored := func() *nightjar.Channel {
		return &nightjar.Channel{Kind: nightjar.ChannelWebhook, Name: "ops", Config: nightjar.ChannelConfig{
			URL: "https://a.example/hook", Secret: "s", Headers: map[string]string{"Authorization": "Bearer t"}}}
	}
	for _, tc := range []struct {
		name  string
		u     nightjar.ChannelPatch
		field string // "" when accepted
		want  nightjar.ChannelConfig
	}{
		{name: "rename", u: nightjar.ChannelPatch{Name: str("ops-2")},
			want: nightjar.ChannelConfig{URL: "https://a.example/hook", Secret: "s", Headers: map[string]string{"Authorization": "Bearer t"}}},
		{name: "same url restated", u: nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{URL: str("https://a.example/hook")}},
			want: nightjar.ChannelConfig{URL: "https://a.example/hook", Secret: "s", Headers: map[string]string{"Authorization": "Bearer t"}}},
		{name: "new url alone", u: nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{URL: str("https://b.example/hook")}}, field: "config.secret"},
		{name: "new path alone", u: nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{URL: str("https://a.example/other")}}, field: "config.secret"},
		{name: "new url and secret", u: nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{URL: str("https://b.example/hook"), Secret: str("s2")}}, field: "config.headers"},
		{name: "new url, secrets dropped", u: nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{URL: str("https://b.example/hook"), Secret: str(""), Headers: &map[string]string{}}},
			want: nightjar.ChannelConfig{URL: "https://b.example/hook"}},
		{name: "new url, secrets restated", u: nightjar.ChannelPatch{Config: nightjar.ChannelConfigPatch{URL: str("https://b.example/hook"), Secret: str("s2"), Headers: &map[string]string{"X-Key": "k"}}},
			want: nightjar.ChannelConfig{URL: "https://b.example/hook", Secret: "s2", Headers: map[string]string{"X-Key": "k"}}},
		{name: "to email", u: nightjar.ChannelPatch{Kind: str(nightjar.ChannelEmail), Config: nightjar.ChannelConfigPatch{To: &[]string{"ops@example.com"}}},
			want: nightjar.ChannelConfig{To: []string{"ops@example.com"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := stored()
			err := ch.Apply(tc.u)
			if tc.field != "" {
				if nightjar.ErrorField(err) != tc.field || !strings.Contains(nightjar.ErrorMessage(err), "config.url changed") {
					t.Fatalf("Apply = %v, want a %s error", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(ch.Config), fmt.Sprint(tc.want); got != want {
				t.Fatalf("config %s, want %s", got, want)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX": "https://hooks.slack.com/services/…/…/…",
		"https://discord.com/api/webhooks/123456/abcDEF-token":                          "https://discord.com/api/webhooks/…/…",
		"https://h.example:8443/alerts/nightjar?token=abc&team=ops":                     "https://h.example:8443/alerts/nightjar?token=…&team=…",
		"https://user:pw@h.example/x#frag":                                              "https://h.example/x",
		"https://h.example/a-very-long-plain-word-indeed-longer-than-that":              "https://h.example/…",
		"https://h.example": "https://h.example",
		"not a url":         "…",
	} {
		if got := nightjar.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

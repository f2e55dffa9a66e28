package main

import (
	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/notify"
	"github.com/nightjar-dev/nightjar/notify/email"
)

// newEmailNotifier sends a channel's notifications through the configured
// SMTP server. Mail relays often live on internal networks, so email is not
// subject to the outbound network guard.
func newEmailNotifier(cfg *config.Config, ch *nightjar.Channel) (notify.Notifier, error) {
	ec := email.Config{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: string(cfg.SMTP.Password),
		From: cfg.SMTP.From, To: ch.Config.To, StartTLS: email.StartTLSMode(cfg.SMTP.StartTLS), TLS: cfg.SMTP.TLS,
	}
	if err := ec.Validate(); err != nil {
		return nil, err
	}
	return email.New(ec), nil
}

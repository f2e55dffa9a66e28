package main

import (
	"errors"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/config"
	"github.com/nightjar-dev/nightjar/notify"
)

func newEmailNotifier(cfg *config.Config, ch *nightjar.Channel) (notify.Notifier, error) {
	return nil, errors.New("email channels are not wired yet")
}

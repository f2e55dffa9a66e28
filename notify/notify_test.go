package notify_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/nightjar-dev/nightjar"
	"github.com/nightjar-dev/nightjar/notify"
)

func fixed(r float64) func() float64 { return func() float64 { return r } }

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{attempt: 1, rnd: 0, want: 5 * time.Second},
		{attempt: 1, rnd: 0.5, want: 7500 * time.Millisecond},
		{attempt: 2, rnd: 0, want: 10 * time.Second},
		{attempt: 3, rnd: 0, want: 20 * time.Second},
		{attempt: 4, rnd: 0, want: 40 * time.Second},
		{attempt: 9, rnd: 0, want: 1280 * time.Second},
		{attempt: 10, rnd: 0, want: 30 * time.Minute}, // 5120s capped at 1h, halved
		{attempt: 10, rnd: 0.999999, want: 30*time.Minute + time.Duration(0.999999*float64(30*time.Minute))},
		{attempt: 64, rnd: 0, want: 30 * time.Minute},
		{attempt: math.MaxInt, rnd: 0, want: 30 * time.Minute},
		{attempt: 0, rnd: 0, want: 5 * time.Second},
		{attempt: -3, rnd: 0, want: 5 * time.Second},
		// Out-of-range jitter sources are clamped instead of trusted.
		{attempt: 1, rnd: -1, want: 5 * time.Second},
		{attempt: 1, rnd: 1, want: 5 * time.Second},
		{attempt: 1, rnd: math.NaN(), want: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("attempt=%d/rnd=%v", tt.attempt, tt.rnd), func(t *testing.T) {
			if got := notify.Backoff(tt.attempt, fixed(tt.rnd)); got != tt.want {
				t.Errorf("Backoff(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestBackoffBoundsWithRandomJitter(t *testing.T) {
	for attempt := 1; attempt <= 30; attempt++ {
		full := min(notify.BackoffBase<<min(attempt-1, 20), notify.BackoffMax)
		for range 50 {
			got := notify.Backoff(attempt, nil)
			if got < full/2 || got >= full {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v)", attempt, got, full/2, full)
			}
		}
	}
}

func TestRetryDelay(t *testing.T) {
	base := errors.New("receiver busy")
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{name: "plain error uses backoff", err: base, want: 5 * time.Second},
		{name: "nil error uses backoff", err: nil, want: 5 * time.Second},
		{name: "longer retry-after wins", err: &notify.RetryAfterError{After: 2 * time.Minute, Err: base}, want: 2 * time.Minute},
		{name: "shorter retry-after loses", err: &notify.RetryAfterError{After: time.Second, Err: base}, want: 5 * time.Second},
		{name: "wrapped retry-after is found", err: fmt.Errorf("webhook: %w", &notify.RetryAfterError{After: time.Minute}), want: time.Minute},
		{name: "retry-after is capped", err: &notify.RetryAfterError{After: 48 * time.Hour}, want: notify.BackoffMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.RetryDelay(1, tt.err, fixed(0)); got != tt.want {
				t.Errorf("RetryDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRetryAfterErrorUnwraps(t *testing.T) {
	base := errors.New("status 429")
	err := error(&notify.RetryAfterError{After: 30 * time.Second, Err: base})
	if !errors.Is(err, base) {
		t.Fatal("errors.Is does not see the wrapped error")
	}
	if got, want := err.Error(), "status 429 (retry after 30s)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// A message's key is the one its producer chose, else its id.
func TestMessageKey(t *testing.T) {
	if k := (notify.Message{ID: "m1"}).Key(); k != "m1" {
		t.Errorf("key without an idempotency key = %q, want the id", k)
	}
	if k := (notify.Message{ID: "m1", IdempotencyKey: "alert-7"}).Key(); k != "alert-7" {
		t.Errorf("key = %q, want the idempotency key", k)
	}
}

// Alert events come from the constants, whatever the alert's status.
func TestAlertEvent(t *testing.T) {
	for status, want := range map[nightjar.AlertStatus]string{
		nightjar.AlertFiring:   notify.EventAlertFiring,
		nightjar.AlertResolved: notify.EventAlertResolved,
	} {
		if got := notify.AlertEvent(status); got != want {
			t.Errorf("AlertEvent(%s) = %q, want %q", status, got, want)
		}
	}
}

// An incident's page is as urgent as a firing page wherever a service has
// priorities (ntfy, Gotify, Pushover, Opsgenie, chat colours), whatever the
// severity of the alert it carries; its ticket ranks as a ticket.
func TestSeverityRank(t *testing.T) {
	msg := func(event string, sev nightjar.Severity) notify.Message {
		return notify.Message{Event: event, Alert: nightjar.Alert{Severity: sev}}
	}
	for _, c := range []struct {
		msg  notify.Message
		want int
	}{
		{msg(notify.EventAlertFiring, nightjar.SeverityPage), 2},
		{msg(notify.EventAlertFiring, nightjar.SeverityTicket), 1},
		{msg(notify.EventAlertFiring, nightjar.SeverityInfo), 0},
		{msg(notify.EventIncidentPage, nightjar.SeverityInfo), 2},
		{msg(notify.EventIncidentPage, nightjar.SeverityPage), 2},
		{msg(notify.EventIncidentTicket, nightjar.SeverityPage), 1},
		{msg(notify.EventIncidentAcknowledged, nightjar.SeverityPage), 0},
		{msg(notify.EventIncidentResolved, nightjar.SeverityPage), 0},
		{msg(notify.EventAlertResolved, nightjar.SeverityPage), 0},
		{msg(notify.EventTest, nightjar.SeverityPage), 0},
	} {
		if got := notify.SeverityRank(c.msg); got != c.want {
			t.Errorf("SeverityRank(%s, %s) = %d, want %d", c.msg.Event, c.msg.Alert.Severity, got, c.want)
		}
	}
}
